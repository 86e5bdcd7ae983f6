"""Byte pipes to boards. `open_transport(address)` is the one way to get one."""

from __future__ import annotations

from mptui.transports.address import Address, AddressError, parse_address
from mptui.transports.base import (
    AccessDenied,
    LinkProfile,
    Transport,
    TransportClosed,
    TransportError,
)

__all__ = [
    "AccessDenied",
    "Address",
    "AddressError",
    "LinkProfile",
    "Transport",
    "TransportClosed",
    "TransportError",
    "make_transport",
    "parse_address",
]


def make_transport(address: Address | str, **options) -> Transport:
    """An unopened transport for an address. Options depend on the kind of link:
    serial: baudrate, dtr, rts, serial_number; virtual: root, runtime (RuntimeOptions);
    webrepl: password, ask_password, connect_timeout, write_chunk, write_delay, block_size,
    blocks_in_flight; ble: scan_timeout, connect_timeout, write_delay, block_size,
    blocks_in_flight, scanner_backend, client_backend (bleak backends, for tests)."""
    addr = parse_address(address) if isinstance(address, str) else address
    if addr.kind == "serial":
        from mptui.transports.serialport import SerialTransport

        keys = ("baudrate", "dtr", "rts", "serial_number")
        return SerialTransport(addr.target, **{k: options[k] for k in keys if k in options})
    if addr.kind == "socket":
        from mptui.transports.tcp import SocketTransport

        return SocketTransport(addr.target, addr.port)
    if addr.kind == "rfc2217":
        from mptui.transports.rfc2217 import Rfc2217Transport

        return Rfc2217Transport(addr.target, addr.port, baudrate=options.get("baudrate", 115200))
    if addr.kind == "virtual":
        from mptui.transports.virtual import VirtualTransport

        return VirtualTransport(addr.target, root=options.get("root"), options=options.get("runtime"),
                                link=addr.link, heap=addr.heap, fs=addr.fs)
    if addr.kind == "webrepl":
        from mptui.transports.webrepl import WebReplTransport

        keys = (
            "password",
            "ask_password",
            "connect_timeout",
            "write_chunk",
            "write_delay",
            "block_size",
            "blocks_in_flight",
        )
        return WebReplTransport(addr.target, addr.port, **_pick(options, keys))
    if addr.kind == "ble":
        from mptui.transports.ble import BleTransport

        keys = (
            "scan_timeout",
            "connect_timeout",
            "write_delay",
            "block_size",
            "blocks_in_flight",
            "scanner_backend",
            "client_backend",
        )
        return BleTransport(addr.target, **_pick(options, keys))
    raise AddressError(str(address))


def _pick(options: dict, keys: tuple[str, ...]) -> dict:
    return {k: options[k] for k in keys if k in options}
