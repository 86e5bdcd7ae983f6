"""mptui's WebREPL client against the bytes a board sends, as its C code sends them
(extmod/modwebrepl.c, extmod/modwebsocket.c, micropython-lib webrepl.py): one frame per write,
so a prompt may come a byte per frame and a UTF-8 character split across two frames; nothing
but TCP's end after "Access denied" or for a second client; GET replies of u16 length + data.

A board cannot run here and our bridge does not send every such variant, so each test plays
a board's side of the wire byte for byte (`BoardWire`), and checks what the client makes of it.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from mptui.transports.base import TransportError
from mptui.transports.webrepl import WebReplAccessDenied, WebReplTransport
from mptui.virtual import ws_server
from mptui.webrepl_wire import CONNECTED, DENIED, GET_CHUNK, HEADER, OK, PASSWORD_PROMPT

PW = "pw123"
TIMEOUT = 10.0


class BoardWire:
    """One board's side of a WebREPL connection, scripted: `writes` is how the board's
    output is cut into frames (None: one frame per write, as given; "byte": a frame per byte);
    `banner` text frames come before the prompt; `files` serves GET and takes PUT."""

    def __init__(self, *, per_byte=False, banner=b"", after_login=(), files=None, refuse=False):
        self.per_byte = per_byte
        self.banner = banner
        self.after_login = after_login
        self.files = files if files is not None else {}
        self.refuse = refuse
        self.typed = []  # REPL input the board received
        self.server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> BoardWire:  # noqa: PYI034
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        await self.server.wait_closed()

    def _text(self, writer, data: bytes) -> None:
        pieces = [bytes([b]) for b in data] if self.per_byte else [data]
        for piece in pieces:
            writer.write(ws_server.frame(ws_server.TEXT, piece))

    async def _serve(self, reader, writer) -> None:
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            writer.write(ws_server.handshake_reply(request[:-4]))
            if self.refuse:  # a board with a client already: it just closes
                writer.close()
                return
            if self.banner:
                self._text(writer, self.banner)
            self._text(writer, PASSWORD_PROMPT)
            frames = _Frames(reader)
            typed = b""
            while b"\r" not in typed:
                typed += (await frames.next())[1]
            if typed.split(b"\r")[0][:10] != PW.encode():
                self._text(writer, DENIED)
                writer.close()  # no close frame: the socket just ends
                return
            self._text(writer, CONNECTED)
            for piece in self.after_login:
                writer.write(ws_server.frame(ws_server.TEXT, piece))
            while True:
                opcode, data = await frames.next()
                if opcode == ws_server.TEXT:
                    self.typed.append(data)
                else:
                    await self._file_op(frames, writer, data)
                    if frames.pending:  # no more binary data is due: a board reads a header
                        await self._file_op(frames, writer, b"")
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _file_op(self, frames, writer, data: bytes) -> None:
        frames.pending = data + frames.pending
        header = await frames.take(HEADER.size)
        _sig, op, _f, _o, size, _l, name = HEADER.unpack(header)
        name = name.split(b"\0")[0].decode()
        writer.write(ws_server.frame(ws_server.BINARY, OK))
        if op == 1:  # PUT: the data, then WB
            self.files[name] = await frames.take(size)
        else:  # GET: a u16-length chunk per b"\0" asked, an empty one at the end, then WB
            content, at = self.files[name], 0
            while True:
                await frames.take(1)  # each b"\0" asks for one reply (a board reads bytes)
                chunk = content[at : at + GET_CHUNK]
                at += len(chunk)
                reply = len(chunk).to_bytes(2, "little") + chunk
                writer.write(ws_server.frame(ws_server.BINARY, reply))
                if not chunk:
                    break
        writer.write(ws_server.frame(ws_server.BINARY, OK))


class _Frames:
    def __init__(self, reader) -> None:
        self.reader = reader
        self.parser = ws_server.FrameReader()
        self.ready: list[tuple[int, bytes]] = []
        self.pending = b""  # file-protocol bytes not yet used

    async def take(self, n: int) -> bytes:
        """n bytes of the file protocol, whatever the frames that carry them."""
        while len(self.pending) < n:
            self.pending += (await self.next())[1]
        data, self.pending = self.pending[:n], self.pending[n:]
        return data

    async def next(self) -> tuple[int, bytes]:
        while not self.ready:
            data = await self.reader.read(4096)
            if not data:
                raise ConnectionError("client gone")
            self.ready += self.parser.feed(data)
        return self.ready.pop(0)


def client(board: BoardWire, password: str = PW) -> WebReplTransport:
    return WebReplTransport("127.0.0.1", board.port, password=password, write_delay=0)


async def read_until(t: WebReplTransport, marker: bytes) -> bytes:
    out = b""
    while marker not in out:
        out += await asyncio.wait_for(t.read(), TIMEOUT)
    return out


async def test_prompts_a_byte_per_frame_and_split_characters():
    split = "é".encode()
    after = [b">>> ", split[:1], split[1:], b"\xff\xfe raw", b"\r\n"]
    async with BoardWire(per_byte=True, after_login=after) as board:
        t = client(board)
        await t.open()
        out = await read_until(t, b"raw\r\n")
        assert out == b">>> " + split + b"\xff\xfe raw\r\n"
        await t.write("print('✓')\r".encode())
        await t.close()
    assert b"".join(board.typed) == "print('✓')\r".encode()


async def test_text_before_the_prompt():
    async with BoardWire(banner=b"\r\nWebREPL daemon started\r\n") as board:
        t = client(board)
        await t.open()
        assert t.is_open
        await t.close()


async def test_denied_as_a_board_says_it():
    async with BoardWire(per_byte=True) as board:
        with pytest.raises(WebReplAccessDenied):
            await client(board, password="wrong").open()


async def test_second_client_closed_without_a_word():
    async with BoardWire(refuse=True) as board:
        with pytest.raises(TransportError, match="already has a WebREPL client"):
            await client(board).open()


@pytest.mark.parametrize("size", [0, 1, GET_CHUNK, 100_000 + 7])
async def test_files_as_the_board_c_code_moves_them(size):
    data = os.urandom(size)
    async with BoardWire() as board:
        t = client(board)
        await t.open()
        files = t.file_channel
        await files.put("/up.bin", data)
        assert board.files["/up.bin"] == data
        board.files["/down.bin"] = data[::-1]
        assert await files.get("/down.bin") == data[::-1]
        assert await files.get("/down.bin", size=size) == data[::-1]
        await t.close()
