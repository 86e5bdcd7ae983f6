"""Device addresses: one string names a board everywhere (command line, config, UI)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mptui.errors import UsageError

FORMS = (
    "/dev/ttyACM0 or serial:///dev/ttyACM0 (or COM3)",
    "socket://HOST:PORT",
    "rfc2217://HOST:PORT",
    "ws://HOST[:PORT] (WebREPL, port 8266 by default)",
    "ble:NAME-or-ADDRESS",
    "virtual or virtual:NAME",
    "a board name from the config",
)


class AddressError(UsageError, ValueError):
    def __init__(self, text: str, why: str = "unknown device address") -> None:
        super().__init__(f"{why} {text!r}; valid forms: " + ", ".join(FORMS))


@dataclass(frozen=True)
class Address:
    kind: str  # serial | socket | rfc2217 | webrepl | ble | virtual
    target: str  # device path, host, BLE name/address or virtual board name
    port: int | None = None

    def __str__(self) -> str:
        if self.kind == "serial":
            return self.target
        if self.kind == "virtual":
            return "virtual" if self.target == "default" else f"virtual:{self.target}"
        if self.kind == "ble":
            return f"ble:{self.target}"
        scheme = {"socket": "socket", "rfc2217": "rfc2217", "webrepl": "ws"}[self.kind]
        return f"{scheme}://{_host(self.target)}:{self.port}"


_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


def parse_address(text: str, names: dict[str, str] | None = None) -> Address:
    """Parse an address; `names` maps config board names to addresses."""
    s = text.strip()
    if not s:
        raise AddressError(text, "empty device address")
    if names and s in names and names[s] != s:
        return parse_address(names[s])
    low = s.lower()
    if low == "virtual":
        return Address("virtual", "default")
    if low.startswith("virtual:"):
        name = s[len("virtual:") :]
        if not _NAME.match(name):
            raise AddressError(text, "bad virtual board name")
        return Address("virtual", name)
    if low.startswith("ble:"):
        name = s[4:].strip()
        if not name:
            raise AddressError(text, "missing BLE name or address")
        return Address("ble", name)
    if low.startswith("serial://"):
        return Address("serial", s[len("serial://") :])
    for scheme, kind, default in (
        ("socket://", "socket", None),
        ("rfc2217://", "rfc2217", None),
        ("ws://", "webrepl", 8266),
    ):
        if low.startswith(scheme):
            host, port = _host_port(s[len(scheme) :].split("/", 1)[0], default, text)
            return Address(kind, host, port)
    if s.startswith("/dev/") or re.match(r"^COM\d+$", s, re.IGNORECASE):
        return Address("serial", s)
    raise AddressError(text)


def agent_address(text: str, scheme: str, default_port: int) -> tuple[str, int] | None:
    """SCHEME://HOST[:PORT] of a board agent's service (ota://, rio://) -> (host, port); None
    for other forms; AddressError when it is that form but malformed."""
    if not text.lower().startswith(scheme):
        return None
    return _host_port(text[len(scheme) :].strip("/"), default_port, text)


def _host_port(hp: str, default: int | None, text: str) -> tuple[str, int]:
    m = re.match(r"^\[([^\]]+)\](?::(\d+))?$", hp) or re.match(r"^([^:\[\]]+)(?::(\d+))?$", hp)
    if not m:
        raise AddressError(text, "bad host in device address")
    host, port = m.group(1), m.group(2)
    if port is None:
        if default is None:
            raise AddressError(text, "missing port in device address")
        return host, default
    if not 0 < int(port) < 65536:
        raise AddressError(text, "bad port in device address")
    return host, int(port)


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
