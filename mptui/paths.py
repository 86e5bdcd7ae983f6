"""Where mptui keeps its files: config, data (virtual boards' folders), themes."""

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


def virtual_board_root(name: str) -> Path:
    """The folder that is `/` of the virtual board called `name`."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "default"
    return data_dir() / "boards" / safe
