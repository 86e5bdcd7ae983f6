"""What differs between a local file and a board's: a unified diff for text, "binary" for the
rest. The board's content is fetched when asked (one read), never kept.

    diff = await file_diff(LocalFS(), "main.py", BoardFSAdapter(session), "/main.py")
    print(diff.text)   # '--- main.py\\n+++ :/main.py\\n@@ ...' ('' when the same)
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mptui.services.filesystem import FileSystem

if TYPE_CHECKING:
    from mptui.services.sync import PlanItem, Syncer, SyncPlan

SNIFF = 8192  # bytes looked at for a NUL


@dataclass(frozen=True)
class FileDiff:
    local_name: str
    board_name: str
    same: bool
    binary: bool = False  # one side is not UTF-8 text: no lines to compare
    text: str = ""  # the unified diff ('' when the same or binary)
    local_size: int = 0
    board_size: int = 0

    @property
    def summary(self) -> str:
        """One line: same, or binary and differ, or how many lines changed."""
        if self.same:
            return f"{self.local_name} and {self.board_name} are the same"
        if self.binary:
            return (f"binary files {self.local_name} ({self.local_size} B) and "
                    f"{self.board_name} ({self.board_size} B) differ")
        added = sum(1 for line in self.text.splitlines()
                    if line.startswith("+") and not line.startswith("+++"))
        removed = sum(1 for line in self.text.splitlines()
                      if line.startswith("-") and not line.startswith("---"))
        return f"{self.board_name} -> {self.local_name}: +{added} -{removed} lines"


def as_text(data: bytes) -> str | None:
    """The bytes as text, or None for binary (a NUL early on, or not UTF-8)."""
    if b"\0" in data[:SNIFF]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def diff_bytes(local: bytes, board: bytes, local_name: str, board_name: str,
               context: int = 3) -> FileDiff:
    """The diff that turns the board's content into the local one (what a copy would do)."""
    sizes: dict[str, Any] = {"local_size": len(local), "board_size": len(board)}
    if local == board:
        return FileDiff(local_name, board_name, True, **sizes)
    old, new = as_text(board), as_text(local)
    if old is None or new is None:
        return FileDiff(local_name, board_name, False, binary=True, **sizes)
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 board_name, local_name, n=context)
    text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)
    return FileDiff(local_name, board_name, False, text=text, **sizes)


async def file_diff(local: FileSystem, local_path: str, board: FileSystem, board_path: str,
                    *, local_name: str | None = None, board_name: str | None = None,
                    context: int = 3) -> FileDiff:
    """Read both sides (the board's now) and compare them. A file not on the board compares
    as empty (all its lines new), as a copy would make it."""
    mine = await local.read(local_path)
    board_name = board_name or ":" + board_path
    try:
        theirs = await board.read(board_path)
    except FileNotFoundError:
        theirs, board_name = b"", f"{board_name} (not on the board)"
    return diff_bytes(mine, theirs, local_name or local_path, board_name, context)


async def plan_item_diff(syncer: Syncer, plan: SyncPlan, item: PlanItem) -> FileDiff:
    """A sync plan's changed file (services/sync.py): the board's now against what the sync
    would write (the local file, or the .mpy it compiles to: binary)."""
    local_rel = item.source or item.path
    board_path = syncer.remote.join(plan.remote_root, *item.path.split("/"))
    compiled = plan.compiled.get(board_path)
    if compiled is None:
        mine = await syncer.local.read(syncer.local.join(plan.local_root, *local_rel.split("/")))
    else:
        mine = compiled
    try:
        theirs = await syncer.remote.read(board_path)
    except FileNotFoundError:
        theirs = b""
    return diff_bytes(mine, theirs, local_rel, ":" + board_path)
