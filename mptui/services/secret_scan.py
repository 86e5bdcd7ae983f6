"""Secrets by what a file holds, not by its name: a private key (PEM, OpenSSH, PuTTY) or
mptui's OTA secrets (its header, or a TOML file of exactly its keys with the signing key).
The ignore set's UploadPolicy (ignore.py) decides what to do with them."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any

_PEM_KEY = re.compile(rb"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----")
_OTA_HEADER = b"# mptui OTA secrets"
OTA_SECRET_KEYS = frozenset({"password", "signing_key", "previous_password"})


@dataclass(frozen=True)
class Secret:
    what: str  # "a private key (PEM RSA)"
    never: bool = False  # mptui's own OTA secrets: no flag sends them


def secret_in(data: bytes) -> Secret | None:
    """What secret data looks like it holds (by its content, not its name), or None."""
    m = _PEM_KEY.search(data)
    if m:
        kind = m.group(1).decode().strip()
        return Secret("an OpenSSH private key" if kind == "OPENSSH" else
                      f"a private key (PEM{' ' + kind if kind else ''})")
    if data.startswith(b"PuTTY-User-Key-File-"):
        return Secret("a PuTTY private key")
    if data.startswith(_OTA_HEADER) or (b"signing_key" in data and len(data) < 65536
                                         and _ota_keys(data)):
        return Secret("mptui's OTA secrets (signing key, password)", never=True)
    return None


def _ota_keys(data: bytes) -> bool:
    """A TOML file holding only the keys of mptui's OTA secrets file, the signing key among them."""
    try:
        doc = read_toml(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return "signing_key" in doc and set(doc) <= OTA_SECRET_KEYS


def read_toml(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib.loads(text)
