"""Fixtures for the file engine tests: a real virtual board (the MicroPython unix port) with a
folder of its own, and a session on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mptui.board import BoardDisconnected, Session
from mptui.transports.virtual import VirtualTransport


@pytest.fixture
def board_root(tmp_path) -> Path:
    root = tmp_path / "board"
    root.mkdir()
    return root


@pytest.fixture
async def session(board_root):
    transport = VirtualTransport("sync-test", root=board_root)
    s = Session("virtual:sync-test", transport=transport, reconnect=True)
    await s.connect()
    # A virtual board that has just started can die when a Ctrl-C (every first operation
    # sends some) lands as its start-up script ends; like a power cycle, it comes back. Let
    # that happen here, not inside a test.
    try:
        await s.exec("pass")
    except BoardDisconnected:
        await s.wait_connected(15)
        await s.exec("pass")
    yield s
    await s.close()


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """The command line on an isolated virtual board: returns the board's folder."""
    monkeypatch.setenv("MPTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MPTUI_CONFIG", str(tmp_path / "no-config.toml"))
    return tmp_path / "data" / "boards" / "clitest"
