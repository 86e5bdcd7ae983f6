"""Helpers shared by the file engine tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

from mptui.board import BoardDisconnected, Session
from mptui.transports.virtual import VirtualTransport


async def board_session(name: str, root: Path, reconnect: bool = True) -> Session:
    """A connected session on a fresh virtual board whose folder is root.

    A virtual board that has just started can die when a Ctrl-C (every first operation sends
    some) lands as its start-up script ends; like a power cycle, it comes back. That happens
    here, not inside a test: the first operation is retried once.
    """
    session = Session(f"virtual:{name}", transport=VirtualTransport(name, root=root))
    await session.connect()
    try:
        await session.exec("pass")
    except BoardDisconnected:
        await session.wait_connected(15)
        await session.exec("pass")
    session.reconnect_enabled = reconnect
    return session


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
