"""One filesystem interface for both sides of the Files tab: a local folder (`LocalFS`, in
localfs.py) and a board (`BoardFSAdapter`, in boardfs.py).

A file pane holds a `FileSystem` and never needs to know which side it shows. Both sides write
atomically (a temporary name, then a rename), so a failed, cancelled or killed transfer leaves
the old file or none, never half a new one. copier.py copies, moves and deletes marked
entries between sides with progress (bytes/s); cancel its task to stop it.

Errors: a missing file, a full disk and the like are `OSError`s on both sides (a board's
errno is mapped, so `FileNotFoundError` is the same on both); a lost board is a `BoardError`.
"""

from __future__ import annotations

import builtins
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mptui.board.fs import Entry

Progress = Callable[[int, int], None]  # (bytes done, bytes in all) for one file


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
    async def walk(self, path: str) -> builtins.list[Entry]:  # (`list` is a method here)
        """Everything under a folder, as '/'-separated paths relative to it."""

    async def sha256(self, path: str) -> str:
        """The sha256 (hex) of a file's content."""
        return hashlib.sha256(await self.read(path)).hexdigest()

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

    async def write_many(self, files: Sequence[tuple[str, bytes, Progress | None]]) -> None:
        """Write each file as write() does, in order; a side that can do better (a board:
        one pipelined stream, no round trip per file) overrides this. An error is raised as
        write() raises it (a board raises its first once it has written the others)."""
        for path, data, progress in files:
            await self.write(path, data, progress)

    @abstractmethod
    async def mkdir(self, path: str, parents: bool = False) -> None: ...

    @abstractmethod
    async def rm(self, path: str, recursive: bool = False) -> None: ...

    @abstractmethod
    async def rename(self, old: str, new: str) -> None: ...
