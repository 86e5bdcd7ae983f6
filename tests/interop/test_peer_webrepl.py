"""A WebREPL client written to the protocol as a board sees it (what the official
webrepl_cli.py sends: `Sec-WebSocket-Key: foo`, no Sec-WebSocket-Version, unmasked frames,
the request header in two frames) against `mptui bridge --webrepl-port`."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
import time

import pytest
from peers import PASSWORD

TIMEOUT = 20.0
REQUEST = (
    b"GET / HTTP/1.1\r\nHost: board\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
    b"Sec-WebSocket-Key: foo\r\n\r\n"
)
HEADER = "<2sBBQLH64s"
TEXT, BINARY = 0x81, 0x82


class BoardSideClient:
    """Frames as a board reads them: FIN + opcode, 7- or 16-bit length, no mask."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), TIMEOUT)
        self.sock.sendall(REQUEST)
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += self.sock.recv(1)
        self.handshake = reply
        self.text = b""
        self.binary = b""

    def send(self, data: bytes, kind: int = BINARY) -> None:
        size = len(data)
        head = struct.pack(">BB", kind, size) if size < 126 else struct.pack(">BBH", kind, 126, size)
        self.sock.sendall(head + data)

    def _exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _frame(self) -> None:
        kind, size = self._exact(2)
        assert not size & 0x80, "a server's frames are not masked"
        if size == 126:
            (size,) = struct.unpack(">H", self._exact(2))
        payload = self._exact(size)
        if kind == TEXT:
            self.text += payload
        elif kind == BINARY:
            self.binary += payload
        else:
            raise ConnectionError(f"frame {kind:#x}")

    def text_until(self, marker: bytes) -> bytes:
        deadline = time.monotonic() + TIMEOUT
        while marker not in self.text:
            if time.monotonic() > deadline:
                pytest.fail(f"expected {marker!r}, got {self.text!r}")
            self._frame()
        i = self.text.index(marker) + len(marker)
        out, self.text = self.text[:i], self.text[i:]
        return out

    def binary_exact(self, n: int) -> bytes:
        while len(self.binary) < n:
            self._frame()
        out, self.binary = self.binary[:n], self.binary[n:]
        return out

    def request(self, op: int, name: bytes, size: int = 0) -> None:
        rec = struct.pack(HEADER, b"WA", op, 0, 0, size, len(name), name)
        self.send(rec[:10])
        self.send(rec[10:])

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def client(served):
    c = BoardSideClient(served.webrepl_port)
    yield c
    c.close()


def test_handshake_login_and_code(client):
    accept = hashlib.sha1(b"foo258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
    assert client.handshake.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"Sec-WebSocket-Accept: " + base64.b64encode(accept) + b"\r\n" in client.handshake
    assert client.text_until(b"Password: ") == b"Password: "
    client.send(PASSWORD.encode() + b"\r", TEXT)
    assert client.text_until(b"\r\nWebREPL connected\r\n>>> ") == b"\r\nWebREPL connected\r\n>>> "
    client.send(b"print('a\\nb', 6 * 7)\r", TEXT)
    # (the board may still be printing its boot banner: the bridge started just now)
    out = client.text_until(b"42\r\n>>> ")
    assert out.endswith(b"print('a\\nb', 6 * 7)\r\na\r\nb 42\r\n>>> ")


def test_put_and_get_100kb_byte_identical(client, served):
    client.text_until(b"Password: ")
    client.send(PASSWORD.encode() + b"\r", TEXT)
    client.text_until(b"WebREPL connected\r\n>>> ")
    data = os.urandom(100 * 1024)
    client.request(1, b"/up.bin", len(data))
    assert client.binary_exact(4) == b"WB\x00\x00"
    for start in range(0, len(data), 1024):
        client.send(data[start : start + 1024])
    assert client.binary_exact(4) == b"WB\x00\x00"
    assert (served.root / "up.bin").read_bytes() == data
    client.request(2, b"/up.bin")
    assert client.binary_exact(4) == b"WB\x00\x00"
    got = b""
    while True:
        client.send(b"\x00")
        (size,) = struct.unpack("<H", client.binary_exact(2))
        if not size:
            break
        got += client.binary_exact(size)
    assert client.binary_exact(4) == b"WB\x00\x00"
    assert got == data
    client.request(3, b"")
    assert len(client.binary_exact(3)) == 3


def test_wrong_password_is_denied(client):
    client.text_until(b"Password: ")
    client.send(b"nope\r", TEXT)
    assert client.text_until(b"Access denied\r\n") == b"\r\nAccess denied\r\n"
    with pytest.raises(ConnectionError):
        client._frame()  # and the connection ends
