"""The board side of WebREPL for a virtual board: what a board's `webrepl` module does. The
bridge serves it (`Bridge(board, webrepl_port=8266, webrepl_password="secret")`, or
`mptui bridge --webrepl-port 8266`).

As on a board (extmod/modwebrepl.c, micropython-lib's webrepl.py; the WebSocket itself in
ws_server.py): any Sec-WebSocket-Key, no version needed, masked or unmasked client frames.
After the handshake a second client is turned away (here with a close frame that says why);
the first one gets `Password: `, then `\\r\\nAccess denied\\r\\n` and the end of the connection,
or `\\r\\nWebREPL connected\\r\\n>>> ` and the REPL in text frames: board output only after login,
a frame per piece of output as it comes (a UTF-8 character may be split across two frames, as
a board's writes split it). Binary frames carry the file protocol (PUT, GET, version), done like
a board's C code does it: straight on the board's filesystem (its root folder here), not
through its REPL; a request the filesystem refuses ends the session, as on a board. The
password is never logged.

`WebReplConnection` talks to a small hub (attach/detach/from_client/pause, host_path, version):
the bridge's, which keeps one client at a time across all its ports.
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import logging
from pathlib import Path
from typing import BinaryIO

from mptui.virtual import ws_server
from mptui.virtual.login_guard import guard_for
from mptui.virtual.runtime import RuntimeOptions
from mptui.webrepl_wire import (
    BUSY_CLOSE_CODE,
    CONNECTED,
    DENIED,
    GET_CHUNK,
    GET_FILE,
    GET_VER,
    HEADER,
    MAX_PASSWORD,
    OK,
    PASSWORD_PROMPT,
    PUT_FILE,
    decode_header,
    no_delay,
)

MAX_FRAME = 16384  # bytes of board output per text frame
CLOSE_GRACE = 1.0  # seconds a closing client has to answer our close frame

log = logging.getLogger("mptui.webrepl")


def check_password(password: str) -> bytes:
    """The password as a board keeps it; a board refuses more than 9 bytes."""
    raw = password.encode("utf-8")
    if not 0 < len(raw) <= MAX_PASSWORD or any(b in raw for b in b"\r\n\0"):
        raise ValueError(f"a WebREPL password is 1 to {MAX_PASSWORD} bytes, with no line breaks")
    return raw


async def runtime_version(options: RuntimeOptions) -> tuple[int, int, int]:
    """The MicroPython version of the runtime behind a virtual board (for GET_VER)."""
    code = "import sys;print(*sys.implementation.version[:3])"
    proc = await asyncio.create_subprocess_exec(
        *options.command(), "-c", code, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    try:
        major, minor, micro = (int(x) for x in out.split()[:3])
    except ValueError:
        return (0, 0, 0)
    return (major, minor, micro)


def host_path(root: Path, name: str) -> Path:
    """Where a board path lands in the board's folder; OSError(EINVAL) for a '..' above its
    root, as littlefs answers."""
    parts: list[str] = []
    for part in name.split("/"):
        if part == "..":
            if not parts:
                raise OSError(errno.EINVAL, "above the root")
            parts.pop()
        elif part and part != ".":
            parts.append(part)
    return root.joinpath(*parts)


class WebReplConnection(asyncio.Protocol):
    """One connection, speaking the board side of WebREPL.

    Its hub: `attach(conn) -> str | None` (why the client is turned away; None: it is in),
    `detach(conn)`, `from_client(conn, data)` (REPL input for the board), `pause(conn, paused)`
    (this client's send buffer is full / has room again), `host_path(name) -> Path | None`
    (where a board path lands; None: no file access), `version` (major, minor, micro). The hub
    hands board output to `conn.send(data)`; `peer`, `kind`, `bytes_in` and `bytes_out` are
    there for its logs.
    """

    kind = "webrepl"

    def __init__(self, hub, password: bytes) -> None:
        self.hub = hub
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.closed: str | None = None
        self.bytes_in = 0
        self.bytes_out = 0
        self._password = password
        self._request = bytearray()  # the HTTP request, until its empty line
        self._frames: ws_server.FrameReader | None = None  # after the handshake
        self._typed = bytearray()
        self._attached = False
        self._logged_in = False
        self._message = ws_server.TEXT
        self._header = bytearray()
        self._put_file: BinaryIO | None = None
        self._put_left = 0
        self._get_file: BinaryIO | None = None
        self._close_timer: asyncio.TimerHandle | None = None

    # -- the connection ---------------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.peer = no_delay(transport) or self.peer
        guard_for(self.hub).opened(self)  # a login deadline, a cap, per-source back-off

    def data_received(self, data: bytes) -> None:
        if self.closed is not None:
            return
        if self._frames is None:
            self._request += data
            end = self._request.find(b"\r\n\r\n")
            if end < 0:
                if len(self._request) > ws_server.MAX_REQUEST:
                    self.abort()
                return
            request, data = bytes(self._request[:end]), bytes(self._request[end + 4 :])
            self._request = bytearray()
            if not self._handshake(request) or self._frames is None:
                return
        try:
            frames = self._frames.feed(data)
        except ws_server.WsError as e:
            log.info("%s: %s", self.peer, e)
            self._detach()
            self.abort()
            return
        for opcode, payload in frames:
            if self.closed is not None or self._closing():
                return
            if opcode == ws_server.CLOSE:  # a board answers and ends the session
                self._write(ws_server.CLOSE_REPLY)
                self._detach()
                self._close_transport()
                return
            self._message = opcode
            if self._attached:
                self._received(payload)

    def _handshake(self, request: bytes) -> bool:
        reply = ws_server.handshake_reply(request)
        if reply is None:  # not a WebSocket request: a board sends its page and closes
            self._write(ws_server.html_page())
            self._close_transport()
            return False
        self._write(reply)
        self._frames = ws_server.FrameReader()
        self._opened()
        return self.closed is None and not self._closing()

    def _closing(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def _close_transport(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _opened(self) -> None:
        refused = guard_for(self.hub).refusal(self) or self.hub.attach(self)
        if refused:
            log.info("%s refused: %s", self.peer, refused)
            self.close(BUSY_CLOSE_CODE, refused)
            return
        self._attached = True
        self.send_text(PASSWORD_PROMPT)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._close_timer is not None:
            self._close_timer.cancel()
        if self.closed is None:
            self.closed = f"the connection was lost ({exc})" if exc else "closed"
            self.on_closed(self.closed)

    def on_closed(self, reason: str) -> None:
        guard_for(self.hub).closed(self)
        for f in (self._put_file, self._get_file):
            if f is not None:
                f.close()
        self._put_file = self._get_file = None
        self._detach()

    def _detach(self) -> None:
        """Leave the board (it can take another client); nothing more is read from this one."""
        if self._attached:
            self._attached = False
            self._logged_in = False
            self.hub.detach(self)

    def peer_left(self) -> bool:
        """The client is gone (for a hub deciding whether a newcomer is a quick reconnect)."""
        return self.closed is not None

    def pause_writing(self) -> None:
        self.hub.pause(self, True)

    def resume_writing(self) -> None:
        self.hub.pause(self, False)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """A close frame that says why, then the end of the connection."""
        payload = code.to_bytes(2, "big") + reason.encode()[:120]
        self._write(ws_server.frame(ws_server.CLOSE, payload))
        if self.transport is not None and self._close_timer is None:
            self._close_timer = asyncio.get_running_loop().call_later(CLOSE_GRACE, self.abort)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    # -- input ------------------------------------------------------------------------------

    def _received(self, data: bytes) -> None:
        if not self._logged_in:
            data = self._password_bytes(data)
            if not data:
                return
        if self._message == ws_server.TEXT:
            self.hub.from_client(self, data)
        else:
            self._file_bytes(data)

    def _password_bytes(self, data: bytes) -> bytes:
        """Collect the password up to CR/LF, from frames of any kind (a board keeps 10 bytes
        and compares them as a C string); return what follows."""
        for i, b in enumerate(data):
            if b in b"\r\n":
                typed = bytes(self._typed).split(b"\0", 1)[0]
                self._typed.clear()
                right = hmac.compare_digest(typed, self._password)
                if guard_for(self.hub).login(self, right) is None:
                    self._logged_in = True
                    log.info("%s logged in", self.peer)
                    self.send_text(CONNECTED)
                    return data[i + 1 :]
                log.info("%s: wrong password", self.peer)
                self.send_text(DENIED)  # and the end of the connection, as on a board
                self._detach()
                self._close_transport()
                return b""
            if len(self._typed) < 10:
                self._typed.append(b)
        return b""

    def _file_bytes(self, data: bytes) -> None:
        view = memoryview(data)
        while view and self._attached:
            if self._put_left and self._put_file is not None:
                n = min(self._put_left, len(view))
                self._put_file.write(view[:n])
                self._put_left -= n
                view = view[n:]
                if not self._put_left:
                    self._finish()
            elif self._get_file is not None:
                view = view[1:]  # one request byte, one reply
                chunk = self._get_file.read(GET_CHUNK)
                self.send_binary(len(chunk).to_bytes(2, "little") + chunk)
                if not chunk:
                    self._finish()
            else:
                n = HEADER.size - len(self._header)
                self._header += view[:n]
                view = view[n:]
                if len(self._header) == HEADER.size:
                    header, self._header = bytes(self._header), bytearray()
                    self._file_op(*decode_header(header))

    def _file_op(self, op: int, size: int, name: bytes) -> None:
        if op == GET_VER:
            self.send_binary(bytes(self.hub.version))
            return
        try:
            if op not in (PUT_FILE, GET_FILE):
                raise OSError(errno.EINVAL, "unknown file operation")
            path = self.hub.host_path(name.decode("utf-8"))
            if path is None:
                raise OSError(errno.ENODEV, "this board has no filesystem to serve")
            f = open(path, "wb" if op == PUT_FILE else "rb")  # noqa: SIM115 (kept open)
        except (OSError, UnicodeDecodeError) as e:
            # A board's dupterm drops the session when a file op raises.
            log.info("%s: file op %d on %r failed (%s): session dropped", self.peer, op, name, e)
            self._detach()
            self.abort()
            return
        self.send_binary(OK)
        if op == GET_FILE:
            self._get_file = f
        elif size:
            self._put_file, self._put_left = f, size
        else:  # an empty PUT is done at once
            f.close()
            self.send_binary(OK)

    def _finish(self) -> None:
        f = self._put_file or self._get_file
        self._put_file = self._get_file = None
        if f is not None:
            f.close()
        self.send_binary(OK)

    # -- output -----------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Board output for the client (dropped until login, as on a board): text frames as
        the output comes, cut only by size."""
        if not self._logged_in or self.closed is not None:
            return
        for start in range(0, len(data), MAX_FRAME):
            self.send_text(data[start : start + MAX_FRAME])

    def send_text(self, data: bytes) -> None:
        self._write(ws_server.frame(ws_server.TEXT, data))

    def send_binary(self, data: bytes) -> None:
        self._write(ws_server.frame(ws_server.BINARY, data))

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)
