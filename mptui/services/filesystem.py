"""One filesystem interface for both sides of the Files tab: a local folder and a board.

A file pane holds a `FileSystem` and never needs to know which side it shows. Both sides write
atomically (a temporary name, then a rename), so a failed, cancelled or killed transfer leaves
the old file or none, never half a new one. `copy_paths` copies marked entries (recursively)
from one side to the other with progress (bytes/s); cancel its task to stop it.

    local, board = LocalFS(), BoardFSAdapter(session)
    await copy_paths(local, ["/home/me/proj/lib"], board, "/", progress=show)

Errors: a missing file, a full disk and the like are `OSError`s on both sides (a board's
errno is mapped, so `FileNotFoundError` is the same on both); a lost board is a `BoardError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import posixpath
import shutil
import stat as stat_mod
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mptui.board.errors import BoardDisconnected, BoardError, BoardOSError
from mptui.board.fs import Entry, board_path
from mptui.services.ignore import TEMP_SUFFIX

Progress = Callable[[int, int], None]  # (bytes done, bytes in all) for one file
CHUNK = 1 << 16
CLEANUP_TIMEOUT = 10.0  # seconds to wait for a board to come back to remove a temporary file


@dataclass(frozen=True)
class FileInfo:
    name: str
    path: str  # the full path on its side
    is_dir: bool
    size: int
    mtime: float | None = None


class FileSystem(ABC):
    """What a file pane and the copy engine need from one side."""

    label: str = ""
    is_local: bool = False

    # -- paths (each side has its own separator rules) -------------------------------------

    @abstractmethod
    def home(self) -> str:
        """Where a pane starts."""

    @abstractmethod
    def join(self, path: str, *names: str) -> str: ...

    @abstractmethod
    def parent(self, path: str) -> str: ...

    @abstractmethod
    def basename(self, path: str) -> str: ...

    @abstractmethod
    def relpath(self, path: str, start: str) -> str:
        """path relative to start, '/'-separated."""

    # -- metadata ---------------------------------------------------------------------------

    @abstractmethod
    async def list(self, path: str) -> list[FileInfo]:
        """A folder's entries, sorted by name."""

    @abstractmethod
    async def stat(self, path: str) -> FileInfo: ...

    async def exists(self, path: str) -> bool:
        try:
            await self.stat(path)
        except FileNotFoundError:
            return False
        return True

    @abstractmethod
    async def walk(self, path: str) -> list[Entry]:
        """Everything under a folder, as '/'-separated paths relative to it."""

    @abstractmethod
    async def hashes(self, path: str) -> dict[str, tuple[int, str]]:
        """{relative path: (size, sha256 hex)} under a folder; folders are (-1, '')."""

    @abstractmethod
    async def df(self, path: str) -> tuple[int, int]:
        """(total bytes, free bytes) of the filesystem holding path."""

    # -- contents and changes ---------------------------------------------------------------

    @abstractmethod
    async def read(self, path: str, progress: Progress | None = None) -> bytes: ...

    @abstractmethod
    async def write(self, path: str, data: bytes, progress: Progress | None = None) -> None:
        """Atomic: readers see the old file or the whole new one, never a part."""

    @abstractmethod
    async def mkdir(self, path: str, parents: bool = False) -> None: ...

    @abstractmethod
    async def rm(self, path: str, recursive: bool = False) -> None: ...

    @abstractmethod
    async def rename(self, old: str, new: str) -> None: ...


# -- this computer ----------------------------------------------------------------------------


