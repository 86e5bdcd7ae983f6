"""Byte pipes to boards. `open_transport(address)` is the one way to get one."""

from __future__ import annotations

from typing import Any

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
    "open_early",
    "parse_address",
]


SERIAL_OPTIONS = ("baudrate", "dtr", "rts", "serial_number")


def open_early(address: Address, **options: Any) -> None:
    """Start opening the link now, where its kind can open ahead (the kept virtual board, a
    serial port; in a thread): the transport make_transport() makes for it next, with these
    options, takes it."""
    if address.kind == "virtual" and _kept(options):
        from mptui.transports.kept import open_early as open_kept

        open_kept(address, options["keep"])
    elif address.kind == "serial":
        from mptui.transports.serialport import open_early as open_serial

        open_serial(address.target, **_pick(options, SERIAL_OPTIONS))


def _kept(options: dict[str, Any]) -> bool:
    """A virtual board's options that name the kept board (not one of this process's own)."""
    return bool(options.get("keep")) and options.get("root") is None \
        and not options.get("runtime")


def make_transport(address: Address | str, **options: Any) -> Transport:
    """An unopened transport for an address. Options depend on the kind of link:
    serial: baudrate, dtr, rts, serial_number; virtual: root, runtime (RuntimeOptions), keep
    (seconds a board kept between commands waits idle: the kept board, unless root or runtime
    ask for a board of this process's own);
    webrepl: password, ask_password, connect_timeout, write_chunk, write_delay, block_size,
    blocks_in_flight; ble: scan_timeout, connect_timeout, write_delay, block_size,
    blocks_in_flight, scanner_backend, client_backend (bleak backends, for tests)."""
    addr = parse_address(address) if isinstance(address, str) else address
    keys: tuple[str, ...]
    if addr.kind == "serial":
        from mptui.transports.serialport import SerialTransport

        return SerialTransport(addr.target, **_pick(options, SERIAL_OPTIONS))
    if addr.kind == "socket":
        from mptui.transports.tcp import SocketTransport

        return SocketTransport(addr.target, _port(addr))
    if addr.kind == "rfc2217":
        from mptui.transports.rfc2217 import Rfc2217Transport

        return Rfc2217Transport(addr.target, _port(addr), baudrate=options.get("baudrate", 115200))
    if addr.kind == "virtual":
        if _kept(options):
            from mptui.transports.kept import KeptVirtualTransport

            return KeptVirtualTransport(addr, idle=options["keep"])
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
        return WebReplTransport(addr.target, _port(addr), **_pick(options, keys))
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


def _pick(options: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: options[k] for k in keys if k in options}


def _port(addr: Address) -> int:
    """The port of a network address (parse_address always gives one)."""
    if addr.port is None:
        raise AddressError(str(addr), "no port in")
    return addr.port
