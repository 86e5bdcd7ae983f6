"""The user's config: TOML in the config dir (or $MPTUI_CONFIG), read once per process.

    theme = "mptui-dark"            # or mptui-light, a Textual theme, or one in themes/
    [boards.kitchen]
    address = "ws://192.168.1.40"
    password = "env:KITCHEN_PW"     # a reference, never the secret itself
    dtr = false
    [keys]                          # binding id = key(s); F1 in the app lists them all
    "app.quit" = "ctrl+q"
    "repl.leave" = "ctrl+right_square_bracket"
    [repl]
    scrollback = 5000               # lines kept above the screen
    inject_code = "import main\r"   # what Ctrl-J types (asked for when not set)
    inject_file = "~/project/main.py"   # what Ctrl-K runs (asked for when not set)
    [logs]
    lines = 10000                   # lines the Logs tab keeps (the oldest go first)
    [network]                       # boards whose agent announces itself (UDP)
    announce_port = 2020            # 0: do not listen
    announce_bind = "127.0.0.1"     # boards on this computer; "0.0.0.0": the local network
    [commands]                      # shortcuts and macros (see mptui/macros.py)
    boot = "soft-reset + exec 'import main'"

A bad file gives one error naming the file and line; defaults are used instead. User themes
are TOML files in the `themes` folder next to the config file. The app writes the choices made
in it (the theme, Ctrl-J's code, Ctrl-K's file) back here: `mptui.settings`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mptui.errors import MptuiError, UsageError
from mptui.paths import config_dir

if TYPE_CHECKING:
    from mptui.macros import Macro

ENV = "MPTUI_CONFIG"
WEBREPL_PASSWORD_ENV = "MPTUI_WEBREPL_PASSWORD"  # every WebREPL board's password, when set


@dataclass
class BoardConfig:
    name: str
    address: str
    # "env:VAR", "file:PATH" or a literal (discouraged); never in a repr (an error, a log)
    password: str | None = field(default=None, repr=False)
    options: dict[str, Any] = field(default_factory=dict)  # baudrate, dtr, rts, block_size, ...


@dataclass
class ReplConfig:
    scrollback: int = 5000
    inject_code: str | None = None
    inject_file: str | None = None


@dataclass
class LogsConfig:
    lines: int = 10_000


@dataclass
class NetworkConfig:
    announce_port: int = 2020  # 0: the app does not listen for announcements
    announce_bind: str = "127.0.0.1"  # loopback unless configured


@dataclass
class Config:
    path: Path
    boards: dict[str, BoardConfig] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    theme: str | None = None
    repl: ReplConfig = field(default_factory=ReplConfig)
    logs: LogsConfig = field(default_factory=LogsConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    commands: dict[str, Macro] = field(default_factory=dict)  # [commands]: mptui.macros
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # the file as read: passwords too
    error: str | None = None  # why the file could not be used, one line


def config_path() -> Path:
    env = os.environ.get(ENV)
    return Path(env) if env else config_dir() / "config.toml"


def themes_dir() -> Path:
    """User themes: the `themes` folder next to the config file."""
    return config_path().parent / "themes"


def key_line(text: str, key: str | None = None, table: str | None = None) -> int | None:
    """The line (from 1) where `key = ...` or the `[table]` header first appears in TOML text,
    to point at it in an error."""
    if table:
        pattern = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]")
    else:
        pattern = re.compile(rf"""^\s*["']?{re.escape(key or '')}["']?\s*=""")
    for n, line in enumerate(text.splitlines(), 1):
        if pattern.search(line):
            return n
    return None


class ConfigValueError(MptuiError, ValueError):
    """A value of the wrong kind; `key` says where, to find its line."""

    def __init__(self, message: str, key: str | None = None, table: str | None = None) -> None:
        super().__init__(message)
        self.key, self.table = key, table


def load_config(path: Path | None = None) -> Config:
    path = path or config_path()
    cfg = Config(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return cfg
    except OSError as e:
        cfg.error = f"{path}: cannot read: {e.strerror or e}"
        return cfg
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        n = data.count(b"\n", 0, e.start) + 1
        cfg.error = f"{path}, line {n}: not UTF-8 text (TOML files are UTF-8)"
        return cfg
    if sys.version_info >= (3, 11):  # (imported here: no config file, no TOML parser loaded)
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        cfg.error = f"{path}: {e}"  # tomllib names the line and column
        return cfg
    try:
        _apply(cfg, table)
    except ConfigValueError as e:
        line = key_line(text, e.key, e.table)
        where = f"{path}, line {line}" if line else str(path)
        cfg = Config(path, error=f"{where}: {e}")
    except (TypeError, ValueError, KeyError) as e:
        cfg = Config(path, error=f"{path}: {e}")
    return cfg


def _apply(cfg: Config, data: dict[str, Any]) -> None:
    cfg.raw = data
    theme = data.get("theme")
    if theme is not None and not isinstance(theme, str):
        raise ConfigValueError("'theme' must be a string", key="theme")
    cfg.theme = theme
    keys = data.get("keys", {})
    if not isinstance(keys, dict):
        raise ConfigValueError("[keys] must map binding ids to key names", key="keys")
    for binding_id, key in keys.items():
        if not isinstance(key, str):
            raise ConfigValueError(f"[keys] {binding_id!r} must be a key name", key=binding_id)
    cfg.keys = dict(keys)
    boards = data.get("boards", {})
    if not isinstance(boards, dict):
        raise ConfigValueError("[boards] must be a table of boards", key="boards")
    for name, entry in boards.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("address"), str):
            raise ConfigValueError(
                f"board {name!r} needs an 'address' string", table=f"boards.{name}"
            )
        opts = {k: v for k, v in entry.items() if k not in ("address", "password")}
        cfg.boards[name] = BoardConfig(name, entry["address"], entry.get("password"), opts)
    repl = data.get("repl", {})
    if not isinstance(repl, dict):
        raise ConfigValueError("[repl] must be a table", key="repl")
    scrollback = repl.get("scrollback", 5000)
    if not isinstance(scrollback, int) or isinstance(scrollback, bool) or scrollback < 0:
        raise ConfigValueError("[repl] 'scrollback' must be a number of lines", key="scrollback")
    for key in ("inject_code", "inject_file"):
        if not isinstance(repl.get(key, ""), str):
            raise ConfigValueError(f"[repl] {key!r} must be a string", key=key)
    cfg.repl = ReplConfig(scrollback, repl.get("inject_code"), repl.get("inject_file"))
    logs = _table(data, "logs")
    lines = logs.get("lines", LogsConfig.lines)
    if not _int(lines) or lines < 1:
        raise ConfigValueError("[logs] 'lines' must be a number of lines (1 or more)",
                               key="lines")
    cfg.logs = LogsConfig(lines)
    network = _table(data, "network")
    port = network.get("announce_port", NetworkConfig.announce_port)
    if not _int(port) or not 0 <= port < 65536:
        raise ConfigValueError("[network] 'announce_port' must be a UDP port (0: off)",
                               key="announce_port")
    bind = network.get("announce_bind", NetworkConfig.announce_bind)
    if not isinstance(bind, str) or not bind:
        raise ConfigValueError("[network] 'announce_bind' must be an address",
                               key="announce_bind")
    cfg.network = NetworkConfig(port, bind)
    if "commands" in data:
        from mptui.macros import parse_macros

        try:
            cfg.commands = parse_macros(data["commands"])
        except ValueError as e:
            raise ConfigValueError(str(e), table="commands") from None


# what a config may hold
TOP_LEVEL = ("theme", "boards", "keys", "repl", "logs", "network", "commands")


def unknown_top_level(cfg: Config) -> list[str]:
    """Top-level keys the config file has and mptui does not know (a typo, an old name)."""
    return sorted(set(cfg.raw) - set(TOP_LEVEL))


def _table(data: dict[str, Any], name: str) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigValueError(f"[{name}] must be a table", key=name)
    return table


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class SecretError(UsageError, ValueError):
    """A password reference that cannot be followed (the message names it, never a secret)."""


def resolve_secret(ref: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """A password reference: env:VAR (None when not set; read in `environ`, default
    os.environ), file:PATH, or the literal text. SecretError for a file that cannot be read."""
    if not ref:
        return None
    if ref.startswith("env:"):
        return (os.environ if environ is None else environ).get(ref[4:])
    if ref.startswith("file:"):
        path = Path(ref[5:]).expanduser()
        try:
            return path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise SecretError(f'password "{ref}": {path} does not exist') from None
        except OSError as e:
            raise SecretError(f'password "{ref}": cannot read {path}: {e.strerror or e}') from None
        except UnicodeDecodeError:
            raise SecretError(f'password "{ref}": {path} is not UTF-8 text') from None
    return ref