class LocalFS(FileSystem):
    label = "this computer"
    is_local = True

    def home(self) -> str:
        return os.getcwd()

    def join(self, path: str, *names: str) -> str:
        return os.path.join(os.path.abspath(path), *names)

    def parent(self, path: str) -> str:
        return os.path.dirname(os.path.abspath(path))

    def basename(self, path: str) -> str:
        return os.path.basename(os.path.abspath(path))

    def relpath(self, path: str, start: str) -> str:
        return Path(os.path.relpath(path, start)).as_posix()

    async def list(self, path: str) -> list[FileInfo]:
        return await asyncio.to_thread(self._list, path)

    def _list(self, path: str) -> list[FileInfo]:
        out = []
        with os.scandir(path) as it:
            for e in it:
                try:
                    st = e.stat()
                except OSError:  # a dangling link: show it, as an empty file
                    st = e.stat(follow_symlinks=False)
                is_dir = stat_mod.S_ISDIR(st.st_mode)
                out.append(FileInfo(e.name, e.path, is_dir, 0 if is_dir else st.st_size, st.st_mtime))
        return sorted(out, key=lambda f: f.name)

    async def stat(self, path: str) -> FileInfo:
        st = await asyncio.to_thread(os.stat, path)
        is_dir = stat_mod.S_ISDIR(st.st_mode)
        return FileInfo(self.basename(path), path, is_dir, 0 if is_dir else st.st_size, st.st_mtime)

    async def walk(self, path: str) -> list[Entry]:
        return await asyncio.to_thread(self._walk, path)

    def _walk(self, root: str) -> list[Entry]:
        if not os.path.isdir(root):
            raise NotADirectoryError(20, os.strerror(20), root)
        out = []
        for dirpath, dirnames, filenames in os.walk(root):
            rel = self.relpath(dirpath, root)
            prefix = "" if rel == "." else rel + "/"
            for d in dirnames:
                out.append(Entry(prefix + d, True, 0))
            for f in filenames:
                with contextlib.suppress(OSError):
                    out.append(Entry(prefix + f, False, os.stat(os.path.join(dirpath, f)).st_size))
        return sorted(out, key=lambda e: e.path)

    async def hashes(self, path: str) -> dict[str, tuple[int, str]]:
        def work():
            result = {}
            for e in self._walk(path):
                if e.is_dir:
                    result[e.path] = (-1, "")
                else:
                    data = Path(path, e.path).read_bytes()
                    result[e.path] = (len(data), hashlib.sha256(data).hexdigest())
            return result

        return await asyncio.to_thread(work)

    async def df(self, path: str) -> tuple[int, int]:
        usage = await asyncio.to_thread(shutil.disk_usage, path)
        return usage.total, usage.free

    async def read(self, path: str, progress: Progress | None = None) -> bytes:
        with await asyncio.to_thread(open, path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            data = bytearray()
            while chunk := await asyncio.to_thread(f.read, CHUNK):
                data += chunk
                if progress:
                    progress(len(data), max(size, len(data)))
        if progress and not data:
            progress(0, 0)
        return bytes(data)

    async def write(self, path: str, data: bytes, progress: Progress | None = None) -> None:
        """Write to a temporary file next to path, flush it to disk, then rename it over
        path; on any failure or cancellation the temporary file is removed."""
        folder, name = os.path.split(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=TEMP_SUFFIX, dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                for start in range(0, len(data), CHUNK):
                    await asyncio.to_thread(f.write, data[start : start + CHUNK])
                    if progress:
                        progress(min(start + CHUNK, len(data)), len(data))
                await asyncio.to_thread(_flush, f)
            os.chmod(tmp, _mode_for(path))
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        if progress and not data:
            progress(0, 0)

    async def mkdir(self, path: str, parents: bool = False) -> None:
        if parents:
            await asyncio.to_thread(os.makedirs, path, exist_ok=True)
        else:
            await asyncio.to_thread(os.mkdir, path)

    async def rm(self, path: str, recursive: bool = False) -> None:
        def work():
            if os.path.isdir(path) and not os.path.islink(path):
                if recursive:
                    shutil.rmtree(path)
                else:
                    os.rmdir(path)
            else:
                os.remove(path)

        await asyncio.to_thread(work)

    async def rename(self, old: str, new: str) -> None:
        await asyncio.to_thread(os.rename, old, new)


def _flush(f) -> None:
    f.flush()
    os.fsync(f.fileno())


def _mode_for(path: str) -> int:
    """Keep an existing file's permissions; a new file gets the usual ones (umask)."""
    try:
        return stat_mod.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


# -- the board ----------------------------------------------------------------------------


class BoardFSAdapter(FileSystem):
    """A board's filesystem (`session.fs`) as a FileSystem. Paths are board paths ('/...')."""

    def __init__(self, session) -> None:
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
        return [FileInfo(e.name, posixpath.join(p, e.path), e.is_dir, e.size) for e in entries]

    async def stat(self, path: str) -> FileInfo:
        p = board_path(path)
        with _os_errors(p):
            st = await self.fs.stat(p)
        return FileInfo(posixpath.basename(p), p, st.is_dir, 0 if st.is_dir else st.size, st.mtime)

    async def walk(self, path: str) -> list[Entry]:
        p = board_path(path)
        with _os_errors(p):
            return await self.fs.ls(p, recursive=True)

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

    async def _remove_temp(self, p: str) -> None:
        with contextlib.suppress(asyncio.TimeoutError, BoardError):
            await asyncio.wait_for(self._remove_temp_now(p + TEMP_SUFFIX), CLEANUP_TIMEOUT)

    async def _remove_temp_now(self, tmp: str) -> None:
        for _ in range(3):  # the board may drop off again while it starts up
            await self.session.wait_connected(CLEANUP_TIMEOUT)
            try:
                await self.fs.rm(tmp)
                return
            except BoardOSError as e:
                if e.errno == 2:
                    return
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
def _os_errors(path: str):
    """A board's OSError as the host's (FileNotFoundError, FileExistsError, ...)."""
    try:
        yield
    except BoardOSError as e:
        if e.errno is None:
            raise
        raise OSError(e.errno, os.strerror(e.errno), path) from e


# -- copying between sides ----------------------------------------------------------------


@dataclass(frozen=True)
class TransferProgress:
    path: str  # the file being copied (its destination)
    file_done: int
    file_size: int
    done: int  # bytes of all files so far
    total: int
    files_done: int
    files_total: int
    elapsed: float  # seconds since the transfer started

    @property
    def rate(self) -> float:
        """Bytes per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


class TransferMeter:
    """Turns per-file (done, total) callbacks into TransferProgress for a whole transfer."""

    def __init__(self, total: int, files: int, callback: Callable[[TransferProgress], None] | None):
        self.total, self.files_total, self.callback = total, files, callback
        self.done = self.files_done = 0
        self.start = time.monotonic()

    def file(self, path: str, size: int, weight: float = 1.0, offset: float = 0.0) -> Progress:
        """A per-file progress callback. weight/offset: the share of the file this step moves
        (reading and writing are each half of a board-to-board copy)."""

        def report(done: int, total: int) -> None:
            frac = min(done / total, 1.0) if total > 0 else 1.0
            self._report(path, int(size * (offset + frac * weight)), size)

        return report

    def finish_file(self, path: str, size: int) -> None:
        self.done += size
        self.files_done += 1
        self._report(path, 0, size, finished=True)

    def _report(self, path: str, file_done: int, size: int, finished: bool = False) -> None:
        if self.callback:
            self.callback(TransferProgress(
                path, size if finished else file_done, size, self.done + file_done, self.total,
                self.files_done, self.files_total, time.monotonic() - self.start,
            ))


@dataclass(frozen=True)
class CopyResult:
    files: int
    folders: int
    bytes: int


async def copy_file(
    src: FileSystem | None, src_path: str, dst: FileSystem, dst_path: str,
    meter: TransferMeter, size: int = 0, data: bytes | None = None,
) -> bytes:
    """Copy one file with progress (or write `data`, already read, to dst); returns the bytes
    written. Progress follows the slow side: a board's; the write when both are local."""
    read_share = 0.0 if data is not None or src is None or src.is_local else (
        1.0 if dst.is_local else 0.5)
    if data is None:
        data = await src.read(src_path, meter.file(dst_path, size, read_share) if read_share else None)
    write_share = 1.0 - read_share
    await dst.write(dst_path, data, meter.file(dst_path, len(data), write_share, read_share)
                    if write_share else None)
    meter.finish_file(dst_path, len(data))
    return data


async def copy_paths(
    src: FileSystem,
    paths: Sequence[str],
    dst: FileSystem,
    dest_dir: str,
    progress: Callable[[TransferProgress], None] | None = None,
) -> CopyResult:
    """Copy files and folders (recursively) into dest_dir on the other side, keeping names.
    Cancel the task to stop: the file in flight is left as it was on both sides."""
    files: list[tuple[str, str, int]] = []
    folders: list[str] = []
    for path in paths:
        info = await src.stat(path)
        target = dst.join(dest_dir, info.name)
        if not info.is_dir:
            files.append((path, target, info.size))
            continue
        if src is dst and _inside(src, dest_dir, path):
            raise OSError(22, "cannot copy a folder into itself", path)
        folders.append(target)
        for e in await src.walk(path):
            parts = e.path.split("/")
            if e.is_dir:
                folders.append(dst.join(target, *parts))
            else:
                files.append((src.join(path, *parts), dst.join(target, *parts), e.size))
    meter = TransferMeter(sum(f[2] for f in files), len(files), progress)
    for folder in leaf_folders(dst, folders):
        await dst.mkdir(folder, parents=True)
    done = 0
    for s, d, size in files:
        done += len(await copy_file(src, s, dst, d, meter, size))
    return CopyResult(len(files), len(set(folders)), done)


async def move_paths(
    src: FileSystem,
    paths: Sequence[str],
    dst: FileSystem,
    dest_dir: str,
    progress: Callable[[TransferProgress], None] | None = None,
) -> CopyResult:
    """Move entries into dest_dir: a rename on the same side, else a copy and then (only once
    everything is copied) a removal of the sources."""
    if src is dst:
        for path in paths:
            await src.rename(path, src.join(dest_dir, src.basename(path)))
        return CopyResult(0, 0, 0)
    result = await copy_paths(src, paths, dst, dest_dir, progress)
    await delete_paths(src, paths)
    return result


async def delete_paths(fs: FileSystem, paths: Sequence[str]) -> None:
    for path in paths:
        await fs.rm(path, recursive=True)


def _inside(fs: FileSystem, path: str, folder: str) -> bool:
    rel = fs.relpath(path, folder)
    return rel == "." or not rel.startswith("..")


def leaf_folders(fs: FileSystem, folders: Sequence[str]) -> list[str]:
    """The folders that hold none of the others (making them with parents makes the rest)."""
    ancestors: set[str] = set()
    for f in folders:
        p = fs.parent(f)
        while p not in ancestors and fs.parent(p) != p:
            ancestors.add(p)
            p = fs.parent(p)
    return sorted(f for f in set(folders) if f not in ancestors)
