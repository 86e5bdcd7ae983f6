"""Where mptui keeps its files: config, data (virtual boards' folders), themes, the log."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "mptui"
# Linux: the XDG base directories as platformdirs gives them (a value that is not an absolute
# path counts as unset), without importing it (and what it imports) at every start.
_XDG = {"data": ("XDG_DATA_HOME", ".local/share"), "config": ("XDG_CONFIG_HOME", ".config"),
        "cache": ("XDG_CACHE_HOME", ".cache"), "state": ("XDG_STATE_HOME", ".local/state")}


def _user_path(kind: str) -> Path:
    if sys.platform.startswith("linux"):
        var, default = _XDG[kind]
        base = os.environ.get(var, "")
        if not os.path.isabs(base):
            base = os.path.join(os.path.expanduser("~"), default)
        return Path(base) / APP
    import platformdirs

    path: Path = getattr(platformdirs, f"user_{kind}_path")(APP)
    return path


def data_dir() -> Path:
    env = os.environ.get("MPTUI_DATA_DIR")
    return Path(env) if env else _user_path("data")


def config_dir() -> Path:
    return _user_path("config")


def cache_dir() -> Path:
    """What mptui can make again (compiled .mpy files): ~/.cache/mptui on Linux."""
    return _user_path("cache")


def virtual_board_root(name: str) -> Path:
    """The folder that is `/` of the virtual board called `name`."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "default"
    return data_dir() / "boards" / safe


def log_file() -> Path:
    """The default log file: in the user's state folder (~/.local/state/mptui/log on Linux),
    or in $MPTUI_STATE_DIR when set (tests)."""
    env = os.environ.get("MPTUI_STATE_DIR")
    if env:
        folder = Path(env)
    elif sys.platform.startswith("linux"):
        folder = _user_path("state") / "log"
    else:
        import platformdirs

        folder = platformdirs.user_log_path(APP)
    return folder / "mptui.log"


def state_dir() -> Path:
    """What mptui keeps while it runs (the kept virtual boards' sockets and pids):
    ~/.local/state/mptui on Linux, or $MPTUI_STATE_DIR when set (tests)."""
    env = os.environ.get("MPTUI_STATE_DIR")
    return Path(env) if env else _user_path("state")
