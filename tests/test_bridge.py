"""The bridge's own behaviour, through pyserial's socket:// and rfc2217:// clients (the ones
mpremote uses), plain sockets and mptui's WebREPL client: one client at a time across the three
ports, Ctrl-C, a looping main.py, output nobody hears, a real serial port, a clean stop."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import socket
import termios
import time

import pytest
import serial
from helpers import expect, recv_all, runtime_processes, until, wait_until

from mptui.board import BoardAccessDenied, BoardDisconnected, Session
from mptui.virtual.board import VirtualBoard
from mptui.virtual.bridge import (
    ANY_PORT,
    OFF,
    RFC2217,
    SOCKET,
    WEBREPL,
    Bridge,
    BridgeError,
)
from mptui.virtual.bridge_clients import BUSY
from mptui.virtual.bridge_devices import SerialDevice


def connect(url: str) -> serial.SerialBase:
    return serial.serial_for_url(url, timeout=0.1)


def test_second_client_is_refused_and_a_new_one_connects_after(bridge, mpremote):
    with connect(bridge.socket_url) as first:
        first.write(b"print('fir' + 'st')\r")
        expect(first, b"\r\nfirst\r\n")  # the first client is attached and served
        for port in (bridge.bridge.socket_port, bridge.bridge.rfc2217_port):
            with socket.create_connection(("127.0.0.1", port)) as second:
                assert recv_all(second) == BUSY
        refused = mpremote(bridge.socket_url, "exec", "print(1)", check=False)
        assert refused.returncode != 0
        first.write(b"print(2 + 2)\r")
        expect(first, b"\r\n4\r\n")  # still served
    with connect(bridge.rfc2217_url) as third:
        third.write(b"print(6 * 7)\r")
        expect(third, b"\r\n42\r\n")


@pytest.mark.parametrize("kind", [SOCKET, RFC2217])
def test_ctrl_c_interrupts_a_busy_loop(kind, bridge):
    with connect(bridge.url(kind)) as port:
        port.write(b"exec(\"print('spin' + 'ning')\\nwhile True: pass\")\r")
        expect(port, b"spinning\r\n")
        port.write(b"\x03")
        out = expect(port, b">>> ")
        assert b"KeyboardInterrupt" in out and b'File "<string>"' in out
        port.write(b"print(6 * 7)\r")
        expect(port, b"\r\n42\r\n")


@pytest.mark.parametrize("kind", [SOCKET, RFC2217])
def test_a_looping_main_py_is_interrupted_to_the_repl(kind, start_bridge):
    bridge = start_bridge(files={"main.py": "print('main' + ' runs')\nwhile True:\n    pass\n"})
    with connect(bridge.url(kind)) as port:
        port.write(b"\x03")  # main.py has been looping since the board started
        assert b"KeyboardInterrupt" in expect(port, b">>> ")
        port.write(b"\x04")  # soft reboot: main.py runs again
        expect(port, b"MPY: soft reboot\r\n")
        expect(port, b"main runs\r\n")
        port.write(b"\x03")
        assert b"KeyboardInterrupt" in expect(port, b">>> ")
        port.write(b"print(6 * 7)\r")
        expect(port, b"\r\n42\r\n")


def test_output_while_nobody_listens_is_dropped(bridge):
    wait_then_speak = (
        b"import os\r"
        b"exec(\"while 'go' not in os.listdir(): pass\\n"
        b"print('for ' + 'nobody')\\nopen('done', 'w').close()\")\r"
    )
    with connect(bridge.socket_url) as port:
        port.write(wait_then_speak)
        expect(port, b'close()")\r\n')  # the board has the line
    bridge.wait_idle()
    (bridge.root / "go").touch()
    wait_until((bridge.root / "done").exists, what="the board to speak")
    with connect(bridge.socket_url) as port:
        port.write(b"print('he' + 're')\r")
        out = expect(port, b"\r\nhere\r\n")
    assert b"for nobody" not in out


async def test_api_ports_and_clean_stop(tmp_path):
    board = VirtualBoard("t", root=tmp_path)
    async with Bridge(board, rfc2217_port=OFF, socket_port=ANY_PORT) as br:
        assert br.rfc2217_url is None and br.rfc2217_port is None
        assert br.socket_url == f"socket://127.0.0.1:{br.socket_port}"
        assert not br.exposed
        reader, writer = await asyncio.open_connection("127.0.0.1", br.socket_port)
        writer.write(b"\x04")  # a soft reboot: a second runtime process
        out = b""
        while not (b"MPY: soft reboot" in out and out.endswith(b">>> ")):
            out += await asyncio.wait_for(reader.read(4096), 10)
        assert runtime_processes(tmp_path) == [board.pid]
        writer.close()
    assert runtime_processes(tmp_path) == []


async def test_port_in_use_is_a_clear_error_and_starts_nothing(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bridge = Bridge(VirtualBoard("t", root=tmp_path), rfc2217_port=OFF, socket_port=port)
        with pytest.raises(BridgeError, match="address already in use"):
            await bridge.start()
    assert runtime_processes(tmp_path) == []


async def test_no_port_at_all_is_an_error(tmp_path):
    with pytest.raises(BridgeError):
        await Bridge(VirtualBoard(root=tmp_path), rfc2217_port=OFF, socket_port=OFF).start()


# -- a real serial port (a PTY stands in for the USB adapter) -------------------------------


@pytest.fixture
def serial_port():
    """(the board's end of a serial line, the path the bridge opens)."""
    master, slave = pty.openpty()
    path = os.ttyname(slave)
    yield master, slave, path
    for fd in (master, slave):
        try:
            os.close(fd)
        except OSError:
            pass


def read_fd(fd: int, n: int, timeout: float = 10) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while len(buf) < n:
        ready, _, _ = select.select([fd], [], [], max(0, deadline - time.monotonic()))
        if not ready:
            pytest.fail(f"expected {n} bytes, got {buf!r}")
        buf += os.read(fd, n - len(buf))
    return buf


def read_port(port, n: int, timeout: float = 10) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while len(buf) < n:
        if time.monotonic() > deadline:
            pytest.fail(f"expected {n} bytes, got {buf!r}")
        buf += port.read(n - len(buf))
    return buf


@pytest.mark.parametrize("kind", [SOCKET, RFC2217])
def test_a_serial_board_is_passed_through_byte_for_byte(kind, start_bridge, serial_port):
    master, _slave, path = serial_port
    bridge = start_bridge(board=lambda: SerialDevice(path, 115200))
    payload = bytes(range(256)) * 8  # every byte value, IAC (0xff) included
    with connect(bridge.url(kind)) as client:
        client.write(payload)
        assert read_fd(master, len(payload)) == payload
        os.write(master, payload)
        assert read_port(client, len(payload)) == payload


def test_rfc2217_settings_reach_the_real_port(start_bridge, serial_port):
    _master, slave, path = serial_port
    bridge = start_bridge(board=lambda: SerialDevice(path, 115200))
    assert termios.tcgetattr(slave)[4] == termios.B115200
    with serial.serial_for_url(bridge.rfc2217_url, baudrate=57600, timeout=0.1) as client:
        assert termios.tcgetattr(slave)[4] == termios.B57600
        client.baudrate = 9600  # acknowledged by the bridge once applied
        assert termios.tcgetattr(slave)[4] == termios.B9600


def test_an_unplugged_serial_board_ends_the_bridge(start_bridge, serial_port):
    master, _slave, path = serial_port
    bridge = start_bridge(board=lambda: SerialDevice(path, 115200))
    os.close(master)  # the adapter goes away: the port reads EIO
    bridge.call(asyncio.wait_for(bridge.bridge.wait_closed(), 10))
    assert bridge.bridge.device_lost


def test_a_quick_reconnect_waits_for_the_last_bytes_of_the_client_leaving(bridge):
    with socket.create_connection(("127.0.0.1", bridge.bridge.socket_port)) as first:
        first.sendall(b"print('fir' + 'st')\r")
        first.settimeout(10)
        out = b""
        while b"\r\nfirst\r\n" not in out:
            out += first.recv(4096)
        first.sendall(b"leaving = 'yes'\r")
    # `first` is closed; its last line may not have reached the board yet
    with connect(bridge.socket_url) as second:
        second.write(b"print(leaving)\r")
        expect(second, b"\r\nyes\r\n")


# -- WebREPL, the third port -----------------------------------------------------------------

PW = "br1dge-pw"


@pytest.fixture
async def three_ports(tmp_path, monkeypatch):
    """A bridge with RFC 2217, raw socket and WebREPL ports, in this test's event loop."""
    monkeypatch.delenv("MPTUI_WEBREPL_PASSWORD", raising=False)
    board = VirtualBoard("t", root=tmp_path)
    async with Bridge(
        board,
        rfc2217_port=ANY_PORT,
        socket_port=ANY_PORT,
        webrepl_port=ANY_PORT,
        webrepl_password=PW,
    ) as br:
        yield br


async def refused_on(port: int) -> bytes:
    """What a TCP client on `port` gets before the bridge closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


async def served_on(port: int, line: bytes, marker: bytes):
    """A TCP client on `port` that typed `line` and saw `marker`: (reader, writer)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(line)
    out = b""
    while marker not in out:
        data = await asyncio.wait_for(reader.read(4096), 10)
        assert data, out
        out += data
    return reader, writer


async def test_webrepl_through_the_bridge(three_ports, tmp_path):
    br = three_ports
    assert br.webrepl_url == f"ws://127.0.0.1:{br.webrepl_port}"
    assert set(br.urls) == {SOCKET, RFC2217, WEBREPL} and not br.exposed
    session = Session(br.webrepl_url, password=PW, reconnect=False)
    await session.connect()
    try:
        assert await session.eval("6*7") == 42
        data = os.urandom(20_000)
        await session.fs.write("/w.bin", data)  # the WebREPL file protocol
        assert (tmp_path / "w.bin").read_bytes() == data  # lands in the board's folder
        assert await session.transport.file_channel.get("/w.bin") == data
        await session.exec("kept = 'across clients'")
    finally:
        await session.close()
    # the board lives on for the next client, whichever port it comes in on
    _, writer = await served_on(br.socket_port, b"print(kept)\r", b"across clients\r\n")
    writer.close()


async def test_one_client_at_a_time_across_all_three_ports(three_ports):
    br = three_ports
    first = Session(br.webrepl_url, password=PW, reconnect=False)
    await first.connect()
    for port in (br.socket_port, br.rfc2217_port):
        assert await refused_on(port) == BUSY
    second = Session(br.webrepl_url, password=PW, reconnect=False)
    with pytest.raises(BoardDisconnected,
                       match=r"refused: the board already has a client \(on the bridge's WebREPL"):
        await second.connect()
    assert await first.eval("1 + 1") == 2  # the first client is unharmed
    await first.close()

    _, writer = await served_on(br.socket_port, b"print('sock' + 'et')\r", b"socket\r\n")
    with pytest.raises(BoardDisconnected, match="already has a client .on the bridge's raw socket"):
        await second.connect()  # now the socket client has the board
    writer.close()
    await writer.wait_closed()
    await until(lambda: br._client is None, what="the bridge to drop its client")
    await second.connect()
    assert await second.eval("3") == 3
    await second.close()


async def test_a_wrong_webrepl_password_frees_the_board(three_ports):
    br = three_ports
    bad = Session(br.webrepl_url, password="wrong", reconnect=False)
    with pytest.raises(BoardAccessDenied, match="Access denied"):
        await bad.connect()
    assert br._client is None
    _, writer = await served_on(br.rfc2217_port, b"print(6 * 7)\r", b"42\r\n")
    writer.close()


async def test_stop_closes_webrepl_connections_that_never_logged_in(three_ports):
    br = three_ports
    idle = await asyncio.open_connection("127.0.0.1", br.webrepl_port)  # no handshake at all
    first = Session(br.webrepl_url, password=PW, reconnect=False)
    await first.connect()
    refused = Session(br.webrepl_url, password=PW, reconnect=False)
    with pytest.raises(BoardDisconnected):
        await refused.connect()
    await asyncio.wait_for(br.stop(), 10)
    assert await asyncio.wait_for(idle[0].read(), 10) == b""  # closed by the bridge
    assert not br._connections
    await first.close()


def test_webrepl_options_are_checked(tmp_path):
    board = VirtualBoard("t", root=tmp_path)
    for password, why in ((None, "needs a password"), ("x" * 10, "1 to 9 bytes")):
        with pytest.raises(BridgeError, match=why):
            Bridge(board, webrepl_port=ANY_PORT, webrepl_password=password)
    with pytest.raises(BridgeError, match="virtual board only"):
        Bridge(SerialDevice("/dev/null"), webrepl_port=ANY_PORT, webrepl_password=PW)

