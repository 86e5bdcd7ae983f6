"""Where mptui keeps its files: config, data (virtual boards' folders), themes, the log."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "mptui"


def data_dir() -> Path:
    env = os.environ.get("MPTUI_DATA_DIR")
    return Path(env) if env else platformdirs.user_data_path(APP)


def config_dir() -> Path:
    return platformdirs.user_config_path(APP)


def cache_dir() -> Path:
    """What mptui can make again (compiled .mpy files): ~/.cache/mptui on Linux."""
    return platformdirs.user_cache_path(APP)


def virtual_board_root(name: str) -> Path:
    """The folder that is `/` of the virtual board called `name`."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "default"
    return data_dir() / "boards" / safe


def log_file() -> Path:
    """The default log file: in the user's state folder (~/.local/state/mptui/log on Linux),
    or in $MPTUI_STATE_DIR when set (tests)."""
    env = os.environ.get("MPTUI_STATE_DIR")
    folder = Path(env) if env else platformdirs.user_log_path(APP)
    return folder / "mptui.log"


def state_dir() -> Path:
    """What mptui keeps while it runs (the kept virtual boards' sockets and pids):
    ~/.local/state/mptui on Linux, or $MPTUI_STATE_DIR when set (tests)."""
    env = os.environ.get("MPTUI_STATE_DIR")
    return Path(env) if env else platformdirs.user_state_path(APP)
