"""The board side of WebREPL for a virtual board: what a board's `webrepl` module does. The
bridge serves it (`Bridge(board, webrepl_port=8266, webrepl_password="secret")`, or
`mptui bridge --webrepl-port 8266`).

As on a board: after the WebSocket handshake a second client is turned away (here with a close
frame that says why); the first one gets `Password: `, then `\\r\\nAccess denied\\r\\n` and the
end of the connection, or `\\r\\nWebREPL connected\\r\\n>>> ` and the REPL in text frames.
Binary frames carry the file protocol (PUT, GET, version), done like a board's C code does it:
straight on the board's filesystem (its root folder here), not through its REPL; a request the
filesystem refuses ends the session, as on a board. Board output is forwarded only after login,
in text frames that do not split UTF-8 characters. The password is never logged.

`WebReplConnection` talks to a small hub (attach/detach/from_client/pause, host_path, version):
the bridge's, which keeps one client at a time across all its ports.
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import logging
from pathlib import Path

from websockets.frames import Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

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
    WsLink,
    decode_header,
    incomplete_utf8_tail,
    quiet_logger,
    utf8_cut,
)

MAX_FRAME = 16384  # bytes of board output per text frame
UTF8_HOLD = 0.05  # seconds an unfinished UTF-8 character may wait for its last bytes

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
    """Where a board path lands in the board's folder ('..' stops at its root)."""
    parts: list[str] = []
    for part in name.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part and part != ".":
            parts.append(part)
    return root.joinpath(*parts)


class WebReplConnection(WsLink):
    """One WebSocket connection, speaking the board side of WebREPL.

    Its hub: `attach(conn) -> str | None` (why the client is turned away; None: it is in),
    `detach(conn)`, `from_client(conn, data)` (REPL input for the board), `pause(conn, paused)`
    (this client's send buffer is full / has room again), `host_path(name) -> Path | None`
    (where a board path lands; None: no file access), `version` (major, minor, micro). The hub
    hands board output to `conn.send(data)`; `peer`, `kind`, `bytes_in` and `bytes_out` are
    there for its logs.
    """

    kind = "webrepl"

    def __init__(self, hub, password: bytes) -> None:
        super().__init__(ServerProtocol(logger=quiet_logger("mptui.webrepl.ws")))
        self.hub = hub
        self.bytes_in = 0
        self.bytes_out = 0
        self._password = password
        self._typed = bytearray()
        self._attached = False
        self._logged_in = False
        self._message = Opcode.TEXT
        self._header = bytearray()
        self._put_file = None
        self._put_left = 0
        self._get_file = None
        self._held = b""  # the start of a UTF-8 character whose end is still to come
        self._hold_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        guard_for(self.hub).opened(self)  # a login deadline, a cap, per-source back-off

    # -- WebSocket events -------------------------------------------------------------------

    def on_event(self, event) -> None:
        if isinstance(event, Request):
            response = self.ws.accept(event)
            self.ws.send_response(response)
            self._flush()
            if response.status_code == 101:
                self._opened()
            return
        if event.opcode in (Opcode.TEXT, Opcode.BINARY):
            self._message = event.opcode
        elif event.opcode is not Opcode.CONT:
            return
        if event.data and self._attached:
            self._received(bytes(event.data))

    def _opened(self) -> None:
        refused = guard_for(self.hub).refusal(self) or self.hub.attach(self)
        if refused:
            log.info("%s refused: %s", self.peer, refused)
            self.close(BUSY_CLOSE_CODE, refused)
            return
        self._attached = True
        self.send_text(PASSWORD_PROMPT)

    def on_closed(self, reason: str) -> None:
        guard_for(self.hub).closed(self)
        for f in (self._put_file, self._get_file):
            if f is not None:
                f.close()
        self._put_file = self._get_file = None
        if self._hold_timer is not None:
            self._hold_timer.cancel()
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
        super().pause_writing()
        self.hub.pause(self, True)

    def resume_writing(self) -> None:
        super().resume_writing()
        self.hub.pause(self, False)

    # -- input ------------------------------------------------------------------------------

    def _received(self, data: bytes) -> None:
        if not self._logged_in:
            data = self._password_bytes(data)
            if not data:
                return
        if self._message is Opcode.TEXT:
            self.hub.from_client(self, data)
        else:
            self._file_bytes(data)

    def _password_bytes(self, data: bytes) -> bytes:
        """Collect the password up to CR/LF (a board keeps 10 bytes); return what follows."""
        for i, b in enumerate(data):
            if b in b"\r\n":
                right = hmac.compare_digest(bytes(self._typed), self._password)
                if guard_for(self.hub).login(self, right) is None:
                    self._typed.clear()
                    self._logged_in = True
                    log.info("%s logged in", self.peer)
                    self.send_text(CONNECTED)
                    return data[i + 1 :]
                log.info("%s: wrong password", self.peer)
                self.send_text(DENIED)
                self.close(1008, "Access denied")
                self._detach()
                return b""
            if len(self._typed) < 10:
                self._typed.append(b)
        return b""

    def _file_bytes(self, data: bytes) -> None:
        view = memoryview(data)
        while view and self._attached:
            if self._put_left:
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
        f.close()
        self.send_binary(OK)

    # -- output -----------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Board output for the client (dropped until login, as on a board)."""
        if not self._logged_in or self.closed is not None:
            return
        if self._hold_timer is not None:
            self._hold_timer.cancel()
            self._hold_timer = None
        data = self._held + data
        keep = incomplete_utf8_tail(data)
        self._held = data[len(data) - keep :] if keep else b""
        if keep:
            data = data[:-keep]
            self._hold_timer = asyncio.get_running_loop().call_later(UTF8_HOLD, self._release)
        while data:
            n = utf8_cut(data, MAX_FRAME)
            self.send_text(data[:n])
            data = data[n:]

    def _release(self) -> None:
        self._hold_timer = None
        held, self._held = self._held, b""
        if held and self._logged_in and self.closed is None:
            self.send_text(held)
