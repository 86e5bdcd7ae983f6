"""A board's side of the Files tab: its filesystem (`session.fs`) as a FileSystem."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import os
import posixpath
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from mptui.board.batch import IntoFolder
from mptui.board.errors import BoardDisconnected, BoardError, BoardOSError
from mptui.board.fs import Entry, board_path
from mptui.board.fs_write import board_target
from mptui.services.filesystem import FileInfo, FileSystem, Progress
from mptui.services.ignore import TEMP_SUFFIX

if TYPE_CHECKING:
    from mptui.board.session import Session

CLEANUP_TIMEOUT = 10.0  # seconds to wait for a board to come back to remove a temporary file


class BoardFSAdapter(FileSystem):
    """A board's filesystem (`session.fs`) as a FileSystem. Paths are board paths ('/...')."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.fs = session.fs
        self.label = str(session.address)

    def home(self) -> str:
        return "/"

    def join(self, path: str, *names: str) -> str:
        return posixpath.join(board_path(path), *names)

    def parent(self, path: str) -> str:
        return posixpath.dirname(board_path(path))

    def basename(self, path: str) -> str:
        return posixpath.basename(board_path(path))

    def relpath(self, path: str, start: str) -> str:
        return posixpath.relpath(board_path(path), board_path(start))

    async def list(self, path: str) -> list[FileInfo]:
        p = board_path(path)
        with _os_errors(p):
            entries = await self.fs.ls(p)
        # folder + '/' + the name as listed (posixpath.join would drop the folder for '/x')
        return [FileInfo(e.name, p.rstrip("/") + "/" + e.path, e.is_dir, e.size) for e in entries]

    async def stat(self, path: str) -> FileInfo:
        p = board_path(path)
        with _os_errors(p):
            st = await self.fs.stat(p)
        return FileInfo(posixpath.basename(p), p, st.is_dir, 0 if st.is_dir else st.size, st.mtime)

    async def walk(self, path: str) -> builtins.list[Entry]:  # (`list` is a method here)
        p = board_path(path)
        with _os_errors(p):
            return await self.fs.ls(p, recursive=True)

    async def sha256(self, path: str) -> str:
        p = board_path(path)
        with _os_errors(p):
            return await self.fs.sha256(p)

    async def hashes(self, path: str) -> dict[str, tuple[int, str]]:
        p = board_path(path)
        with _os_errors(p):
            return await self.fs.tree_hashes(p)

    async def df(self, path: str) -> tuple[int, int]:
        p = board_path(path)
        with _os_errors(p):
            return await self.fs.df(p)

    async def read(self, path: str, progress: Progress | None = None) -> bytes:
        p = board_path(path)
        with _os_errors(p):
            return await self.fs.read(p, progress)

    async def write(self, path: str, data: bytes, progress: Progress | None = None) -> None:
        """The board writes to `<path>.mptui~` and renames it. When the transfer is cancelled
        or the board resets or drops off, that temporary file is removed once the board
        answers again (a board that does not come back keeps it; sync removes it later)."""
        p = board_path(path)
        try:
            with _os_errors(p):
                await self.fs.write(p, data, progress)
        except asyncio.CancelledError:
            await self._remove_temp(p)
            raise
        except BoardError:
            await self._remove_temp(p)
            raise

    async def write_many(self, files: Sequence[tuple[str, bytes, Progress | None]]) -> None:
        """One pipelined stream for them all (fs.write_many); each file as write() leaves it.
        The first file's error is raised once the others are written."""
        items = [(board_target(p), data, progress) for p, data, progress in files]
        try:
            errors = await self.fs.write_many(items)
        except (asyncio.CancelledError, BoardError):
            await self._remove_temp(*_either(p for p, _, _ in items))
            raise
        failed = [(p, e) for (p, _, _), e in zip(items, errors, strict=True) if e is not None]
        if failed:
            await self._remove_temp(*_either(p for p, _ in failed))
            p, e = failed[0]
            with _os_errors(p):
                raise e

    async def _remove_temp(self, *paths: str) -> None:
        with contextlib.suppress(asyncio.TimeoutError, BoardError):
            await asyncio.wait_for(self._remove_temps_now(paths), CLEANUP_TIMEOUT)

    async def _remove_temps_now(self, paths: Sequence[str]) -> None:
        for p in paths:
            tmp = p + TEMP_SUFFIX
            for _ in range(3):  # the board may drop off again while it starts up
                await self.session.wait_connected(CLEANUP_TIMEOUT)
                try:
                    await self.fs.rm(tmp)
                    break
                except BoardOSError as e:
                    if e.errno in (2, 20):  # (none, or its folder is a file: none either)
                        break
                    raise
                except BoardDisconnected:
                    continue

    async def mkdir(self, path: str, parents: bool = False) -> None:
        p = board_path(path)
        with _os_errors(p):
            await self.fs.mkdir(p, parents=parents)

    async def rm(self, path: str, recursive: bool = False) -> None:
        p = board_path(path)
        with _os_errors(p):
            await self.fs.rm(p, recursive=recursive)

    async def rename(self, old: str, new: str) -> None:
        a = board_path(old)
        with _os_errors(a):
            await self.fs.rename(a, board_path(new))


@contextlib.contextmanager
def _os_errors(path: str) -> Iterator[None]:
    """A board's OSError as the host's (FileNotFoundError, FileExistsError, ...)."""
    try:
        yield
    except BoardOSError as e:
        if e.errno is None:
            raise
        raise OSError(e.errno, os.strerror(e.errno), path) from e


def _either(paths: Iterable[str]) -> list[str]:
    """The paths a write may have gone to: an IntoFolder target's, and the file in it."""
    return [q for p in paths for q in ((p, p.inside()) if isinstance(p, IntoFolder) else (p,))]
