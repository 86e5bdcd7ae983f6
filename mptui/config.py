"""The user's config: TOML in the config dir (or $MPTUI_CONFIG), read once per process.

    theme = "mptui-dark"
    [boards.kitchen]
    address = "ws://192.168.1.40"
    password = "env:KITCHEN_PW"     # a reference, never the secret itself
    dtr = false
    [keys]
    "app.quit" = "ctrl+q"

A bad file gives one error naming the file and line; defaults are used instead.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from mptui.paths import config_dir

ENV = "MPTUI_CONFIG"


@dataclass
class BoardConfig:
    name: str
    address: str
    password: str | None = None  # "env:VAR", "file:PATH" or a literal (discouraged)
    options: dict = field(default_factory=dict)  # baudrate, dtr, rts, block_size, ...


@dataclass
class Config:
    path: Path
    boards: dict[str, BoardConfig] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    theme: str | None = None
    raw: dict = field(default_factory=dict)
    error: str | None = None  # why the file could not be used, one line

    def board_names(self) -> dict[str, str]:
        return {name: b.address for name, b in self.boards.items()}


def config_path() -> Path:
    env = os.environ.get(ENV)
    return Path(env) if env else config_dir() / "config.toml"


def load_config(path: Path | None = None) -> Config:
    path = path or config_path()
    cfg = Config(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return cfg
    except OSError as e:
        cfg.error = f"{path}: cannot read: {e.strerror or e}"
        return cfg
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        cfg.error = f"{path}: {e}"  # tomllib names the line and column
        return cfg
    try:
        _apply(cfg, data)
    except (TypeError, ValueError, KeyError) as e:
        cfg = Config(path, error=f"{path}: {e}")
    return cfg


def _apply(cfg: Config, data: dict) -> None:
    cfg.raw = data
    theme = data.get("theme")
    if theme is not None and not isinstance(theme, str):
        raise ValueError("'theme' must be a string")
    cfg.theme = theme
    keys = data.get("keys", {})
    if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
        raise ValueError("[keys] must map binding ids to key names")
    cfg.keys = dict(keys)
    boards = data.get("boards", {})
    if not isinstance(boards, dict):
        raise ValueError("[boards] must be a table of boards")
    for name, entry in boards.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("address"), str):
            raise ValueError(f"board {name!r} needs an 'address' string")
        opts = {k: v for k, v in entry.items() if k not in ("address", "password")}
        cfg.boards[name] = BoardConfig(name, entry["address"], entry.get("password"), opts)


def resolve_secret(ref: str | None) -> str | None:
    """A password reference: env:VAR, file:PATH, or the literal text."""
    if not ref:
        return None
    if ref.startswith("env:"):
        return os.environ.get(ref[4:])
    if ref.startswith("file:"):
        try:
            return Path(ref[5:]).expanduser().read_text().strip()
        except OSError:
            return None
    return ref
