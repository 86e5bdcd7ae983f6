"""WebREPL end to end: mptui's client transport against the bridge's WebREPL port (the virtual
board's WebREPL webrepl_board), with the real MicroPython runtime behind it."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os

import pytest
from helpers import WEBREPL_PW
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from mptui.board import BoardDisconnected, BoardExecError, Session
from mptui.transports import make_transport
from mptui.transports.webrepl import ENV_PASSWORD, WebReplPasswordNeeded
from mptui.virtual.webrepl import check_password
from mptui.webrepl_wire import (
    CONNECTED,
    DENIED,
    PASSWORD_PROMPT,
    PUT_FILE,
    encode_header,
    utf8_cut,
)

PW = WEBREPL_PW
TIMEOUT = 20.0


@pytest.fixture
async def session(webrepl_board):
    s = Session(webrepl_board.url, password=PW, reconnect=False)
    await s.connect()
    yield s
    await s.close()


class Console:
    """Collects what the board prints between operations; waits for text, event-driven."""

    def __init__(self, session: Session) -> None:
        self.data = bytearray()
        self._event = asyncio.Event()
        session.set_console(self._sink)

    def _sink(self, data: bytes) -> None:
        self.data += data
        self._event.set()

    async def wait_for(self, marker: bytes) -> None:
        async def wait():
            while marker not in self.data:
                self._event.clear()
                await self._event.wait()

        await asyncio.wait_for(wait(), TIMEOUT)


async def test_login_and_friendly_repl(session):
    console = Console(session)
    await session.console_write(b"\r")
    await console.wait_for(b">>> ")
    await session.console_write(b"print(6 * 7)\r")
    await console.wait_for(b"42\r\n>>> ")


async def test_exec_and_eval(session):
    assert await session.exec("print('hello', 1 + 1)") == b"hello 2\r\n"
    assert await session.eval("[x * x for x in range(4)]") == [0, 1, 4, 9]
    with pytest.raises(BoardExecError) as err:
        await session.exec("1/0")
    assert err.value.exc_type == "ZeroDivisionError"


async def test_utf8_text_through_the_terminal(session):
    text = "héllo ✓ " * 2000  # output far larger than a frame, multi-byte characters throughout
    out = await session.exec(f"print({text!r})")
    assert out.decode("utf-8") == text + "\r\n"


async def test_wrong_password_is_refused_clearly(webrepl_board):
    bad = Session(webrepl_board.url, password="wrong", reconnect=False)
    with pytest.raises(BoardDisconnected, match="Access denied"):
        await bad.connect()
    good = Session(webrepl_board.url, password=PW, reconnect=False)  # the board is free again
    await good.connect()
    assert await good.eval("1") == 1
    await good.close()


async def test_missing_password_says_where_to_give_it(webrepl_board):
    transport = make_transport(webrepl_board.url)
    with pytest.raises(WebReplPasswordNeeded, match="--password.*MPTUI_WEBREPL_PASSWORD"):
        await transport.open()


async def test_password_from_the_environment(webrepl_board, monkeypatch):
    monkeypatch.setenv(ENV_PASSWORD, PW)
    s = Session(webrepl_board.url, reconnect=False)
    await s.connect()
    assert await s.eval("2 + 2") == 4
    await s.close()


async def test_password_asked_for_once(webrepl_board):
    asked = []

    async def ask(address):
        asked.append(address)
        return PW

    s = Session(webrepl_board.url, ask_password=ask, reconnect=False)
    await s.connect()
    await s.close()
    await s.connect()  # reconnecting does not ask again
    await s.close()
    assert asked == [webrepl_board.url]


async def test_a_refused_answer_is_asked_for_again(webrepl_board):
    answers = ["wrong", PW]

    async def ask(address):
        return answers.pop(0)

    s = Session(webrepl_board.url, ask_password=ask, reconnect=False)
    with pytest.raises(BoardDisconnected, match="Access denied"):
        await s.connect()
    await s.connect()
    assert answers == []
    await s.close()


async def test_second_client_is_refused(session, webrepl_board):
    second = Session(webrepl_board.url, password=PW, reconnect=False)
    with pytest.raises(BoardDisconnected, match="already has a client .on the bridge's WebREPL port"):
        await second.connect()
    assert await session.eval("1 + 1") == 2  # the first client is unharmed
    await session.close()
    await second.connect()  # and once it leaves, the next one gets in
    assert await second.eval("3") == 3
    await second.close()


async def test_every_file_operation(session, webrepl_board):
    fs = session.fs
    root = webrepl_board.root
    await fs.mkdir("/lib/deep", parents=True)
    small = b"print('small')\n"
    big = os.urandom(5000)
    await fs.write("/lib/deep/small.py", small)  # below the channel's threshold: raw REPL
    await fs.write("/lib/big.bin", big)  # above it: the WebREPL file protocol
    assert (root / "lib/deep/small.py").read_bytes() == small  # files land in the board's /
    assert (root / "lib/big.bin").read_bytes() == big
    names = {e.path: (e.is_dir, e.size) for e in await fs.ls("/", recursive=True)}
    assert names["lib"][0] and names["lib/deep"][0]
    assert names["lib/big.bin"] == (False, 5000)
    assert names["lib/deep/small.py"] == (False, len(small))
    assert not any(n.endswith(".mptui~") for n in names)
    assert await fs.read("/lib/deep/small.py") == small
    assert await fs.read("/lib/big.bin") == big
    assert await fs.sha256("/lib/big.bin") == hashlib.sha256(big).hexdigest()
    hashes = await fs.tree_hashes("/lib")
    assert hashes["big.bin"] == (5000, hashlib.sha256(big).hexdigest())
    assert (await fs.stat("/lib/big.bin")).size == 5000
    total, free = await fs.df("/")
    assert total > 0 and 0 <= free <= total
    await fs.rename("/lib/big.bin", "/lib/moved.bin")
    assert await fs.exists("/lib/moved.bin") and not await fs.exists("/lib/big.bin")
    await fs.rm("/lib/moved.bin")
    await fs.rm("/lib", recursive=True)
    assert await fs.ls("/") == []
    assert list(root.iterdir()) == []


@pytest.mark.parametrize("channel", [True, False], ids=["file-protocol", "raw-repl"])
async def test_100kb_round_trip_is_byte_identical(session, webrepl_board, channel):
    session.fs.use_file_channel = channel
    data = os.urandom(100 * 1024)
    progress = []
    await session.fs.write("/blob.bin", data, progress=lambda done, total: progress.append(done))
    assert progress[-1] == len(data)
    assert (webrepl_board.root / "blob.bin").read_bytes() == data
    assert await session.fs.sha256("/blob.bin") == hashlib.sha256(data).hexdigest()
    assert await session.fs.read("/blob.bin") == data


async def test_without_the_helper_files_go_through_the_channel(session, webrepl_board):
    session.helper = False  # as on a board where the helper cannot load
    channel = session.transport.file_channel
    used = []
    for name in ("get", "put"):
        real = getattr(channel, name)

        async def spy(path, *args, _real=real, _name=name, **kw):
            used.append(_name)
            return await _real(path, *args, **kw)

        setattr(channel, name, spy)
    data = os.urandom(20_000)
    await session.fs.write("/nohelper.bin", data)
    assert (webrepl_board.root / "nohelper.bin").read_bytes() == data
    assert await session.fs.read("/nohelper.bin") == data
    assert used == ["put", "get"]
    assert sorted(p.name for p in webrepl_board.root.iterdir()) == ["nohelper.bin"]
    with pytest.raises(BoardExecError, match="ENOENT|Errno 2"):
        await session.fs.read("/missing.bin")


async def test_file_channel_put_get_and_version(session, webrepl_board):
    channel = session.transport.file_channel
    data = os.urandom(100 * 1024)
    await channel.put("/raw.bin", data)
    assert (webrepl_board.root / "raw.bin").read_bytes() == data
    assert await channel.get("/raw.bin", size=len(data)) == data  # requests run ahead
    assert await channel.get("/raw.bin") == data  # one request per reply
    assert await channel.get("/raw.bin", size=len(data) - 700) == data  # the file grew
    version = await session.eval("__import__('sys').implementation.version[:3]")
    assert await channel.version() == version != (0, 0, 0)
    assert await session.eval("1") == 1  # the REPL is unaffected


async def test_errors_come_from_the_board_not_the_channel(session):
    with pytest.raises(BoardExecError, match="ENOENT|Errno 2"):
        await session.fs.write("/no/such/folder/x.bin", os.urandom(4000))
    session.fs.use_file_channel = True
    with pytest.raises(BoardExecError, match="ENOENT|Errno 2"):
        await session.fs.read("/missing.bin")
    assert await session.eval("5") == 5  # still connected: the WebREPL session survived


async def test_interrupted_write_leaves_the_old_file(tmp_path, monkeypatch, webrepl_board):
    old = b"old contents\n" * 100
    (webrepl_board.root / "keep.bin").write_bytes(old)
    s = Session(webrepl_board.url, password=PW, reconnect=False)
    await s.connect()

    def cut(done, total):  # the network goes away after the first frame
        if webrepl_board.bridge._client is not None:
            webrepl_board.bridge._client.abort()

    with pytest.raises(BoardDisconnected, match="keep.bin"):
        await s.fs.write("/keep.bin", os.urandom(50_000), progress=cut)
    assert (webrepl_board.root / "keep.bin").read_bytes() == old
    await s.close()


async def test_writes_are_paced_and_keep_utf8_whole(webrepl_board):
    frames = []
    original = webrepl_board.bridge._from_client
    webrepl_board.bridge._from_client = lambda conn, data: (frames.append(data), original(conn, data))
    s = Session(webrepl_board.url, password=PW, reconnect=False, write_chunk=16, write_delay=0.001)
    await s.connect()
    text = "é✓" * 40  # 2- and 3-byte characters: a 16-byte cut would split some
    assert await s.exec(f"print({text!r})") == (text + "\r\n").encode()
    await s.close()
    assert frames and max(len(f) for f in frames) <= 16
    for frame in frames:
        frame.decode("utf-8")  # every frame is whole UTF-8


async def test_garbage_and_strangers_do_not_hurt_the_server(webrepl_board):
    async with ws_connect(webrepl_board.url) as ws:  # a raw WebSocket client
        assert (await ws.recv(decode=False)) == PASSWORD_PROMPT
        await ws.send(PW + "\r")
        assert CONNECTED in await ws.recv(decode=False)
        await ws.send(b"\xff" * 200)  # garbage binary: read as a header, then a bad PUT
        await ws.send(encode_header(PUT_FILE, b"/no/such/dir/f", 10))
        with pytest.raises(ConnectionClosed):  # the board drops the session, as a real one does
            for _ in range(10):
                await asyncio.wait_for(ws.recv(), TIMEOUT)
    reader, writer = await asyncio.open_connection("127.0.0.1", webrepl_board.bridge.webrepl_port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # plain HTTP, not a WebSocket
    page = await asyncio.wait_for(reader.read(), TIMEOUT)  # a board's stub page, then the end
    assert page.startswith(b"HTTP/1.0 200 OK\r\n\r\n") and b"webrepl_content.js" in page
    writer.close()
    s = Session(webrepl_board.url, password=PW, reconnect=False)  # still serving
    await s.connect()
    assert await s.eval("7") == 7
    await s.close()


async def test_denied_reply_on_the_wire(webrepl_board):
    async with ws_connect(webrepl_board.url) as ws:
        assert (await ws.recv(decode=False)) == PASSWORD_PROMPT
        await ws.send("nope\r")
        assert await ws.recv(decode=False) == DENIED


async def test_password_never_printed_or_logged(webrepl_board, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("websockets").setLevel(logging.DEBUG)
    s = Session(webrepl_board.url, password=PW, reconnect=False)
    await s.connect()
    await s.fs.write("/x.bin", os.urandom(3000))
    await s.exec("print('hi')")
    await s.close()
    bad = Session(webrepl_board.url, password=PW + "x", reconnect=False)
    with pytest.raises(BoardDisconnected) as err:
        await bad.connect()
    out, errors = capsys.readouterr()
    seen = caplog.text + out + errors + str(err.value) + repr(s.transport)
    assert "logged in" in caplog.text  # the webrepl_board did log, without the password
    assert PW not in seen


def test_password_checks_and_utf8_helpers():
    assert check_password("abcd") == b"abcd"
    for bad in ("", "x" * 10, "a\rb"):
        with pytest.raises(ValueError):
            check_password(bad)
    text = "aé✓😀".encode()  # 1, 2, 3 and 4-byte characters
    for limit in range(1, len(text)):
        cut = utf8_cut(text, limit)
        assert cut <= limit
        text[:cut].decode()
