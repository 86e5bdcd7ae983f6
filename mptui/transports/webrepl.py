"""ws://HOST[:PORT] — a board's WebREPL: the REPL over text frames, whole files over the
WebREPL file protocol (the transport's `file_channel`).

The password comes from the `password` option (the board's config entry or --password), else
$MPTUI_WEBREPL_PASSWORD, else `ask_password(address)` (the UI's prompt). It is sent once per
login and never printed or logged (websockets' frame logging is kept off for this link).

ESP8266/ESP32 boards drop REPL input that arrives in bursts of more than about 255 bytes, so
writes are paced to `write_chunk` bytes per `write_delay` seconds (LinkProfile). File-protocol
data bypasses the REPL input buffer and is not paced.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import Event
from websockets.uri import parse_uri

from mptui.config import WEBREPL_PASSWORD_ENV
from mptui.transports.base import (
    AccessDenied,
    FileChannel,
    FileChannelError,
    LinkProfile,
    Progress,
    Transport,
    TransportClosed,
    TransportError,
)
from mptui.transports.stream import ByteQueue
from mptui.webrepl_wire import (
    CONNECTED,
    DEFAULT_PORT,
    DENIED,
    GET_CHUNK,
    GET_FILE,
    GET_VER,
    MAX_NAME,
    MAX_PASSWORD,
    OK,
    PASSWORD_PROMPT,
    PUT_FILE,
    WsLink,
    encode_header,
    quiet_logger,
    utf8_cut,
)

ENV_PASSWORD = WEBREPL_PASSWORD_ENV
LOGIN_TIMEOUT = 10.0
REPLY_TIMEOUT = 10.0  # seconds of silence from the board before a file transfer gives up

AskPassword = Callable[[str], Awaitable[str | None]]


class WebReplAccessDenied(AccessDenied):
    """The board refused the password."""


class WebReplPasswordNeeded(AccessDenied):
    """No password was given for a board that asks for one."""


class _ClientLink(WsLink):
    """Text frames to one queue (the REPL), binary frames to another (the file protocol)."""

    def __init__(self, ws: ClientProtocol) -> None:
        super().__init__(ws)
        loop = asyncio.get_running_loop()
        self.handshake: asyncio.Future[Exception | None] = loop.create_future()
        self.gone = asyncio.Event()
        self.text = ByteQueue()
        self.binary = ByteQueue()
        self._message = Opcode.TEXT  # opcode of the message whose frames are arriving

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert isinstance(transport, asyncio.Transport)  # a stream connection's
        self.text.on_drained = self.binary.on_drained = transport.resume_reading

    def on_event(self, event: Event) -> None:
        if isinstance(event, Response):
            if not self.handshake.done():
                self.handshake.set_result(self.ws.handshake_exc)
            return
        if not isinstance(event, Frame):
            return  # (a request: servers get those)
        if event.opcode in (Opcode.TEXT, Opcode.BINARY):
            self._message = event.opcode
        elif event.opcode is not Opcode.CONT:
            return  # control frames: the protocol answers them
        if event.data:
            queue = self.text if self._message is Opcode.TEXT else self.binary
            queue.push(bytes(event.data))
            if queue.full and self.transport is not None:
                self.transport.pause_reading()

    def on_closed(self, reason: str) -> None:
        if not self.handshake.done():
            self.handshake.set_result(ConnectionError(reason))
        self.text.close(reason)
        self.binary.close(reason)
        self.gone.set()


class WebReplTransport(Transport):
    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        password: str | None = None,
        ask_password: AskPassword | None = None,
        connect_timeout: float = 5.0,
        write_chunk: int = 255,
        write_delay: float = 0.01,
        block_size: int = 1024,
        blocks_in_flight: int = 1,
    ) -> None:
        self.host, self.port = host, port
        self.address = f"ws://{f'[{host}]' if ':' in host else host}:{port}"
        self.identity = self.address
        self.connect_timeout = connect_timeout
        self.profile = LinkProfile(
            block_size=block_size,
            blocks_in_flight=blocks_in_flight,
            write_chunk=write_chunk,
            write_delay=write_delay,
        )
        self._password = password
        self._ask_password = ask_password
        self._asked = False
        self._link: _ClientLink | None = None
        self._leftover = b""  # REPL bytes that came with the login reply
        self._drip_at = 0.0  # when the board's input buffer has drained (pacing)
        self._write_lock = asyncio.Lock()
        self._files = WebReplFiles(self)

    def __repr__(self) -> str:
        return f"<WebReplTransport {self.address}>"

    # -- connecting -------------------------------------------------------------------------

    async def open(self) -> None:
        password = await self._login_password()
        link = await self._connect()
        try:
            self._leftover = await self._login(link, password)
        except BaseException as e:
            link.abort()
            if isinstance(e, WebReplAccessDenied) and self._asked:
                self._password = None  # ask again next time
            raise
        self._link = link
        self._drip_at = 0.0

    async def _login_password(self) -> str:
        password = self._password
        if password is None:
            password = os.environ.get(ENV_PASSWORD)
        if password is None and self._ask_password is not None:
            password = await self._ask_password(self.address)
            self._password, self._asked = password, True  # reused when reconnecting
        if password is None:
            raise WebReplPasswordNeeded(
                f"{self.address}: a WebREPL password is needed: give --password, set "
                f'{ENV_PASSWORD}, or add password = "env:VAR" to its entry in the config'
            )
        return password

    async def _connect(self) -> _ClientLink:
        loop = asyncio.get_running_loop()
        uri = parse_uri(f"{self.address}/")
        ws = ClientProtocol(uri, logger=quiet_logger("mptui.webrepl.ws"))
        try:
            _, link = await asyncio.wait_for(
                loop.create_connection(lambda: _ClientLink(ws), self.host, self.port),
                self.connect_timeout,
            )
        except (OSError, asyncio.TimeoutError) as e:
            why = "timed out" if isinstance(e, asyncio.TimeoutError) else (e.strerror or str(e))
            raise TransportError(f"cannot connect to {self.address}: {why}") from None
        ws.send_request(ws.connect())
        link._flush()
        failure: Exception | str | None
        try:
            failure = await asyncio.wait_for(link.handshake, self.connect_timeout)
        except asyncio.TimeoutError:
            failure = "no WebSocket handshake reply"
        if failure is not None:
            link.abort()
            raise TransportError(f"{self.address}: not a WebREPL server ({failure})")
        return link

    async def _login(self, link: _ClientLink, password: str) -> bytes:
        """Answer the password prompt; return REPL output that came after the greeting."""
        seen = bytearray()
        try:
            await self._read_until(link, seen, (PASSWORD_PROMPT,))
        except TransportClosed:
            said = getattr(link.ws.close_rcvd, "reason", "")  # a bridge says why
            raise TransportError(
                f"{self.address}: refused: {said}" if said else
                f"{self.address}: the board closed the connection before asking for the "
                "password: it already has a WebREPL client (one at a time)"
            ) from None
        link.send_text(password.encode() + b"\r")
        seen.clear()
        marker: bytes | None
        try:
            marker = await self._read_until(link, seen, (CONNECTED, DENIED))
        except TransportClosed:
            marker = DENIED if DENIED in seen else None
            if marker is None:
                raise TransportError(
                    f"{self.address}: the board closed the connection after the password"
                ) from None
        if marker == DENIED:
            too_long = len(password.encode()) > MAX_PASSWORD
            hint = f" (a board keeps at most {MAX_PASSWORD} characters)" if too_long else ""
            raise WebReplAccessDenied(
                f"{self.address}: Access denied: wrong WebREPL password{hint}"
            )
        return bytes(seen[seen.find(CONNECTED) + len(CONNECTED) :])

    async def _read_until(
        self, link: _ClientLink, seen: bytearray, markers: tuple[bytes, ...]
    ) -> bytes:
        deadline = time.monotonic() + LOGIN_TIMEOUT
        while True:
            for marker in markers:
                if marker in seen:
                    return marker
            left = deadline - time.monotonic()
            if left <= 0:
                raise TransportError(f"{self.address}: no WebREPL login prompt from the board")
            try:
                seen += await asyncio.wait_for(link.text.read(), left)
            except asyncio.TimeoutError:
                continue

    # -- the byte pipe ----------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._link is not None and self._link.closed is None

    def _live_link(self) -> _ClientLink:
        if self._link is None or self._link.closed is not None:
            reason = self._link.closed if self._link else "not connected"
            raise TransportClosed(f"{self.address}: {reason}")
        return self._link

    async def read(self) -> bytes:
        if self._leftover:
            data, self._leftover = self._leftover, b""
            return data
        if self._link is None:
            raise TransportClosed("not connected")
        return await self._link.text.read()

    async def write(self, data: bytes) -> None:
        """Text frames of at most write_chunk bytes (not splitting UTF-8 characters), no faster
        than write_chunk bytes per write_delay seconds."""
        chunk, delay = self.profile.write_chunk or len(data) or 1, self.profile.write_delay
        async with self._write_lock:
            view = memoryview(data)
            while view:
                n = utf8_cut(view, chunk)
                if delay:
                    cost = delay * n / chunk
                    wait = self._drip_at + cost - delay - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    self._drip_at = max(self._drip_at, time.monotonic()) + cost
                link = self._live_link()
                link.send_text(bytes(view[:n]))
                await link.drain()
                view = view[n:]

    async def close(self) -> None:
        link, self._link = self._link, None
        self._leftover = b""
        if link is None:
            return
        link.close()
        try:  # a board serves one client: let it see this one go before anyone reconnects
            await asyncio.wait_for(link.gone.wait(), 2.0)
        except asyncio.TimeoutError:
            link.abort()

    @property
    def file_channel(self) -> WebReplFiles | None:
        return self._files if self.is_open else None


class WebReplFiles(FileChannel):
    """WebREPL's file protocol: PUT in `put_chunk`-byte frames; GET in 256-byte replies with
    up to `get_window` requests ahead of them when the size is known."""

    max_path_bytes = MAX_NAME

    def __init__(self, transport: WebReplTransport, put_chunk: int = 1024, get_window: int = 8):
        self._transport = transport
        self.put_chunk = put_chunk
        self.get_window = get_window
        self._buf = bytearray()
        self._lock = asyncio.Lock()

    def _name(self, path: str) -> bytes:
        name = path.encode("utf-8")
        if len(name) > MAX_NAME or b"\0" in name:
            raise FileChannelError(
                f"{path}: too long for WebREPL's file protocol ({MAX_NAME} bytes)"
            )
        return name

    async def _read_exact(self, link: _ClientLink, n: int, path: str) -> bytes:
        while len(self._buf) < n:
            try:
                self._buf += await asyncio.wait_for(link.binary.read(), REPLY_TIMEOUT)
            except asyncio.TimeoutError:
                raise FileChannelError(f"{path}: the board stopped answering (WebREPL)") from None
            except TransportClosed as e:
                raise TransportClosed(f"{self._transport.address}: {e}") from None
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    async def _expect_ok(self, link: _ClientLink, path: str) -> None:
        reply = await self._read_exact(link, 4, path)
        if reply != OK:
            link.abort()  # out of step with the board: start afresh
            raise FileChannelError(f"{path}: unexpected WebREPL reply {reply!r}")

    async def put(self, path: str, data: bytes, progress: Progress | None = None) -> None:
        name = self._name(path)
        async with self._lock:
            link = self._transport._live_link()
            self._buf.clear()
            link.send_binary(encode_header(PUT_FILE, name, len(data)))
            await self._expect_ok(link, path)
            for start in range(0, len(data), self.put_chunk):
                link.send_binary(data[start : start + self.put_chunk])
                await link.drain()
                if progress:
                    progress(min(start + self.put_chunk, len(data)), len(data))
            await self._expect_ok(link, path)
            if progress and not data:
                progress(0, 0)

    async def get(
        self, path: str, progress: Progress | None = None, size: int | None = None
    ) -> bytes:
        name = self._name(path)
        async with self._lock:
            link = self._transport._live_link()
            self._buf.clear()
            link.send_binary(encode_header(GET_FILE, name))
            await self._expect_ok(link, path)
            # Each b"\0" asks for one reply; the last reply is empty. With the size known the
            # requests can run ahead; asking for more than the file holds would desynchronise.
            needed = None if size is None else (size + GET_CHUNK - 1) // GET_CHUNK + 1
            data = bytearray()
            asked = answered = 0
            while True:
                ask = 1 if asked == answered else 0
                if needed is not None:
                    ask = max(ask, min(self.get_window - (asked - answered), needed - asked))
                if ask > 0:
                    link.send_binary(b"\0" * ask)
                    asked += ask
                length = int.from_bytes(await self._read_exact(link, 2, path), "little")
                answered += 1
                if not length:
                    break
                data += await self._read_exact(link, length, path)
                if progress:
                    progress(len(data), size if size is not None else -1)
            await self._expect_ok(link, path)
            if asked != answered:
                link.abort()
                raise FileChannelError(f"{path}: the file changed during the transfer")
            return bytes(data)

    async def version(self) -> tuple[int, int, int]:
        """The board's MicroPython version (major, minor, micro)."""
        async with self._lock:
            link = self._transport._live_link()
            self._buf.clear()
            link.send_binary(encode_header(GET_VER, b""))
            major, minor, micro = await self._read_exact(link, 3, "version")
            return major, minor, micro
