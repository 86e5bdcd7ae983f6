"""The board's filesystem: ls, stat, read, write (atomic, verified), mkdir, rm, hashes, df.

Every path and value reaches the board through repr(), never pasted into code as text; code
that changes files runs only if it arrived whole (helper.guarded). The fast path uses the
helper (mpy/helper.py, loaded a part at a time): reads stream the bytes as they are (fs_read.py),
writes go in one pipelined stream for any number of files (batch.py), compressed where that
pays; without the helper, plain raw-REPL code (fs_plain.py). A file channel (WebREPL) carries
contents beside the REPL where faster. Writes are BoardFSWrites' (fs_write.py): each checked on
the board before it replaces the old file."""

from __future__ import annotations

import contextlib
import logging
import posixpath
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mptui.board import fs_channel
from mptui.board import fs_plain as plain
from mptui.board.errors import BoardError, BoardExecError, Damaged
from mptui.board.fs_plain import TMP_SUFFIX, Progress, board_path
from mptui.board.fs_plain import lines as _lines
from mptui.board.fs_plain import literal as _literal
from mptui.board.fs_read import receive
from mptui.board.fs_write import BoardFSWrites, recover
from mptui.board.helper import arg, one_shot_read
from mptui.board.repl import Repl
from mptui.transports.base import FileChannel

if TYPE_CHECKING:
    from mptui.board.session import Session

__all__ = ["BoardFS", "Entry", "Stat", "board_path"]  # (board_path: fs_plain.py's, the one)
logger = logging.getLogger(__name__)
READ_TRIES = 3  # a read damaged on the way is made this often before it fails
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


class BoardFS(BoardFSWrites):
    def __init__(self, session: Session) -> None:
        self.session = session
        # The link's file channel: None = where it is faster, True = whenever it can carry
        # the file, False = never (benchmarks and tests compare the paths on one link).
        self.use_file_channel: bool | None = None
        self._one_shot_done = False  # the session's first transfer went without the helper

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
        import hashlib  # (here: listing or removing files loads no hashlib, nor the OpenSSL it brings)

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
                    await recover(repl)
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
                await recover(repl)
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
