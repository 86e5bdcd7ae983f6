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
from collections.abc import Callable
from typing import TYPE_CHECKING

from mptui.errors import MptuiError
from mptui.virtual.board import VirtualBoard
from mptui.virtual.bridge_clients import (
    RFC2217,
    SOCKET,
    UNIX,
    TcpClient,
    WebReplClient,
    WebReplHub,
)
from mptui.virtual.bridge_devices import VirtualDevice
from mptui.virtual.sockets import listen_unix
from mptui.virtual.webrepl import check_password, runtime_version

if TYPE_CHECKING:
    from typing_extensions import Self

LOOPBACK = "127.0.0.1"
ANY_PORT = 0
OFF = None
WEBREPL = "ws"  # the kind is the URL scheme: url(WEBREPL) is ws://HOST:PORT
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
        self._client: TcpClient | WebReplClient | None = None
        self._next: TcpClient | None = None  # held while the client before it leaves
        self._connections: set[TcpClient | WebReplClient] = set()
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
            hub = WebReplHub(self, await runtime_version(self.device.board.options))
            password = self._webrepl_password
            factory = lambda: WebReplClient(hub, password)
        else:
            factory = lambda: TcpClient(self, kind)
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

    def _admit(self, client: TcpClient) -> None:
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

    def _attach(self, client: TcpClient | WebReplClient) -> None:
        self._client = client
        self._writable.set()
        self.device.discard_output()  # what the board said before is not this client's
        log.info("%s connected on the %s port", client.peer, client.kind)
        client.begin()
        if self.on_client is not None:
            self.on_client(True)

    def _detach(self, client: TcpClient | WebReplClient) -> None:
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

    def _hold_expired(self, client: TcpClient) -> None:
        if self._next is client:
            self._next = None
            client.refuse()

    def _from_client(self, client: TcpClient | WebReplClient, data: bytes) -> None:
        client.bytes_in += len(data)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("client -> board %5d bytes  %s", len(data), _preview(data))
        if not self._stopped and not self.device_lost:
            self.device.write(data)

    def _pause(self, client: TcpClient | WebReplClient, paused: bool) -> None:
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


def _preview(data: bytes) -> str:
    more = f" ... (+{len(data) - HEX_PREVIEW})" if len(data) > HEX_PREVIEW else ""
    return data[:HEX_PREVIEW].hex(" ") + more
