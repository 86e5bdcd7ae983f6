"""Fixtures for the file engine tests: a real virtual board (the MicroPython unix port) with a
folder of its own, and a session on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from synchelp import board_session


@pytest.fixture
def board_root(tmp_path) -> Path:
    root = tmp_path / "board"
    root.mkdir()
    return root


@pytest.fixture
async def session(board_root):
    s = await board_session("sync-test", board_root)
    yield s
    await s.close()


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """The command line on an isolated virtual board: returns the board's folder."""
    monkeypatch.setenv("MPTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MPTUI_CONFIG", str(tmp_path / "no-config.toml"))
    return tmp_path / "data" / "boards" / "clitest"
