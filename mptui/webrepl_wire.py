"""The WebREPL wire format, shared by the client transport and the virtual board's server.

A board's `webrepl` module speaks WebSocket: text frames carry the REPL (bytes as the board
sends them, not always valid UTF-8), binary frames carry the file protocol: an 82-byte `WA`
request header, `WB` + u16 status replies, PUT data, GET chunks (u16 length + data) asked for
one `\\x00` at a time. `WsLink` runs websockets' Sans-I/O protocol on an asyncio connection so
that every frame's opcode is seen, which the file protocol needs (the client's side; the
virtual board's server speaks the laxer WebSocket of a board: mptui/virtual/ws_server.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from websockets.exceptions import InvalidState, ProtocolError
from websockets.protocol import Event, Protocol, State

if TYPE_CHECKING:  # generic for the checker; not subscriptable at run time before Python 3.11
    _LoggerAdapter = logging.LoggerAdapter[logging.Logger]
else:
    _LoggerAdapter = logging.LoggerAdapter

DEFAULT_PORT = 8266
PASSWORD_PROMPT = b"Password: "
CONNECTED = b"\r\nWebREPL connected\r\n>>> "
DENIED = b"\r\nAccess denied\r\n"
MAX_PASSWORD = 9  # bytes a board keeps (`_webrepl.password` refuses longer ones)

PUT_FILE, GET_FILE, GET_VER = 1, 2, 3
HEADER = struct.Struct("<2sBBQLH64s")  # sig, type, flags, offset, size, name length, name
MAX_NAME = 63  # bytes: the board reads the name as a NUL-terminated string in 64
GET_CHUNK = 256  # data bytes per GET reply
OK = b"WB\x00\x00"
BUSY_CLOSE_CODE = 1013  # "try again later"


def encode_header(op: int, name: bytes, size: int = 0) -> bytes:
    return HEADER.pack(b"WA", op, 0, 0, size, len(name), name)


def decode_header(raw: bytes) -> tuple[int, int, bytes]:
    """(op, size, name) of a request header; the name ends at its first NUL, as on a board."""
    _sig, op, _flags, _offset, size, _length, name = HEADER.unpack(raw)
    return op, size, name.split(b"\0", 1)[0]


def utf8_cut(data: bytes | bytearray | memoryview, limit: int) -> int:
    """An index <= limit that does not split a UTF-8 sequence (when data is text at all)."""
    if limit >= len(data):
        return len(data)
    for cut in range(limit, max(limit - 4, 0), -1):
        if not 0x80 <= data[cut] < 0xC0:
            return cut
    return limit



def no_delay(transport: asyncio.BaseTransport) -> str | None:
    """Small writes go out at once (TCP_NODELAY: the REPL is many of them); returns the peer
    (peer_name), None where the transport has no address."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return peer_name(transport.get_extra_info("peername"))


def peer_name(peer: object) -> str | None:
    """A TCP peer as HOST:PORT ([HOST]:PORT for IPv6); None for anything else."""
    if isinstance(peer, tuple) and len(peer) >= 2:
        host, port = peer[:2]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return None

class _NoDebug(_LoggerAdapter):
    """websockets logs every frame at DEBUG, the password with them: never log at DEBUG."""

    def isEnabledFor(self, level: int) -> bool:
        return level > logging.DEBUG and self.logger.isEnabledFor(level)


def quiet_logger(name: str) -> _LoggerAdapter:
    return _NoDebug(logging.getLogger(name), {})


class WsLink(asyncio.Protocol):
    """A websockets Sans-I/O protocol (client or server) on an asyncio connection.

    Subclasses handle `on_event(event)` (the handshake Request/Response, then Frames) and
    `on_closed(reason)`; they send with `send_text`, `send_binary` and `close`.
    """

    def __init__(self, ws: Protocol) -> None:
        self.ws = ws
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.closed: str | None = None
        self._writable = asyncio.Event()
        self._writable.set()
        self._close_timer: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # a stream connection's
        self.transport = transport
        self.peer = no_delay(transport) or self.peer

    def data_received(self, data: bytes) -> None:
        self.ws.receive_data(data)
        self._flush()
        for event in self.ws.events_received():
            if self.closed is None:
                self.on_event(event)
        self._flush()

    def eof_received(self) -> bool:
        self.ws.receive_eof()
        self._flush()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self._close_timer is not None:
            self._close_timer.cancel()
        self._writable.set()
        if self.closed is None:
            self.closed = self._close_reason(exc)
            self.on_closed(self.closed)

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # -- for subclasses ---------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        raise NotImplementedError

    def on_closed(self, reason: str) -> None:
        pass

    def send_text(self, data: bytes) -> None:
        self._send(self.ws.send_text, data)

    def send_binary(self, data: bytes) -> None:
        self._send(self.ws.send_binary, data)

    def _send(self, send: Callable[[bytes], None], data: bytes) -> None:
        if self.closed is not None or self.transport is None or self.transport.is_closing():
            return
        try:
            send(data)
        except (InvalidState, ProtocolError):  # closing: the data has nowhere to go
            return
        self._flush()

    async def drain(self) -> None:
        await self._writable.wait()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake; the TCP connection follows."""
        if self.transport is None or self.transport.is_closing():
            return
        with contextlib.suppress(InvalidState, ProtocolError):
            self.ws.send_close(code, reason)
        self._flush()
        if self._close_timer is None:
            loop = asyncio.get_running_loop()
            self._close_timer = loop.call_later(1.0, self.abort)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _flush(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        for data in self.ws.data_to_send():
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                self.transport.write_eof()
        if self.ws.state is State.CLOSED:
            self.transport.close()
        elif self.ws.close_expected() and self._close_timer is None:
            self._close_timer = asyncio.get_running_loop().call_later(1.0, self.abort)

    def _close_reason(self, exc: Exception | None) -> str:
        rcvd = self.ws.close_rcvd
        if rcvd is not None and rcvd.reason:
            return rcvd.reason
        if exc is not None:
            return f"the connection was lost ({exc})"
        return "the connection was closed"
