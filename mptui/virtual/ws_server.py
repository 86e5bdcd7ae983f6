"""The server side of a WebSocket as a board's WebREPL speaks it, which is laxer than RFC 6455.

Handshake (micropython-lib net/webrepl/webrepl.py, server_handshake): the request line is
skipped; each header line is split at its first ":" and stripped; names are case-sensitive.
A request with a non-empty `Sec-WebSocket-Key` (any value), a `Connection` that contains
`Upgrade` and an `Upgrade` of exactly `websocket` gets the 101 reply; no version is asked for.
Anything else gets the stub page (`send_html`) and the end of the connection.

Frames (extmod/modwebsocket.c): client frames masked or not; 7- and 16-bit lengths (a 64-bit
one ends the connection); a continuation keeps its message's opcode; a close frame is
answered with `\\x88\\x00` and ends the connection; pings and pongs are read and ignored.
The server sends one unmasked frame per write, FIN set, 2- or 4-byte header, < 64 KiB.
"""

from __future__ import annotations

import base64
import hashlib

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_REQUEST = 8192  # bytes of HTTP request we read before giving up on it
MAX_PAYLOAD = 0xFFFF  # a board's frames have a 16-bit length at most
TEXT, BINARY, CLOSE, CONT = 0x1, 0x2, 0x8, 0x0
CLOSE_REPLY = b"\x88\x00"
STATIC_HOST = b"https://micropython.org/webrepl/"


class WsError(Exception):
    """The peer broke the protocol as a board reads it: the connection ends."""


def handshake_reply(request: bytes) -> bytes | None:
    """The 101 reply to a request (everything up to and without its empty line), or None
    when it is not a WebSocket request as a board sees one."""
    key, upgrade, websocket = b"", False, False
    for line in request.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            return None  # a board's handshake fails on such a line
        name, value = name.strip(), value.strip()
        if name == b"Sec-WebSocket-Key":
            key = value
        elif name == b"Connection" and b"Upgrade" in value:
            upgrade = True
        elif name == b"Upgrade" and value == b"websocket":
            websocket = True
    if not (key and upgrade and websocket):
        return None
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )


def html_page() -> bytes:
    """What a board sends to a plain HTTP request: a stub that loads the WebREPL client."""
    return (
        b'HTTP/1.0 200 OK\r\n\r\n<base href="' + STATIC_HOST + b'"></base>\r\n'
        b'<script src="webrepl_content.js"></script>\r\n'
    )


def frame(opcode: int, payload: bytes) -> bytes:
    """One server frame: FIN, no mask, the shortest length that fits (16 bits at most)."""
    size = len(payload)
    if size > MAX_PAYLOAD:
        raise ValueError("a board's WebSocket frames carry at most 65535 bytes")
    if size < 126:
        return bytes((0x80 | opcode, size)) + payload
    return bytes((0x80 | opcode, 126, size >> 8, size & 0xFF)) + payload


class FrameReader:
    """Client frames in, (opcode, payload) out: data frames with the opcode of their
    message (TEXT or BINARY), and CLOSE. Pings and pongs are dropped."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._message = TEXT

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self._buf += data
        out: list[tuple[int, bytes]] = []
        while True:
            parsed = self._one()
            if parsed is None:
                return out
            opcode, payload = parsed
            if opcode == CLOSE:
                out.append((CLOSE, b""))
                return out
            if opcode < CLOSE and payload:
                out.append((opcode, payload))

    def _one(self) -> tuple[int, bytes] | None:
        buf = self._buf
        if len(buf) < 2:
            return None
        opcode, size, at = buf[0] & 0x0F, buf[1] & 0x7F, 2
        if size == 127:
            raise WsError("a 64-bit frame length (a board closes the connection)")
        if size == 126:
            if len(buf) < 4:
                return None
            size, at = buf[2] << 8 | buf[3], 4
        mask = b""
        if buf[1] & 0x80:
            if len(buf) < at + 4:
                return None
            mask, at = bytes(buf[at : at + 4]), at + 4
        if len(buf) < at + size:
            return None
        payload = bytes(buf[at : at + size])
        del buf[: at + size]
        if mask:
            payload = _unmask(payload, mask)
        if opcode in (TEXT, BINARY):
            self._message = opcode
        elif opcode == CONT:
            opcode = self._message
        return opcode, payload


def _unmask(data: bytes, mask: bytes) -> bytes:
    n = len(data)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")
