"""The bridge's sockets: a unix socket only its user reaches, and TCP tuned for the REPL's
many small writes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable


async def listen_unix(loop: asyncio.AbstractEventLoop, factory: Callable[[], asyncio.Protocol],
                       path: str) -> asyncio.Server:
    """A unix socket at `path` that only this user may connect to (0600; its folder should
    be 0700 too: then no other user reaches it even while it is being made)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # a dead server's socket (the caller holds the board's lock)
    server = await loop.create_unix_server(factory, path, start_serving=False)
    os.chmod(path, 0o600)
    return server


def tune_socket(sock: socket.socket) -> None:
    """No Nagle (raw-paste flow control is many small writes), and keepalive so a peer that
    vanished without closing does not hold the board forever."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # a unix socket: nothing to tune
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, name):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


def quickack(sock: socket.socket | None) -> None:
    """Ack at once: Linux re-enables delayed ACKs after a while, so this is done per recv."""
    if sock is not None and hasattr(socket, "TCP_QUICKACK"):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
