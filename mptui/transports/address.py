"""Device addresses: one string names a board everywhere (command line, config, UI)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mptui.errors import UsageError

FORMS = (
    ("/dev/ttyACM0 or serial:///dev/ttyACM0 (or COM3; port:PATH, id:SERIAL, a0..a3, u0..u3, "
     "c0..c3)"),
    "socket://HOST:PORT",
    "rfc2217://HOST:PORT",
    "ws://HOST[:PORT] (WebREPL, port 8266 by default)",
    "ble:NAME-or-ADDRESS",
    "virtual or virtual:NAME (?link=PROFILE&heap=SIZE&fs=SIZE)",
    "a board name from the config",
)


class AddressError(UsageError, ValueError):
    def __init__(self, text: str, why: str = "unknown device address") -> None:
        super().__init__(f"{why} {text!r}; valid forms: " + ", ".join(FORMS))


# A virtual board's options (`virtual:NAME?link=PROFILE&heap=SIZE&fs=SIZE`), in the order
# str() gives.
VIRTUAL_OPTIONS = ("link", "heap", "fs")


@dataclass(frozen=True)
class Address:
    kind: str  # serial | socket | rfc2217 | webrepl | ble | virtual
    target: str  # device path, host, BLE name/address or virtual board name
    port: int | None = None
    # (key, value) pairs in VIRTUAL_OPTIONS order, values in canonical form: the link profile
    # (mptui.virtual.link), the free heap and the filesystem size of a virtual board
    options: tuple[tuple[str, str], ...] = ()

    def option(self, key: str) -> str | None:
        return dict(self.options).get(key)

    @property
    def link(self) -> str | None:
        return self.option("link")

    @property
    def heap(self) -> str | None:
        return self.option("heap")

    @property
    def fs(self) -> str | None:
        return self.option("fs")

    def __str__(self) -> str:
        if self.kind == "serial":
            return self.target
        if self.kind == "virtual":
            name = "virtual" if self.target == "default" else f"virtual:{self.target}"
            query = "&".join(f"{k}={v}" for k, v in self.options)
            return f"{name}?{query}" if query else name
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
    if low == "virtual" or low.startswith(("virtual:", "virtual?")):
        return _virtual(s, text)
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


def _virtual(s: str, text: str) -> Address:
    head, _, query = s.partition("?")
    name = head[len("virtual:") :] if ":" in head else "default"
    if not _NAME.match(name):
        raise AddressError(text, "bad virtual board name")
    return Address("virtual", name, options=virtual_options(query, text) if query else ())


def virtual_options(query: str, text: str = "") -> tuple[tuple[str, str], ...]:
    """`link=PROFILE&heap=SIZE&fs=SIZE` -> canonical (key, value) pairs; AddressError when
    bad."""
    from mptui.virtual.link import LinkError, format_size, parse_link, parse_size

    found: dict[str, str] = {}
    for pair in query.split("&"):
        key, eq, value = pair.partition("=")
        key = key.strip().lower()
        if key not in VIRTUAL_OPTIONS or not eq or key in found:
            why = "repeated" if key in found else "unknown"
            raise AddressError(
                text or query, f"{why} virtual board option {pair!r} (link=PROFILE, heap=SIZE, fs=SIZE) in"
            )
        try:
            found[key] = (str(parse_link(value)) if key == "link"
                          else format_size(parse_size(value, key)))
        except (LinkError, ValueError) as e:
            raise AddressError(text or query, f"{e}; in") from None
    if found.get("link") == "fast":
        del found["link"]  # the default: one board, one address
    return tuple((k, found[k]) for k in VIRTUAL_OPTIONS if k in found)


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
