"""Helpers shared by the file engine tests."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_tree(root: Path, files: dict[str, bytes | str]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)


def board_files(board_root: Path) -> dict[str, bytes]:
    """Every file in the board's folder, read on the host (not through the board)."""
    return {
        p.relative_to(board_root).as_posix(): p.read_bytes()
        for p in sorted(board_root.rglob("*"))
        if p.is_file()
    }
