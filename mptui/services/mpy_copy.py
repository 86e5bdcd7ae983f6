"""cp --mpy: the sources go through MpyTransform before the copier sees them, and the board's
stale .py goes once its .mpy is in place.

The copier is not touched: each local source is staged in a private temporary folder as the
board will get it (what the ignore set lets go, each .py but main.py and boot.py compiled to
its .mpy), and the copier copies the staged files (atomically, skipping unchanged ones by hash,
as for any copy). After the copy, `remove_stale` deletes `x.py` next to each `x.mpy` sent: a
board imports a .py before a .mpy of the same name.
"""

from __future__ import annotations

import asyncio
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from mptui.services.filesystem import FileSystem
from mptui.services.ignore import IgnoreRules, walk
from mptui.services.mpy import MpyTransform


@dataclass
class Staged:
    path: str  # the staged source, to give the copier
    warnings: list[str] = field(default_factory=list)


class MpyStage:
    """Stage local sources for a board in `folder` (a fresh temporary folder)."""

    def __init__(self, transform: MpyTransform, folder: str, follow_symlinks: bool = False) -> None:
        self.transform, self.folder, self.follow = transform, folder, follow_symlinks
        self.compiled: set[str] = set()  # staged .mpy paths that came from a .py
        self._n = 0

    async def add(self, source: str) -> Staged:
        """The staged copy of one local file or folder (same base name, or .mpy for a .py)."""
        self._n += 1
        home = os.path.join(self.folder, str(self._n))
        base = os.path.basename(source.rstrip("/" + os.sep)) or "source"
        if not await asyncio.to_thread(os.path.isdir, source):
            return Staged(await self._put(home, base, await _read(source)))
        staged = Staged(os.path.join(home, base))
        await asyncio.to_thread(os.makedirs, staged.path)
        for rel, is_dir in await asyncio.to_thread(self._entries, source, staged.warnings):
            if is_dir:
                await asyncio.to_thread(os.makedirs, os.path.join(staged.path, rel), exist_ok=True)
            else:
                await self._put(staged.path, rel, await _read(os.path.join(source, rel)))
        return staged

    def _entries(self, root: str, warnings: list[str]) -> list[tuple[str, bool]]:
        out = []
        for rel, entry in walk(IgnoreRules(root=root), "", warnings, None, self.follow):
            if entry.is_dir(follow_symlinks=False):
                out.append((rel, True))
            elif entry.is_file():
                out.append((rel, False))
        warnings[:] = [os.path.join(root, line) for line in warnings]
        return out

    async def _put(self, home: str, rel: str, data: bytes) -> str:
        name, out = await self.transform(rel, data)
        path = os.path.join(home, *name.split("/"))
        await asyncio.to_thread(_write, path, out)
        if name != rel:
            self.compiled.add(path)
        return path


async def _read(path: str) -> bytes:
    return await asyncio.to_thread(Path(path).read_bytes)


def _write(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Path(path).write_bytes(data)


async def remove_stale(board: FileSystem, sent: list[str]) -> list[str]:
    """Remove `x.py` beside each board path `x.mpy` in sent (the .mpy is there now); returns
    what went."""
    gone = []
    for path in sent:
        stale = path[:-4] + ".py"
        if posixpath.basename(stale) in ("main.py", "boot.py") or not path.endswith(".mpy"):
            continue
        if await board.exists(stale) and await board.exists(path):  # (never a .py alone)
            await board.rm(stale)
            gone.append(stale)
    return gone
