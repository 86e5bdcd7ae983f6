"""The bridge: one board served on the network, over RFC 2217, raw TCP and WebREPL at once.

    async with Bridge(VirtualBoard(root=folder), rfc2217_port=ANY_PORT, socket_port=ANY_PORT) as br:
        print(br.socket_url, br.rfc2217_url)   # e.g. socket://127.0.0.1:40123
        await br.wait_closed()                 # until stop(), or the board is gone

A unix socket (`unix_path`, made 0600: only this user may connect) serves the kept virtual
board (keeper.py); `on_client(connected)` hears each client come and go.

Ports: an int listens there, `ANY_PORT` (0) on a free port the OS picks (read it back from
`rfc2217_port` / `socket_port` / `webrepl_port`), `OFF` (None) not at all. (The command line's
"0 disables" is mapped to `OFF` there.) WebREPL is off unless a port and a password are given;
it serves the virtual board only (its file protocol works on the board's folder).

One client at a time across all ports; any other gets `BUSY` and is closed (a WebREPL client
after the WebSocket handshake, as on a board, here with a close frame that says why). The board lives
across clients; its output while nobody is connected is dropped, as a UART nobody listens to.
Whoever reaches a port can run code on the board: bind beyond loopback only on purpose
(`exposed` says whether we did). The WebREPL password is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import select
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from serial.rfc2217 import IAC, IAC_DOUBLED, M_NORMAL, PortManager

from mptui.errors import MptuiError
from mptui.virtual.board import VirtualBoard
from mptui.virtual.bridge_devices import VirtualDevice
from mptui.virtual.sockets import listen_unix, quickack, tune_socket
from mptui.virtual.webrepl import WebReplConnection, check_password, host_path, runtime_version

if TYPE_CHECKING:
    from typing_extensions import Self

LOOPBACK = "127.0.0.1"
ANY_PORT = 0
OFF = None
RFC2217 = "rfc2217"
SOCKET = "socket"
WEBREPL = "ws"  # the kind is the URL scheme: url(WEBREPL) is ws://HOST:PORT
UNIX = "unix"  # a unix socket (a path), this user's only
BUSY = b"Error: Device busy - another client is connected\r\n"
REFUSED_LINGER = 1.0  # seconds a refused client has to read BUSY before we close
PORT_NAMES = {SOCKET: "raw socket", RFC2217: "RFC 2217", WebReplConnection.kind: "WebREPL",
              UNIX: "unix socket"}
HOLD_LIMIT = 1.0  # seconds a newcomer waits for a leaving client to be gone
MODEM_POLL = 1.0  # seconds between modem-line checks of a real serial port (RFC 2217)
HEX_PREVIEW = 32  # bytes of traffic shown in debug logs

log = logging.getLogger("mptui.bridge")


class BridgeError(MptuiError, RuntimeError):
    pass


class Bridge:
    """Serves one board (a `VirtualBoard` or a device from `bridge_devices`) to one client
    at a time on an RFC 2217 port, a raw TCP port and (the virtual board) a WebREPL port."""

    def __init__(
        self,
        board,
        *,
        host: str = LOOPBACK,
        rfc2217_port: int | None = 2217,
        socket_port: int | None = 2218,
        webrepl_port: int | None = OFF,
        webrepl_password: str | None = None,
        unix_path: str | None = None,
        on_client=None,
    ) -> None:
        self.device = VirtualDevice(board) if isinstance(board, VirtualBoard) else board
        self.host = host
        self._wanted = {SOCKET: socket_port, RFC2217: rfc2217_port, WEBREPL: webrepl_port,
                        UNIX: unix_path}
        self.on_client = on_client  # called with True when a client is attached, False: gone
        self._webrepl_password = b""
        if webrepl_port is not OFF:
            if not isinstance(self.device, VirtualDevice):
                raise BridgeError("WebREPL is served for the virtual board only")
            if not webrepl_password:
                raise BridgeError("WebREPL needs a password")
            try:
                self._webrepl_password = check_password(webrepl_password)
            except ValueError as e:
                raise BridgeError(str(e)) from None
        self._servers: dict[str, asyncio.Server] = {}
        self._client: _Client | _WebReplClient | None = None
        self._next: _Client | None = None  # held while the client before it leaves
        self._connections: set[_Client | _WebReplClient] = set()
        self._writable = asyncio.Event()  # the client's send buffer has room
        self._done = asyncio.Event()
        self._pump_task: asyncio.Task | None = None
        self._started = False
        self._stopped = False
        self.device_lost = False  # the board went away (unplugged, or the runtime gave up)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        if all(port is OFF for port in self._wanted.values()):
            raise BridgeError("every port is disabled: nothing to serve on")
        self._started = True
        try:
            for kind, port in self._wanted.items():
                if port is not OFF:
                    self._servers[kind] = await self._listen(kind, port)
            await self.device.start()
        except BaseException:
            await self.stop()
            raise
        self._pump_task = asyncio.get_running_loop().create_task(self._pump())
        for server in self._servers.values():
            await server.start_serving()
        log.info("serving %s on %s", self.device.description, ", ".join(self.urls.values()))

    async def stop(self) -> None:
        """Close the ports and the client, and stop the board (no process left behind)."""
        if self._stopped:
            return
        self._stopped = True
        for server in self._servers.values():
            server.close()
        for conn in list(self._connections):
            if conn.transport is not None:
                conn.transport.abort()
        if self._pump_task is not None:
            self._pump_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump_task
        if self._started:
            await self.device.stop()
        for server in self._servers.values():
            await server.wait_closed()
        self._done.set()

    async def wait_closed(self) -> None:
        """Return once the bridge is stopped or its board is gone (see `device_lost`)."""
        await self._done.wait()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    # -- where we listen ----------------------------------------------------------------------

    def port(self, kind: str) -> int | None:
        server = self._servers.get(kind)
        return server.sockets[0].getsockname()[1] if server and server.sockets else None

    @property
    def rfc2217_port(self) -> int | None:
        return self.port(RFC2217)

    @property
    def socket_port(self) -> int | None:
        return self.port(SOCKET)

    def url(self, kind: str) -> str | None:
        server = self._servers.get(kind)
        if not server or not server.sockets:
            return None
        if kind == UNIX:
            return f"unix:{self._wanted[UNIX]}"
        addr, port = server.sockets[0].getsockname()[:2]
        ip = ipaddress.ip_address(addr)
        if ip.is_unspecified:  # all interfaces: this machine reaches it on loopback
            ip = ipaddress.ip_address("::1" if ip.version == 6 else LOOPBACK)
        host = f"[{ip}]" if ip.version == 6 else str(ip)
        return f"{kind}://{host}:{port}"

    @property
    def webrepl_port(self) -> int | None:
        return self.port(WEBREPL)

    @property
    def socket_url(self) -> str | None:
        return self.url(SOCKET)

    @property
    def webrepl_url(self) -> str | None:
        return self.url(WEBREPL)

    @property
    def rfc2217_url(self) -> str | None:
        return self.url(RFC2217)

    @property
    def urls(self) -> dict[str, str]:
        return {kind: url for kind in self._servers if (url := self.url(kind)) is not None}

    @property
    def exposed(self) -> bool:
        """True when a port is reachable from beyond this machine."""
        return any(
            not ipaddress.ip_address(sock.getsockname()[0]).is_loopback
            for kind, server in self._servers.items() if kind != UNIX
            for sock in server.sockets
        )

    async def _listen(self, kind: str, port: int | str) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        factory: Callable[[], asyncio.Protocol]
        if kind == WEBREPL:
            hub = _WebReplHub(self, await runtime_version(self.device.board.options))
            password = self._webrepl_password
            factory = lambda: _WebReplClient(hub, password)
        else:
            factory = lambda: _Client(self, kind)
        try:
            if kind == UNIX:
                return await listen_unix(loop, factory, str(port))
            assert isinstance(port, int)
            return await loop.create_server(factory, self.host, port, start_serving=False)
        except OSError as e:
            reason = "address already in use" if e.errno == errno.EADDRINUSE else e.strerror
            raise BridgeError(
                f"cannot listen on {self.host}:{port} ({kind}): {reason or e}"
            ) from None

    # -- the one client ---------------------------------------------------------------------

    def _admit(self, client: _Client) -> None:
        current = self._client
        if current is None and not self._stopped:
            self._attach(client)
        elif current is not None and self._next is None and current.peer_left():
            # The client is leaving and its last bytes are still on their way to the board:
            # the newcomer waits for them (this is a quick reconnect, not a second client).
            log.info("%s waits for %s to leave", client.peer, current.peer)
            self._next = client
            client.hold()
        else:
            client.refuse()

    def _attach(self, client: _Client | _WebReplClient) -> None:
        self._client = client
        self._writable.set()
        self.device.discard_output()  # what the board said before is not this client's
        log.info("%s connected on the %s port", client.peer, client.kind)
        client.begin()
        if self.on_client is not None:
            self.on_client(True)

    def _detach(self, client: _Client | _WebReplClient) -> None:
        if self._next is client:
            self._next = None
        if self._client is not client:
            return
        self._client = None
        self._writable.set()
        log.info(
            "%s disconnected (%d bytes in, %d out)", client.peer, client.bytes_in, client.bytes_out
        )
        if self._next is not None and not self._stopped:
            client, self._next = self._next, None
            self._attach(client)
        elif self.on_client is not None:
            self.on_client(False)

    def _hold_expired(self, client: _Client) -> None:
        if self._next is client:
            self._next = None
            client.refuse()

    def _from_client(self, client: _Client | _WebReplClient, data: bytes) -> None:
        client.bytes_in += len(data)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("client -> board %5d bytes  %s", len(data), _preview(data))
        if not self._stopped and not self.device_lost:
            self.device.write(data)

    def _pause(self, client: _Client | _WebReplClient, paused: bool) -> None:
        if self._client is client:
            if paused:
                self._writable.clear()
            else:
                self._writable.set()

    async def _pump(self) -> None:
        """Board output -> the client, waiting while the client's send buffer is full."""
        while True:
            data = await self.device.read()
            if not data:
                break
            client = self._client
            if client is None:
                continue  # nobody listens
            client.bytes_out += len(data)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("board -> client %5d bytes  %s", len(data), _preview(data))
            client.send(data)
            await self._writable.wait()
        if not self._stopped:
            self.device_lost = True
            log.info("the board is gone: %s", self.device.description)
            self._done.set()


