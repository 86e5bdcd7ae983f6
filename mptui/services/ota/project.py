"""An OTA project: the release folder and settings in `mptui.toml`, secrets in a file of their own.

    [ota]
    version = "1.0.0"
    source = "app"                  # the release folder, relative to mptui.toml
    include = ["**"]                # which files of it to push
    ignore = ["__pycache__/", "*.pyc", ".*"]   # beside ignore.py's (never the secrets file)
    allow_secrets = ["certs/device.key"]   # private keys that may go (skipped by default)
    mpy = ["lib/**"]                # .py files compiled to .mpy when mpy-cross matches the board
    boards = ["kitchen", "ota://192.168.1.40"]   # the fleet, for --all
    secrets = ".mptui-secrets.toml" # never committed (`mptui ota init` adds it to .gitignore)

    [ota.agent]                     # what `mptui ota install` configures on a board
    port = 2018
    bind = "0.0.0.0"                # default 127.0.0.1; 0.0.0.0: reachable over the board's WiFi
    good_after = 30                 # seconds up before a new release counts as good
    pull = ""                       # http://HOST:PORT/ to poll for bundles; empty: push only
    pull_every = 60
    remoteio_port = 2019            # live print() stream and RPC (0: off); see agent/REMOTEIO.md
    announce_every = 5              # UDP announcements for `mptui devices --network`

The secrets file holds `password` and `signing_key`; boards keep only keys derived from them for
that one board (ota/keys.py). Neither is ever printed.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from mptui.errors import UsageError
from mptui.services.mpy import MpyCompiler, MpyError, split_mpy
from mptui.services.ota.keys import login_key, next_seq, sign, signing_key

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROJECT_FILE = "mptui.toml"
DEFAULT_SECRETS = ".mptui-secrets.toml"  # ignore.SECRETS_FILE: never sent to a board
DEFAULT_IGNORE = ["__pycache__/", "*.pyc", ".*"]
# Never part of a release: the agent, its state, the board's config and data, boot.py.
PROTECTED = ("mptui_agent", "config", "data", "boot.py", "boot.mpy")
AGENT_KEYS: dict[str, type | tuple[type, ...]] = {"port": int, "bind": str, "good_after": (int, float), "pull": str,
              "pull_every": (int, float), "timeout": (int, float), "stack": int,
              # RemoteIO and announcements (mptui/agent/REMOTEIO.md)
              "name": str, "remoteio_port": int, "remoteio_bind": str, "remoteio_buffer": int,
              "remoteio_clients": int, "remoteio_max_line": int, "remoteio_sndbuf": int,
              "announce": str, "announce_port": int, "announce_every": (int, float),
              # who may connect (mptui/agent/gate.py)
              "clients": int, "pending": int, "login_timeout": (int, float)}
NEVER_MPY = {"main.py", "boot.py"}


class ProjectError(UsageError):
    """A bad or missing project file: a usage error, one line."""


@dataclass
class Secrets:
    path: Path
    password: str = ""
    signing_key: str = ""
    previous_password: str = ""  # kept while some boards may still have it (see `ota passwd`)

    def __repr__(self) -> str:  # never show the values
        return f"Secrets({self.path}, password={'set' if self.password else 'unset'}, " \
               f"signing_key={'set' if self.signing_key else 'unset'})"

    def login_key(self, board: str, password: str | None = None) -> str:
        """The login key (hex) a board with this id keeps; "" with no password."""
        password = self.password if password is None else password
        return login_key(password, board).hex() if password else ""

    def board_signing_key(self, board: str) -> str:
        return signing_key(self.signing_key, board) if self.signing_key else ""

    def save(self) -> None:
        lines = ["# mptui OTA secrets: keep out of version control (see .gitignore)"]
        if self.password:
            lines.append(f"password = {json.dumps(self.password)}")
        if self.signing_key:
            lines.append(f"signing_key = {json.dumps(self.signing_key)}")
        if self.previous_password:
            lines.append(f"previous_password = {json.dumps(self.previous_password)}")
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(self.path)


@dataclass
class Project:
    path: Path  # mptui.toml
    version: str
    source: Path
    include: list[str] = field(default_factory=lambda: ["**"])
    ignore: list[str] = field(default_factory=lambda: list(DEFAULT_IGNORE))
    mpy: list[str] = field(default_factory=list)
    boards: list[str] = field(default_factory=list)
    agent: dict[str, Any] = field(default_factory=dict)
    secrets: Secrets | None = None
    allow_secrets: list[str] = field(default_factory=list)  # files whose private keys may go
    warnings: list[str] = field(default_factory=list)  # what files() left out, and why

    @property
    def root(self) -> Path:
        return self.path.parent

    def files(self) -> dict[str, bytes]:
        """The release as pushed to a board without .mpy: {board path: bytes}. What the ignore
        set leaves out (ignore.py: mptui's secrets file always, the defaults and `.mptuiignore`
        files, then `ignore`) is not in it; a file holding a private key is left out with a
        line in `warnings` unless `allow_secrets` names it."""
        from mptui.services.ignore import IgnoreRules, UploadPolicy, walk

        if not self.source.is_dir():
            raise ProjectError(f"{self.path}: the release folder {self.source} does not exist")
        rules = IgnoreRules(root=self.source)
        rules.add("", self.ignore, f"{PROJECT_FILE} [ota] ignore")
        policy = UploadPolicy(follow_symlinks=True, allowed=tuple(self.allow_secrets),
                              how=f"list it in {PROJECT_FILE} [ota] allow_secrets to send it")
        out, self.warnings = {}, []
        for rel, entry in sorted(walk(rules, "", self.warnings, None, True), key=lambda x: x[0]):
            if entry.is_file() and self.selected(rel):
                data = Path(entry.path).read_bytes()
                refused = policy.refuse(rel, data)
                if refused:
                    self.warnings.append(refused)
                else:
                    out[rel] = data
        if not out:
            raise ProjectError(f"{self.path}: the release folder {self.source} has no files to push")
        return out

    def selected(self, rel: str) -> bool:
        """Whether an entry the ignore set let through is in the release (`include`)."""
        if not any(glob_match(rel, pat) for pat in self.include):
            return False
        if rel.split("/")[0] in PROTECTED or rel.startswith(".ota"):
            raise ProjectError(f"{rel}: a release cannot contain {rel.split('/')[0]} "
                               "(protected on the board); add it to ignore")
        return True

    def build(self, board_mpy: int | None = None) -> Release:
        """The release for one board: .py files matching `mpy` become .mpy when mpy-cross
        emits what the board loads."""
        files = self.files()
        if self.mpy and board_mpy is not None and mpy_cross_matches(board_mpy):
            compiled = {}
            for rel, data in files.items():
                if rel.endswith(".py") and rel not in NEVER_MPY and any(glob_match(rel, p) for p in self.mpy):
                    compiled[rel[:-3] + ".mpy"] = compile_mpy(rel, data, board_mpy)
                else:
                    compiled[rel] = data
            files = compiled
        return Release(self.version, files, self.secrets.signing_key if self.secrets else "")


@dataclass
class Release:
    version: str
    files: dict[str, bytes]
    signing_key: str = ""

    def __post_init__(self) -> None:
        self.hashes = {p: (len(d), hashlib.sha256(d).hexdigest()) for p, d in self.files.items()}

    @property
    def size(self) -> int:
        return sum(len(d) for d in self.files.values())

    def manifest(self, boards: str | list[str] = "", seq: int | None = None,
                 downgrade: bool = False) -> bytes:
        """Compact JSON: version, seq (the release counter), files {path: [size, sha256]},
        downgrade (when allowed), and `sig`, signed with the key of one board (a board id), or
        `sigs` {board id: signature} for a list of them (a bundle for pull mode)."""
        m = {"version": self.version, "seq": next_seq() if seq is None else seq,
             "files": {p: list(h) for p, h in sorted(self.hashes.items())}}
        if downgrade:
            m["downgrade"] = True
        if isinstance(boards, str):
            m["sig"] = sign(signing_key(self.signing_key, boards), m) if self.signing_key else ""
        else:
            m["sigs"] = {b: sign(signing_key(self.signing_key, b), m) for b in boards} \
                if self.signing_key else {}
        return json.dumps(m, separators=(",", ":")).encode()


# -- finding and reading the project ---------------------------------------------------------


def find_project(start: Path | None = None) -> Path:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder / PROJECT_FILE
    raise ProjectError(f"no {PROJECT_FILE} here or above {here}; run `mptui ota init` first")


def load_project(path: Path | None = None) -> Project:
    path = Path(path) if path else find_project()
    if path.is_dir():
        path = path / PROJECT_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file; run `mptui ota init` first") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ProjectError(f"{path}: {e}") from None
    ota = data.get("ota")
    if not isinstance(ota, dict):
        raise ProjectError(f"{path}: no [ota] table; run `mptui ota init`")
    version = ota.get("version")
    if not isinstance(version, str) or not version.strip() or "\n" in version \
            or len(version.strip()) > 64:
        raise ProjectError(f"{path}: [ota] version must be a one-line string (64 characters at most)")
    lists = {}
    for key, default in (("include", ["**"]), ("ignore", DEFAULT_IGNORE), ("mpy", []), ("boards", []),
                         ("allow_secrets", [])):
        value = ota.get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ProjectError(f"{path}: [ota] {key} must be a list of strings")
        lists[key] = list(value)
    agent = ota.get("agent", {})
    if not isinstance(agent, dict):
        raise ProjectError(f"{path}: [ota.agent] must be a table")
    for key, value in agent.items():
        if key not in AGENT_KEYS or isinstance(value, bool) or not isinstance(value, AGENT_KEYS[key]):
            raise ProjectError(f"{path}: [ota.agent] {key} = {value!r} is not a valid setting")
    source = path.parent / str(ota.get("source", "app"))
    secrets = load_secrets(path.parent / str(ota.get("secrets", DEFAULT_SECRETS)))
    return Project(path, version.strip(), source, secrets=secrets, agent=agent, **lists)


def load_secrets(path: Path) -> Secrets:
    secrets = Secrets(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return secrets
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ProjectError(f"{path}: cannot read the secrets file ({type(e).__name__})") from None
    for key in ("password", "signing_key", "previous_password"):
        value = data.get(key, "")
        if not isinstance(value, str):
            raise ProjectError(f"{path}: {key} must be a string")
        setattr(secrets, key, value)
    return secrets


# -- path patterns ---------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _glob_re(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def glob_match(rel: str, pattern: str) -> bool:
    """`*` within a folder name, `**` across folders; a pattern without / matches a file name
    at any depth."""
    pattern = pattern.strip().lstrip("/")
    if "/" not in pattern and pattern != "**":
        return bool(_glob_re(pattern).match(rel.rsplit("/", 1)[-1]))
    return bool(_glob_re(pattern).match(rel))


def ignored(rel: str, pattern: str) -> bool:
    """Whether one `ignore` pattern leaves rel out (gitignore syntax, as ignore.py reads it)."""
    from mptui.services.ignore import IgnoreRules

    rules = IgnoreRules(defaults=())
    rules.add("", [pattern])
    return rules.is_ignored(rel)


# -- .mpy --------------------------------------------------------------------------------------


def _compiler() -> MpyCompiler:
    """The one compiler (services/mpy.py) OTA shares with cp, sync and watch: its cache too."""
    global _COMPILER
    if _COMPILER is None:
        _COMPILER = MpyCompiler()
    return _COMPILER


_COMPILER: MpyCompiler | None = None


def mpy_cross_version() -> tuple[int, int] | None:
    """(version, sub-version) of the .mpy files the installed mpy-cross emits, or None."""
    try:
        return _compiler().emits_now()
    except MpyError:
        return None


def mpy_cross_matches(board_mpy: int) -> bool:
    """sys.implementation._mpy: low byte the version, bits 8-9 the sub-version."""
    return _compiler().matches_now(board_mpy)


def compile_mpy(rel: str, source: bytes, board_mpy: int | None = None) -> bytes:
    """The .mpy of one file, for the board's arch when board_mpy says it (cached)."""
    try:
        return _compiler().compile_now(source, rel, split_mpy(board_mpy)[1])
    except MpyError as e:
        raise ProjectError(f"mpy-cross failed: {e}") from None
