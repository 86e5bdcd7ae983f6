"""This computer's side of the Files tab: a FileSystem over the local disk."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import hashlib
import os
import shutil
import stat as stat_mod
import tempfile
from pathlib import Path
from typing import BinaryIO

from mptui.board.fs import Entry
from mptui.services.filesystem import FileInfo, FileSystem, Progress
from mptui.services.ignore import TEMP_SUFFIX

CHUNK = 1 << 16


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

    def _list(self, path: str) -> builtins.list[FileInfo]:
        out: builtins.list[FileInfo] = []
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

    async def walk(self, path: str) -> builtins.list[Entry]:  # (`list` is a method here)
        return await asyncio.to_thread(self._walk, path)

    def _walk(self, root: str) -> builtins.list[Entry]:
        if not os.path.isdir(root):
            raise NotADirectoryError(20, os.strerror(20), root)
        out: builtins.list[Entry] = []
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
        def work() -> dict[str, tuple[int, str]]:
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
        fd, tmp = await asyncio.to_thread(_temp_file_beside, path)
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
        def work() -> None:
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


def _temp_file_beside(path: str) -> tuple[int, str]:
    folder, name = os.path.split(os.path.abspath(path))
    return tempfile.mkstemp(prefix=f".{name}.", suffix=TEMP_SUFFIX, dir=folder)


def _flush(f: BinaryIO) -> None:
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
