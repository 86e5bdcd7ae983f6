"""Byte pipes to boards. `open_transport(address)` is the one way to get one."""

from __future__ import annotations

from mptui.transports.address import Address, AddressError, parse_address
from mptui.transports.base import LinkProfile, Transport, TransportClosed, TransportError

__all__ = [
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
    serial: baudrate, dtr, rts, serial_number; virtual: root, runtime (RuntimeOptions)."""
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

        return VirtualTransport(addr.target, root=options.get("root"), options=options.get("runtime"))
    if addr.kind in ("webrepl", "ble"):
        raise TransportError(f"{addr}: {addr.kind} links are not available yet")
    raise AddressError(str(address))