class _WebReplHub:
    """What a WebREPL connection talks to (see `WebReplConnection`): this bridge."""

    def __init__(self, bridge: Bridge, version: tuple[int, int, int]) -> None:
        self.bridge = bridge
        self.version = version

    def attach(self, conn: _WebReplClient) -> str | None:
        """After the WebSocket handshake: take the board, or say why not."""
        bridge = self.bridge
        if bridge._stopped:
            return "the bridge is stopping"
        if bridge._client is not None:  # the connection logs the refusal
            holder = PORT_NAMES.get(bridge._client.kind, bridge._client.kind)
            return f"the board already has a client (on the bridge's {holder} port)"
        bridge._attach(conn)
        return None

    def detach(self, conn: _WebReplClient) -> None:
        self.bridge._detach(conn)

    def from_client(self, conn: _WebReplClient, data: bytes) -> None:
        self.bridge._from_client(conn, data)

    def pause(self, conn: _WebReplClient, paused: bool) -> None:
        self.bridge._pause(conn, paused)

    def host_path(self, name: str):
        return host_path(self.bridge.device.board.root, name)


class _WebReplClient(WebReplConnection):
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


class _TelnetWriter:
    """What PortManager writes its negotiation replies to: the socket, unescaped."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport

    def write(self, data: bytes) -> None:
        self._transport.write(data)


class _Client(asyncio.Protocol):
    """One TCP connection, on the RFC 2217 or the raw socket port."""

    def __init__(self, bridge: Bridge, kind: str) -> None:
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
            self.telnet = PortManager(lines, _TelnetWriter(self.transport),  # type: ignore[arg-type]
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
    if isinstance(peer, tuple) and len(peer) >= 2:
        host, port = peer[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return str(peer) or "a local client"


def _preview(data: bytes) -> str:
    more = f" ... (+{len(data) - HEX_PREVIEW})" if len(data) > HEX_PREVIEW else ""
    return data[:HEX_PREVIEW].hex(" ") + more
