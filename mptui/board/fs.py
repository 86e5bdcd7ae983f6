"""The board's filesystem: ls, stat, read, write (atomic, verified), mkdir, rm, hashes, df.

Every path and value reaches the board through repr(), never pasted into code as text; code
that changes files runs only if it arrived whole (helper.guarded). The fast path uses the
helper (mpy/helper.py, loaded a part at a time): reads stream the bytes as they are (fs_read.py),
writes go in one pipelined stream for any number of files (batch.py), compressed where that
pays; without the helper, plain raw-REPL code (fs_plain.py). A file channel (WebREPL) carries
contents beside the REPL where faster. Every write is checked on the board before it replaces
the old file; one damaged on the way is sent again, up to WRITE_TRIES times, then one line."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import posixpath
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mptui.board import fs_channel
from mptui.board import fs_plain as plain
from mptui.board.batch import Item, WriteBatch
from mptui.board.errors import BoardDisconnected, BoardError, BoardExecError, Damaged
from mptui.board.fs_plain import TMP_SUFFIX
from mptui.board.fs_plain import lines as _lines
from mptui.board.fs_plain import literal as _literal
from mptui.board.fs_read import receive
from mptui.board.helper import arg, one_shot_read
from mptui.board.repl import Repl
from mptui.transports.base import FileChannel

if TYPE_CHECKING:
    from mptui.board.session import Session

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (bytes done, bytes in all)
READ_TRIES = 3  # a read damaged on the way is made this often before it fails
WRITE_TRIES = 3  # a write damaged on the way is sent this often before it fails
# Below this a write costs more in the file channel's two extra round trips than it saves.
CHANNEL_MIN_WRITE = 1024


@dataclass(frozen=True)
class Entry:
    path: str  # relative to the folder listed: its names joined by '/'
    is_dir: bool
    size: int
    # the names as listed, one per folder level (a board may list a name holding a '/', or
    # '..': `path` alone cannot tell; whoever joins them to a folder checks each)
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.names:
            object.__setattr__(self, "names", tuple(self.path.split("/")))

    @property
    def name(self) -> str:
        return self.names[-1]


@dataclass(frozen=True)
class Stat:
    is_dir: bool
    size: int
    mtime: int


def board_path(path: str) -> str:
    """An absolute, normalised board path ('' and '.' are the root)."""
    p = posixpath.normpath("/" + path.strip().lstrip(":"))
    return "/" + p.lstrip("/")


def _entry(row: object) -> Entry:
    """A listed entry from (names from the folder listed, size or -1 for a folder), or an
    Entry as it is. The names are kept as the board gave them (checked where they are joined
    to a folder); a row of another shape is a BoardError."""
    if isinstance(row, Entry):
        return row
    names, size = row if isinstance(row, tuple) and len(row) == 2 else ((), None)
    if not (isinstance(names, tuple) and names and all(isinstance(n, str) for n in names)
            and type(size) is int):
        raise BoardError(f"unreadable answer from the board: {str(row)[:60]!r}")
    return Entry("/".join(names), size < 0, max(size, 0), names)


class BoardFS:
    def __init__(self, session: Session) -> None:
        self.session = session
        # The link's file channel: None = where it is faster, True = whenever it can carry
        # the file, False = never (benchmarks and tests compare the paths on one link).
        self.use_file_channel: bool | None = None
        self._one_shot_done = False  # the session's first read went without the helper

    @contextlib.asynccontextmanager
    async def _op(self, path: str,
                  part: str | None = None) -> AsyncIterator[tuple[Repl, bool]]:
        """An operation on `path` (with the helper's `part` loaded when it is given: the
        second value says whether it is); board errors carry the path for one-line messages."""
        try:
            async with self.session.operation() as repl:
                helper = part is not None and await self.session.ensure_helper(repl, part)
                yield repl, helper
        except BoardExecError as e:
            e.path = path
            raise

    def _can_hash(self) -> bool:
        caps = self.session.caps
        return self.session.helper is not False and (caps is None or caps.sha256)

    # -- metadata ---------------------------------------------------------------------------

    async def ls(self, path: str = "/", recursive: bool = False) -> list[Entry]:
        p = board_path(path)
        # One folder, the helper's ls not on the board yet: plain code is one round trip and
        # fewer bytes than asking the board what it is and loading the part.
        part = "ls" if recursive or "ls" in self.session.loader.parts else None
        async with self._op(p, part) as (repl, helper):
            if helper:
                rows = _lines(await self.session.call_helper(repl, f"ls({arg(p)},{recursive!r})"))
            else:
                rows = await plain.ls(repl, p, recursive)
        return sorted((_entry(row) for row in rows), key=lambda e: e.path)

    async def stat(self, path: str) -> Stat:
        p = board_path(path)
        async with self._op(p) as (repl, _):
            out = await repl.exec(
                f"import os\nprint((lambda s:(s[0],s[6],s[8]))(os.stat({plain.path(p)})))")
        st = _literal(out.strip())  # (mode, size, mtime): fewer bytes on the way
        return Stat(bool(st[0] & 0x4000), st[1], st[2])

    async def exists(self, path: str) -> bool:
        try:
            await self.stat(path)
        except BoardExecError as e:
            if getattr(e, "errno", None) == 2:
                return False
            raise
        return True

    async def sha256(self, path: str) -> str:
        p = board_path(path)
        if self._can_hash():
            async with self._op(p, "hash") as (repl, helper):
                if helper:
                    out = await self.session.call_helper(repl, f"hash1({arg(p)})")
                    digest: str = _literal(out.strip())  # the helper's answer
                    return digest
        return hashlib.sha256(await self.read(p)).hexdigest()  # no hashlib on the board

    async def tree_hashes(self, path: str = "/") -> dict[str, tuple[int, str]]:
        """{relative path: (size, sha256)} for every file under path (folders: (-1, '')), in
        one round trip."""
        p = board_path(path)
        if self._can_hash():
            async with self._op(p, "hash") as (repl, helper):
                if helper:
                    out = await self.session.call_helper(repl, f"tree({arg(p)})")
                    result = {}
                    for row in _lines(out):
                        digest = row[2] if isinstance(row, tuple) and len(row) == 3 else None
                        if not isinstance(digest, str):
                            raise BoardError(f"unreadable answer from the board: {str(row)[:60]!r}")
                        e = _entry(row[:2])
                        result[e.path] = (-1 if e.is_dir else e.size, digest)
                    return result
        result = {}
        for e in await self.ls(p, recursive=True):
            sub = posixpath.join(p, e.path)
            result[e.path] = (-1, "") if e.is_dir else (e.size, await self.sha256(sub))
        return result

    async def df(self, path: str = "/") -> tuple[int, int]:
        """(total bytes, free bytes) of the filesystem holding path."""
        p = board_path(path)
        async with self._op(p) as (repl, _):
            out = await repl.exec(
                f"import os\ns=os.statvfs({plain.path(p)})\nprint(repr((s[0]*s[2],s[0]*s[3])))")
        total_free: tuple[int, int] = _literal(out.strip())
        return total_free

    # -- changes ----------------------------------------------------------------------------

    async def mkdir(self, path: str, parents: bool = False) -> None:
        p = board_path(path)
        async with self._op(p, "ops" if parents else None) as (repl, helper):
            if parents and helper:
                await self.session.call_helper(repl, f"mkdirs({arg(p)})", guard=True)
            elif parents:
                await plain.mkdirs(repl, p)
            else:
                await plain.run(repl, f"import os\nos.mkdir({plain.path(p)})")

    async def rm(self, path: str, recursive: bool = False) -> None:
        p = board_path(path)
        if p == "/" and recursive:
            raise BoardError("refusing to remove the board's root folder")
        async with self._op(p, "ops" if recursive else None) as (repl, helper):
            if recursive and helper:
                await self.session.call_helper(repl, f"rmtree({arg(p)})", guard=True)
                return
            if recursive:
                rows = await plain.ls(repl, p, True) if await self._isdir(repl, p) else []
                for e in sorted((_entry(r) for r in rows), key=lambda e: -len(e.names)):
                    sub = posixpath.join(p, e.path)
                    await plain.run(repl, f"import os\nos.{'rmdir' if e.is_dir else 'remove'}"
                                          f"({plain.path(sub)})")
                if rows or await self._isdir(repl, p):
                    await plain.run(repl, f"import os\nos.rmdir({plain.path(p)})")
                    return
            # A board's remove() takes empty folders too (littlefs, FAT): refuse them here
            q = plain.path(p)
            await plain.run(repl, f"import os\nif os.stat({q})[0]&0x4000:raise OSError(21)\n"
                                  f"os.remove({q})")

    async def _isdir(self, repl: Repl, p: str) -> bool:
        out = await repl.exec(f"import os\nprint(os.stat({plain.path(p)})[0]&0x4000!=0)")
        return out.strip() == b"True"

    async def rmdir(self, path: str) -> None:
        p = board_path(path)
        async with self._op(p) as (repl, _):
            # A board's rmdir() takes files too (littlefs, FAT): refuse them here
            q = plain.path(p)
            await plain.run(repl, f"import os\nif not os.stat({q})[0]&0x4000:raise OSError(20)\n"
                                  f"os.rmdir({q})")

    async def rename(self, old: str, new: str) -> None:
        a, b = board_path(old), board_path(new)
        async with self._op(a) as (repl, _):
            await plain.run(repl, f"import os\nos.rename({plain.path(a)},{plain.path(b)})")

    async def touch(self, path: str) -> None:
        p = board_path(path)
        async with self._op(p) as (repl, _):
            await plain.run(repl, f"open({plain.path(p)},'ab').close()")

    # -- contents ---------------------------------------------------------------------------

    def _channel(self, p: str, helper: bool, size: int | None = None) -> FileChannel | None:
        """The file channel when it should carry this read (size None) or write."""
        channel = self.session.transport.file_channel
        if channel is None or self.use_file_channel is False:
            return None
        if len((p + TMP_SUFFIX).encode("utf-8")) > channel.max_path_bytes:
            return None
        if size == 0:  # older boards never finish an empty PUT
            return None
        if self.use_file_channel:
            return channel
        if size is None:  # reads: the helper streams board output as fast as the channel
            return None if helper else channel
        return channel if size >= CHANNEL_MIN_WRITE else None

    async def read(self, path: str, progress: Progress | None = None) -> bytes:
        """The file's bytes, checked against the board's sha256 (where it has hashlib); a read
        damaged on the way is made again, up to READ_TRIES times."""
        p = board_path(path)
        for attempt in range(1, READ_TRIES + 1):
            try:
                return await self._read_once(p, progress)
            except BoardError as e:
                if not (isinstance(e, Damaged) or plain.damaged(e)):
                    raise
                if attempt == READ_TRIES:
                    why = str(e).removeprefix(f"{p}: ")
                    raise Damaged(f"{p}: damaged on the way {READ_TRIES} times ({why})") from e
        raise AssertionError("unreachable")

    async def _read_once(self, p: str, progress: Progress | None) -> bytes:
        if (self.session.caps is None and self.session.helper is None
                and not self._one_shot_done and self._channel(p, True) is None):
            # The session's first read, the board not probed yet (a command line's `cp`):
            # the read function goes as it is, fewer bytes than the probe and the parts.
            self._one_shot_done = True
            async with self._op(p) as (repl, _):
                call = f"{arg(p, checked=True)},{self._block_size()}"
                try:
                    return await self._read_stream(repl, p, progress, one_shot_read(call))
                except BoardExecError as e:  # (no sys.stdout.buffer, or too little heap:
                    if e.exc_type not in ("AttributeError", "MemoryError"):  # as below)
                        raise
                except BaseException:
                    await _recover(repl)
                    raise
        async with self._op(p, "rd") as (repl, helper):
            try:
                channel = self._channel(p, helper)
                if channel:
                    return await fs_channel.read(self.session, repl, helper and self._can_hash(),
                                                   channel, p, progress)
                if helper:
                    try:
                        return await self._read_stream(repl, p, progress)
                    except BoardExecError as e:
                        if e.exc_type != "MemoryError" or self.session.link.squeeze >= 4:
                            raise
                    self.session.link.squeeze += 1  # a small, fragmented heap: smaller blocks
                    await repl.exec("import gc\ngc.collect()")
                    return await self._read_stream(repl, p, progress)
                return await plain.read(repl, p, progress)
            except BaseException:
                await _recover(repl)
                raise

    async def _read_stream(self, repl: Repl, p: str, progress: Progress | None,
                           code: str | None = None) -> bytes:
        """The helper's `rd` (or `code`: the same function sent with the call), as fs_read
        receives it."""
        bs = self._block_size()
        await repl.send_code(code or f"_mptui.rd({arg(p, checked=True)},{bs})")
        return await receive(repl, p, progress, max(2.0, self.session.link.silence(bs)))

    def _block_size(self) -> int:
        """The board's read size: the link's, halved until 32 fit in the free heap the board
        had before the helper (a read keeps about five alive, in a fragmented heap, beside
        the helper), and once more for each MemoryError seen; never below 256 bytes."""
        size = self.session.transport.profile.block_size
        caps = self.session.caps
        free = (caps.free >> self.session.link.squeeze) if caps else -1
        while free >= 0 and size > 256 and size * 32 > free:
            size //= 2
        return size

    async def write(self, path: str, data: bytes, progress: Progress | None = None) -> None:
        """Write atomically: a temporary name next to the file, verified, then renamed."""
        error = (await self.write_many([(path, data, progress)]))[0]
        if error is not None:
            raise error

    async def write_many(
        self, files: Sequence[tuple[str, bytes, Progress | None]]
    ) -> list[BoardError | None]:
        """Write several files, each as write() does, in one pipelined operation where the
        board's helper can (no round trip per file). Per file None, or the board's error for
        it (the others are written all the same); a lost link, a cancellation or a failure on
        this side raise, leaving every file not yet written as it was."""
        items = [(board_path(p), data, progress) for p, data, progress in files]
        results: list[BoardError | None] = [None] * len(items)
        if not items:
            return results
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
                    await _recover(repl)
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
                await _recover(repl)
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

async def _recover(repl: Repl, stop: bytes = b"\x03") -> None:
    """After a failed or cancelled transfer: stop the board's side and wait until it is back
    at the prompt. Nothing to do when no code of ours runs (it ended with the board's own
    error, or only the file channel was moving)."""
    if not repl.running:
        return
    with contextlib.suppress(Exception):
        await asyncio.shield(repl.abort(stop))
