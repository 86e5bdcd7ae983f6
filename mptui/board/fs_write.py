"""Writes to the board's filesystem (BoardFS's part, a mixin): atomic, checked on the board
before they replace the old file; one damaged on the way is sent again, up to WRITE_TRIES
times, then one line. Through the helper's pipelined stream (batch.py), the file channel
(fs_channel.py) or plain raw-REPL code (fs_plain.py); a clean-up lost on the way is made again
at the end of the operation. A session's first write of data that does not compress, the
board not probed yet (a command line's `cp`), sends the stream's write function with its call
instead (helper.one_shot_write): what it did not write goes the usual way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mptui.board import fs_channel
from mptui.board import fs_plain as plain
from mptui.board.adapt import Caps
from mptui.board.batch import IntoFolder, Item, WriteBatch, deflates
from mptui.board.errors import BoardDisconnected, BoardError, BoardExecError, Damaged
from mptui.board.fs_plain import TMP_SUFFIX, Progress, board_path
from mptui.board.repl import Repl
from mptui.transports.base import FileChannel

if TYPE_CHECKING:
    from mptui.board.session import Session

logger = logging.getLogger("mptui.board.fs")
WRITE_TRIES = 3  # a write damaged on the way is sent this often before it fails
# What the one-shot write function asks of a board (else it fails before its stream), and
# the heap it assumes, unasked: small (an ESP8266's after its code: a unit of 256 at most)
ONE_SHOT = Caps(free=16 * 1024, sha256=True, stdout_buffer=True)
COLD_WBITS = 15  # data that this window does not deflate goes one-shot


class BoardFSWrites:
    """write and write_many, for BoardFS (which gives session, _channel, _can_hash, _op)."""

    session: Session

    _one_shot_done: bool

    if TYPE_CHECKING:
        def _channel(self, p: str, helper: bool, size: int | None = None) -> FileChannel | None: ...
        def _can_hash(self) -> bool: ...
        def _op(self, path: str, part: str | None = None
                ) -> contextlib.AbstractAsyncContextManager[tuple[Repl, bool]]: ...

    async def write(self, path: str, data: bytes, progress: Progress | None = None) -> None:
        """Write atomically: a temporary name next to the file, verified, then renamed."""
        error = (await self.write_many([(path, data, progress)]))[0]
        if error is not None:
            raise error

    async def _isdir(self, repl: Repl, p: str) -> bool:
        """Is board path `p` a folder (False: a file, or nothing there)?"""
        out = await repl.exec(f"import os\ntry:print(os.stat({plain.path(p)})[0]&0x4000!=0)\n"
                              "except OSError:print(0)")
        return out.strip() == b"True"

    async def write_many(
        self, files: Sequence[tuple[str, bytes, Progress | None]]
    ) -> list[BoardError | None]:
        """Write several files, each as write() does, in one pipelined operation where the
        board's helper can (no round trip per file). Per file None, or the board's error for
        it (the others are written all the same); a lost link, a cancellation or a failure on
        this side raise, leaving every file not yet written as it was."""
        items = [(board_target(p), data, progress) for p, data, progress in files]
        results: list[BoardError | None] = [None] * len(items)
        todo = list(range(len(items)))
        if items and self._cold(items):
            todo = await self._write_cold(items, results)
        for i in todo:
            p = items[i][0]
            if isinstance(p, IntoFolder):  # (not asked in a one-shot call: asked now)
                async with self._op(p) as (repl, _):
                    folder = await self._isdir(repl, p)
                items[i] = (p.inside() if folder else str(p), *items[i][1:])
        if todo:
            rest = await self._write_warm([items[i] for i in todo])
            for i, r in zip(todo, rest, strict=True):
                results[i] = r
        return results

    def _cold(self, items: list[tuple[str, bytes, Progress | None]]) -> bool:
        """The session's first transfer, the board not probed, no file channel, and nothing
        that would be deflated: the one-shot stream (fewer bytes than the probe and the
        helper's parts)."""
        session = self.session
        return (session.caps is None and session.helper is None and not self._one_shot_done
                and all(self._channel(p, True, len(d)) is None for p, d, _ in items)
                and not (session.link.compress()
                         and any(deflates(d, COLD_WBITS) for _, d, _ in items)))

    async def _write_cold(self, items: list[tuple[str, bytes, Progress | None]],
                          results: list[BoardError | None]) -> list[int]:
        """The one-shot stream (see _cold): each file's result, but for those it did not
        write (damaged on the way, or all of them when the board could not run the function:
        no deflate, no sha256, too little heap); their indices are returned. An IntoFolder
        target the board answered about comes back resolved in `items`; one it did not (its
        answer lost) and that failed goes again the usual way."""
        self._one_shot_done = True
        async with self._op(items[0][0]) as (repl, _):
            batch = WriteBatch(repl, [Item(*i) for i in items], ONE_SHOT, self.session.link,
                               one_shot=True)
            try:
                done = await batch.run()
            except BoardDisconnected:
                raise
            except BoardExecError:  # (the board's traceback: before or during its stream)
                done = batch.results
            except BoardError:  # silence, or the REPL's framing out of step (raw-paste)
                await plain.resync(repl)
                done = batch.results
        todo = []
        for i, (r, item) in enumerate(zip(done, batch.items, strict=True)):
            items[i] = (item.path, *items[i][1:])
            if isinstance(r, Damaged) or (r is not None and isinstance(item.path, IntoFolder)):
                todo.append(i)
            else:
                results[i] = r
        if todo and batch.ready:
            self.session.link.distrust()  # (a probed link that lost bytes: careful from now)
        return todo

    async def _write_warm(self, items: list[tuple[str, bytes, Progress | None]]
                          ) -> list[BoardError | None]:
        """Through the helper (loaded first), the file channel or plain code."""
        results: list[BoardError | None] = [None] * len(items)
        for attempt in range(WRITE_TRIES):
            started = False
            try:
                async with self._op(items[0][0], "wb") as (repl, helper):
                    started = True
                    await self._write_all(repl, helper, items, results)
                return results
            except (BoardDisconnected, BoardExecError):
                raise
            except BoardError as e:  # the helper's probe or load lost on the way (a timeout,
                if started:  # raw-paste out of step): again, then one error per file
                    raise
                self.session.repl.in_raw = False
                if attempt == WRITE_TRIES - 1:
                    return [BoardError(f"{p}: not written ({e})") for p, _, _ in items]
        return results

    async def _write_all(self, repl: Repl, helper: bool,
                         items: list[tuple[str, bytes, Progress | None]],
                         results: list[BoardError | None]) -> None:
        """Every file: the file channel or plain code one by one, the rest in one stream."""
        streamed = []
        debris: list[str] = []  # failed files whose temporary file may still be on the board
        for i, (p, data, progress) in enumerate(items):
            channel = self._channel(p, helper, len(data))
            if channel or not helper:
                results[i] = await self._write_one(repl, helper, channel, p, data, progress,
                                                   debris)
            else:
                streamed.append(i)
        if streamed:
            done = await self._write_stream(repl, [Item(*items[i]) for i in streamed], debris)
            for i, r in zip(streamed, done, strict=True):
                results[i] = r
        # Last, once for all: their clean-up (or the board's word that it dropped them) may
        # have been lost on the way, whatever the error the file ended with
        if not await plain.sweep(repl, debris):
            logger.warning("temporary files of failed writes may remain on the board: %s",
                           ", ".join(p + TMP_SUFFIX for p in debris))

    async def _write_one(self, repl: Repl, helper: bool, channel: FileChannel | None, p: str,
                         data: bytes, progress: Progress | None,
                         debris: list[str]) -> BoardError | None:
        """One file through the file channel, or plain code; its board error returned (its
        path added to `debris` unless the board said its temporary file is gone)."""
        tmp = p + TMP_SUFFIX
        for attempt in range(WRITE_TRIES):
            try:
                if channel:
                    await fs_channel.write(self.session, repl, helper and self._can_hash(),
                                          channel, p, data, progress)
                else:
                    await plain.write(repl, p, data, progress)
                return None
            except BoardExecError as e:
                gone = await plain.remove_quietly(repl, tmp)
                if channel or not plain.damaged(e) or attempt == WRITE_TRIES - 1:
                    if not gone:
                        debris.append(p)
                    e.path = p
                    if plain.damaged(e):
                        return Damaged(f"{p}: damaged on the way {WRITE_TRIES} times; old file kept")
                    return e
            except BoardError as e:
                if channel or isinstance(e, BoardDisconnected):
                    await recover(repl)
                    await plain.remove_quietly(repl, tmp)
                    raise
                await plain.resync(repl)  # silence, or the REPL's framing out of step: damage
                gone = await plain.remove_quietly(repl, tmp)
                if attempt == WRITE_TRIES - 1:
                    if not gone:
                        debris.append(p)
                    return Damaged(f"{p}: damaged on the way {WRITE_TRIES} times ({e}); "
                                   "old file kept")
            except BaseException:
                await recover(repl)
                await plain.remove_quietly(repl, tmp)
                raise
        return None

    async def _write_stream(self, repl: Repl, items: list[Item],
                            debris: list[str]) -> list[BoardError | None]:
        """Through the helper, in one stream; files damaged on the way go again. A stream
        broken on the way (its call or the board's answers damaged, the link out of step or
        silent) is damage too: the files the board confirmed stay written, the others go
        again, and in the end each gets its error (the link back at the prompt). A file the
        board answered for is done with on the board (written, or its temporary file dropped
        there); the paths of the others go to `debris`."""
        results: list[BoardError | None] = [None] * len(items)
        todo = list(range(len(items)))
        reloaded = False
        for _ in range(WRITE_TRIES):
            caps = self.session.caps
            assert caps is not None  # (the stream's helper part is loaded: the board was probed)
            batch = WriteBatch(repl, [items[i] for i in todo], caps, self.session.link)
            try:
                done = await batch.run()
            except BoardExecError as e:
                if e.exc_type == "MemoryError":
                    if self.session.link.squeeze >= 4:
                        raise
                    self.session.link.squeeze += 1  # a small, fragmented heap: smaller buffers
                    await repl.exec("import gc\ngc.collect()")
                    continue
                if e.exc_type in ("NameError", "AttributeError") and not reloaded:
                    reloaded = True  # the board lost the helper (a reset went unseen): again
                    self.session.helper = None
                    try:
                        usable = await self.session.ensure_helper(repl, "wb")
                    except (BoardDisconnected, BoardExecError):
                        raise
                    except BoardError:  # (its probe or a part damaged on the way as well)
                        await plain.resync(repl)
                        usable = False
                    if not usable:
                        for i in todo:  # (it will not load now: plain code for these)
                            item = items[i]
                            results[i] = await self._write_one(
                                repl, False, None, item.path, item.data, item.progress, debris)
                        return results
                    continue
                done = batch.results  # (the board's own errors come per file, in its answers)
            except BoardDisconnected:
                raise
            except BoardError:  # silence, or the REPL's framing out of step (raw-paste)
                await plain.resync(repl)
                done = batch.results
            for i, r in zip(todo, done, strict=True):
                results[i] = r
            todo = [i for i in todo if isinstance(results[i], Damaged)]
            if not todo:
                break
            self.session.link.distrust()  # (a probed link that lost bytes: careful from now)
        for i in todo:
            results[i] = Damaged(f"{items[i].path}: damaged on the way {WRITE_TRIES} times; "
                                 "old file kept")
        debris += [items[i].path for i in todo]
        return results


def board_target(path: str) -> str:
    """board_path, keeping an IntoFolder target one."""
    p = board_path(path)
    return IntoFolder(p, path.name) if isinstance(path, IntoFolder) else p


async def recover(repl: Repl, stop: bytes = b"\x03") -> None:
    """After a failed or cancelled transfer: stop the board's side and wait until it is back
    at the prompt. Nothing to do when no code of ours runs (it ended with the board's own
    error, or only the file channel was moving)."""
    if not repl.running:
        return
    with contextlib.suppress(Exception):
        await asyncio.shield(repl.abort(stop))
