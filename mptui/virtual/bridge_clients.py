"""The bridge's clients: a TCP connection on the RFC 2217 or raw socket port (`TcpClient`), a
WebREPL one (`WebReplClient`, with the hub it talks to). Each tells its bridge (virtual/bridge.py)
what happens to it; the bridge says which one has the board."""

from __future__ import annotations

import asyncio
import logging
import select
import socket
from typing import Any, Protocol

from serial.rfc2217 import IAC, IAC_DOUBLED, M_NORMAL, PortManager

from mptui.virtual.sockets import quickack, tune_socket
from mptui.virtual.webrepl import WebReplConnection, host_path
from mptui.webrepl_wire import peer_name

RFC2217 = "rfc2217"
SOCKET = "socket"
UNIX = "unix"  # a unix socket (a path), this user's only
BUSY = b"Error: Device busy - another client is connected\r\n"
REFUSED_LINGER = 1.0  # seconds a refused client has to read BUSY before we close
PORT_NAMES = {SOCKET: "raw socket", RFC2217: "RFC 2217", WebReplConnection.kind: "WebREPL",
              UNIX: "unix socket"}
HOLD_LIMIT = 1.0  # seconds a newcomer waits for a leaving client to be gone
MODEM_POLL = 1.0  # seconds between modem-line checks of a real serial port (RFC 2217)

log = logging.getLogger("mptui.bridge")

class BridgeSide(Protocol):
    """What a client asks of its bridge (virtual/bridge.py's Bridge)."""

    device: Any  # a VirtualDevice or a device of bridge_devices
    _stopped: bool
    _client: TcpClient | WebReplClient | None
    _connections: set[TcpClient | WebReplClient]

    def _admit(self, client: TcpClient) -> None: ...
    def _attach(self, client: TcpClient | WebReplClient) -> None: ...
    def _detach(self, client: TcpClient | WebReplClient) -> None: ...
    def _hold_expired(self, client: TcpClient) -> None: ...
    def _from_client(self, client: TcpClient | WebReplClient, data: bytes) -> None: ...
    def _pause(self, client: TcpClient | WebReplClient, paused: bool) -> None: ...


class WebReplHub:
    """What a WebREPL connection talks to (see `WebReplConnection`): this bridge."""

    def __init__(self, bridge: BridgeSide, version: tuple[int, int, int]) -> None:
        self.bridge = bridge
        self.version = version

    def attach(self, conn: WebReplClient) -> str | None:
        """After the WebSocket handshake: take the board, or say why not."""
        bridge = self.bridge
        if bridge._stopped:
            return "the bridge is stopping"
        if bridge._client is not None:  # the connection logs the refusal
            holder = PORT_NAMES.get(bridge._client.kind, bridge._client.kind)
            return f"the board already has a client (on the bridge's {holder} port)"
        bridge._attach(conn)
        return None

    def detach(self, conn: WebReplClient) -> None:
        self.bridge._detach(conn)

    def from_client(self, conn: WebReplClient, data: bytes) -> None:
        self.bridge._from_client(conn, data)

    def pause(self, conn: WebReplClient, paused: bool) -> None:
        self.bridge._pause(conn, paused)

    def host_path(self, name: str):
        return host_path(self.bridge.device.board.root, name)


class WebReplClient(WebReplConnection):
    """A connection on the WebREPL port, known to the bridge from its first byte (so that
    stop() closes it) and tuned like the TCP clients."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        tune_socket(transport.get_extra_info("socket"))
        self.hub.bridge._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.hub.bridge._connections.discard(self)
        super().connection_lost(exc)

    def begin(self) -> None:
        """This is now the bridge's client: the password prompt follows (WebReplConnection)."""


class TelnetWriter:
    """What PortManager writes its negotiation replies to: the socket, unescaped."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport

    def write(self, data: bytes) -> None:
        self._transport.write(data)


class TcpClient(asyncio.Protocol):
    """One TCP connection, on the RFC 2217 or the raw socket port."""

    def __init__(self, bridge: BridgeSide, kind: str) -> None:
        self.bridge = bridge
        self.kind = kind
        self.peer = "?"
        self.transport: asyncio.Transport  # (from connection_made on)
        self.telnet: PortManager | None = None
        self.refused = False
        self.bytes_in = 0
        self.bytes_out = 0
        self._sock: socket.socket | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # a stream connection's
        self.transport = transport
        self._sock = transport.get_extra_info("socket")
        self.peer = _format_peer(transport.get_extra_info("peername"))
        tune_socket(self._sock)
        self.bridge._connections.add(self)
        self.bridge._admit(self)

    def begin(self) -> None:
        """This is now the bridge's client."""
        self._cancel_timer()
        if self.kind == RFC2217:
            rfc_log = logging.getLogger("mptui.bridge.rfc2217")
            lines = self.bridge.device.lines
            # (PortManager takes any object with a serial port's attributes and a writer)
            self.telnet = PortManager(lines, TelnetWriter(self.transport),  # type: ignore[arg-type]
                                      rfc_log)
            if self.bridge.device.poll_modem_lines:
                self._timer = asyncio.get_running_loop().call_later(MODEM_POLL, self._check_modem)
        self.transport.resume_reading()

    def hold(self) -> None:
        self.transport.pause_reading()
        self._timer = asyncio.get_running_loop().call_later(
            HOLD_LIMIT, self.bridge._hold_expired, self
        )

    def refuse(self) -> None:
        log.info("%s refused on the %s port: busy", self.peer, self.kind)
        self._cancel_timer()
        self.refused = True
        self.transport.resume_reading()
        self.transport.write(BUSY)
        # Half-close and let the client close: closing with its bytes unread would send RST,
        # which can destroy BUSY before the client reads it.
        self.transport.write_eof()
        self._timer = asyncio.get_running_loop().call_later(REFUSED_LINGER, self.transport.abort)

    def peer_left(self) -> bool:
        """Has the peer closed its end (its EOF or reset not yet read by us)?"""
        if not hasattr(select, "POLLRDHUP") or self._sock is None:
            return False
        poller = select.poll()
        poller.register(self._sock.fileno(), select.POLLRDHUP)
        return bool(poller.poll(0))

    def _check_modem(self) -> None:
        if self.telnet is not None:
            self.telnet.check_modem_lines()
        self._timer = asyncio.get_running_loop().call_later(MODEM_POLL, self._check_modem)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def data_received(self, data: bytes) -> None:
        quickack(self._sock)
        if self.refused:
            return
        if self.telnet is not None:
            data = self._filter(data)
        if data:
            self.bridge._from_client(self, data)

    def _filter(self, data: bytes) -> bytes:
        """Telnet/RFC 2217 commands out, doubled IACs undone (PortManager.filter), with a
        fast path for the common case of plain data."""
        tn = self.telnet
        if tn is None:
            return data
        if IAC not in data and tn.mode == M_NORMAL and tn.suboption is None:
            return data
        return b"".join(tn.filter(data))

    def send(self, data: bytes) -> None:
        if self.telnet is not None:
            data = data.replace(IAC, IAC_DOUBLED)  # what PortManager.escape does, byte by byte
        self.transport.write(data)

    def eof_received(self) -> None:
        return None  # the client is done: close

    def pause_writing(self) -> None:
        self.bridge._pause(self, True)

    def resume_writing(self) -> None:
        self.bridge._pause(self, False)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        self.bridge._connections.discard(self)
        self.bridge._detach(self)


def _format_peer(peer) -> str:
    return peer_name(peer) or str(peer) or "a local client"
