"""socket:// — a plain TCP byte stream to a bridge or a board's raw socket."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

from mptui.transports.base import LinkProfile, Transport, TransportClosed, TransportError
from mptui.transports.stream import ByteQueue

LAST_WORDS = 200  # bytes: a peer that sent more before closing was talking, not refusing


class _Protocol(asyncio.Protocol):
    def __init__(self, queue: ByteQueue,
                 filter_in: Callable[[bytes], bytes] | None = None) -> None:
        self.queue = queue
        self.filter_in = filter_in
        self.transport: asyncio.Transport | None = None
        self.can_write = asyncio.Event()
        self.can_write.set()
        self.heard: bytearray | None = bytearray()  # all it sent, while that is little
        self.lost = asyncio.Event()  # the connection is closed, our end too

    def pause_writing(self) -> None:
        self.can_write.clear()

    def resume_writing(self) -> None:
        self.can_write.set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # a stream connection's
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.queue.on_drained = transport.resume_reading

    def data_received(self, data: bytes) -> None:
        _quickack(self.transport)
        if self.heard is not None:
            self.heard += data
            if len(self.heard) > LAST_WORDS:
                self.heard = None  # a conversation, not a parting word
        if self.filter_in:
            data = self.filter_in(data)
        if data:
            self.queue.push(data)
        if self.queue.full and self.transport is not None:
            self.transport.pause_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.can_write.set()
        self.lost.set()
        self.queue.close(self.refusal() or "the connection was closed"
                         + (f" ({exc})" if exc else ""))

    def refusal(self) -> str:
        """Why the other end closed, when it said so: a server that refuses us says why, then
        closes (a bridge: busy); "" otherwise."""
        said = parting_words(self.heard)
        return f"the other end closed the connection, saying: {said}" if said else ""


def parting_words(heard: bytes | bytearray | None) -> str:
    """One short line of plain text, when that is all a peer sent before closing (a server's
    refusal, e.g. the bridge's `Error: Device busy - another client is connected`)."""
    if not heard:
        return ""
    text = heard.decode("ascii", "replace").strip()
    if "\n" in text or "\r" in text or not text.isprintable() or "\ufffd" in text:
        return ""
    return text


def _quickack(transport: asyncio.BaseTransport | None) -> None:
    """Answer at once instead of delaying ACKs: raw-paste flow control is ping-pong."""
    quickack = getattr(socket, "TCP_QUICKACK", None)
    sock = transport.get_extra_info("socket") if transport else None
    if quickack is not None and sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)
        except OSError:
            pass


# What is behind a socket (or RFC 2217) is unknown: often a board's UART, whose 256-byte stdin
# ring loses what the host sends beyond it while the board is busy (mptui bridge --link
# esp8266 shows it). The host keeps no more in flight than that until the board shows it is
# behind something faster (board/adapt.py).
UNKNOWN_LINK = LinkProfile(ring=256, learn=True)


class SocketTransport(Transport):
    profile = UNKNOWN_LINK

    def __init__(self, host: str, port: int, *, connect_timeout: float = 5.0) -> None:
        self.host, self.port = host, port
        self.address = f"socket://{host}:{port}"
        self.connect_timeout = connect_timeout
        self._queue: ByteQueue | None = None
        self._protocol: _Protocol | None = None

    def _filter_in(self, data: bytes) -> bytes:
        return data

    def _encode_out(self, data: bytes) -> bytes:
        return data

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queue = ByteQueue()
        def protocol() -> _Protocol:
            # kept at once: data (telnet negotiation) may need answers before we resume
            self._protocol = _Protocol(queue, self._filter_in)
            return self._protocol

        try:
            await asyncio.wait_for(self._connect(loop, protocol), self.connect_timeout)
        except (OSError, asyncio.TimeoutError) as e:
            why = "timed out" if isinstance(e, asyncio.TimeoutError) else (e.strerror or str(e))
            raise TransportError(f"cannot connect to {self.address}: {why}") from None
        await self._after_connect()

    async def _connect(self, loop: asyncio.AbstractEventLoop,
                       protocol: Callable[[], asyncio.Protocol]) -> None:
        await loop.create_connection(protocol, self.host, self.port)

    async def _after_connect(self) -> None:
        pass

    @property
    def is_open(self) -> bool:
        p = self._protocol
        return p is not None and p.transport is not None and not p.transport.is_closing()

    async def read(self) -> bytes:
        if self._queue is None:
            raise TransportClosed("not connected")
        return await self._queue.read()

    async def write(self, data: bytes) -> None:
        self._write_raw(self._encode_out(data))
        p = self._protocol
        if p is not None and not p.can_write.is_set():
            await p.can_write.wait()

    def _write_raw(self, data: bytes) -> None:
        p = self._protocol
        if p is None or p.transport is None or not self.is_open:  # (the session names the address)
            why = self._queue.closed if self._queue is not None else None
            why = why or (p.refusal() if p else "")
            raise TransportClosed(why or "the connection is closed")
        p.transport.write(data)

    async def close(self) -> None:
        if self._protocol and self._protocol.transport:
            self._protocol.transport.close()
        if self._queue:
            self._queue.close()
