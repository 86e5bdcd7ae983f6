"""Shared fixtures: every test gets its own data dir and config, and boards of its own."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mptui.board import Session


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    """Keep tests away from the user's data dir and config."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("MPTUI_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("MPTUI_CONFIG", str(home / "config.toml"))
    return home


@pytest.fixture
def board_root(tmp_path):
    root = tmp_path / "board"
    root.mkdir()
    return root


@pytest.fixture
async def session(board_root):
    """A connected session to a virtual board whose `/` is `board_root`."""
    s = Session("virtual:test", root=board_root)
    await s.connect()
    yield s
    await s.close()


def run_cli(*args, input: bytes | None = None, timeout: float = 60, env=None):
    """Run the real `mptui` command (as `python -m mptui`)."""
    return subprocess.run(
        [sys.executable, "-m", "mptui", *args],
        input=input,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
