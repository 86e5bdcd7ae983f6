"""What a board's agent keeps and what the host derives for it (PROTOCOL.md, "Keys").

The project's secrets (the password, the signing key) never go to a board. Each board gets an
id at install time and keeps only keys derived for it:

- its login key: PBKDF2-HMAC-SHA256(password, "mptui-login:" + id, LOGIN_ITERATIONS). A login
  is HMAC-SHA256(login key, the board's fresh nonce). Read from one board, it logs in to that
  board only, and finding the password from it costs LOGIN_ITERATIONS hashes per guess.
  The board never runs PBKDF2 (the host derives the key and sends it), so the count costs a
  small board nothing: it is a cost for the host (about 25 ms, once per board and process)
  and for whoever tries passwords against a stolen key.
- its signing key: HMAC-SHA256(project signing key, "mptui-sign:" + id). A manifest is signed
  for one board; a key read from one board signs releases for that board only.

Releases carry `seq`, a counter the board requires to grow (seconds since 2024, or one more
than the board's highest); release versions are ordered by `version_key`, as on the board.
Board ids the host has installed or pushed to are kept beside the secrets file
(`ota-boards.json`, not secret) so that `mptui ota bundle` can sign a bundle for each board.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from mptui.errors import MptuiError

T = TypeVar("T")

LOGIN_ITERATIONS = 100_000
SEQ_EPOCH = 1_704_067_200  # 2024-01-01 UTC: seq stays a small int on a 32-bit board until ~2058
BOARDS_FILE = "ota-boards.json"
_ID = re.compile(r"[0-9a-f]{8,32}\Z")
_PRE = {"dev": 0, "a": 1, "alpha": 1, "b": 2, "beta": 2, "c": 3, "rc": 3, "pre": 3, "preview": 3}


def board_id(text: object) -> str:
    """A board id as the agent gives it ("" for none or anything malformed: hostile input)."""
    return text if isinstance(text, str) and _ID.match(text) else ""


@lru_cache(maxsize=256)
def login_key(password: str, board: str) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), f"mptui-login:{board}".encode(),
                               LOGIN_ITERATIONS)


def auth_response(password: str, nonce_hex: str, board: str) -> str:
    """The answer to a board's login challenge: the password never crosses the link and an
    answer is good for that one connection only."""
    return hmac.new(login_key(password, board), bytes.fromhex(nonce_hex), hashlib.sha256).hexdigest()


BACKOFF_PATIENCE = 5.0  # seconds a client waits out a board's back-off before giving up


def backoff_wait(detail: str) -> float | None:
    """The seconds a board's back-off answer ("... wait N s") asks for, if worth waiting."""
    m = re.search(r"wait (\d{1,3}) s", detail)
    return float(m.group(1)) if m and int(m.group(1)) <= BACKOFF_PATIENCE else None


class AgentError(MptuiError):
    """An agent's answer that refused or failed (OtaError, RemoteIOError): its kind (denied,
    backoff, unreachable, ...) and detail."""

    kind: str
    detail: str


async def log_in(attempt: Callable[[str], Awaitable[T]], close: Callable[[], Awaitable[None]],
                 password: str, fallback: str, error: type[AgentError]) -> T:
    """Open and log in to an agent with `attempt(password)`, then `fallback` where that is
    denied (after an unfinished passwd); a short back-off (after wrong passwords from here)
    is waited out, up to three times. `error`: the link's own AgentError."""
    for _ in range(3):
        try:
            try:
                return await attempt(password)
            except error as e:
                if e.kind != "denied" or not fallback:
                    raise
                await close()
                return await attempt(fallback)
        except error as e:
            wait = backoff_wait(e.detail) if e.kind == "backoff" else None
            await close()
            if wait is None:
                raise
            await asyncio.sleep(wait)
    return await attempt(password)


def signing_key(project_key: str, board: str) -> str:
    """A board's own signing key (hex), derived from the project's."""
    return hmac.new(project_key.encode(), f"mptui-sign:{board}".encode(), hashlib.sha256).hexdigest()


def signing_payload(manifest: dict[str, Any]) -> bytes:
    """The version, `seq N` (+ ` downgrade`), then `path:sha256` lines in path order."""
    files = manifest["files"]
    head = f"seq {manifest['seq']}" + (" downgrade" if manifest.get("downgrade") is True else "")
    lines = [manifest["version"], head] + [f"{p}:{files[p][1]}" for p in sorted(files)]
    return "\n".join(lines).encode()


def sign(board_key_hex: str, manifest: dict[str, Any]) -> str:
    return hmac.new(bytes.fromhex(board_key_hex), signing_payload(manifest), hashlib.sha256).hexdigest()


def next_seq(top: int = 0) -> int:
    """A release counter above the board's highest (`top`) and every earlier one from here."""
    return max(int(time.time()) - SEQ_EPOCH, int(top) + 1, 1)


def version_key(version: str) -> list[tuple[int, int | str]]:
    """As the agent orders versions (release.py `vkey`): numbers as numbers, pre-release words
    before the end, other words after; ASCII letters ignore case, anything else separates."""
    def kind(ch: str) -> int:
        return 1 if "0" <= ch <= "9" else 2 if "a" <= ch <= "z" else 0

    out: list[tuple[int, int | str]] = []
    tok = ""
    for ch in version + " ":
        ch = chr(ord(ch) + 32) if "A" <= ch <= "Z" else ch
        k = kind(ch)
        if tok and k != kind(tok[0]):
            out.append((3, int(tok)) if kind(tok[0]) == 1 else (0, _PRE[tok]) if tok in _PRE
                       else (2, tok))
            tok = ""
        if k:
            tok += ch
    return out


def older(a: str, b: str) -> bool:
    """Is version a older than version b?"""
    ka, kb = version_key(a), version_key(b)
    n = max(len(ka), len(kb))
    return ka + [(1, 0)] * (n - len(ka)) < kb + [(1, 0)] * (n - len(kb))


# -- the boards this project's keys were given to -----------------------------------------------


def boards_file(secrets_path: Path) -> Path:
    return Path(secrets_path).with_name(BOARDS_FILE)


def known_boards(secrets_path: Path) -> dict[str, str]:
    """{board id: where it was last seen} ({} when the file is missing or unreadable)."""
    try:
        data = json.loads(boards_file(secrets_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: str(v)[:200] for k, v in data.items() if board_id(k)}


def remember_board(secrets_path: Path, board: str, where: str) -> None:
    """Note a board id (atomically; a file that cannot be written is left alone)."""
    if not board_id(board):
        return
    known = known_boards(secrets_path)
    if known.get(board) == where:
        return
    known[board] = where
    path = boards_file(secrets_path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass
