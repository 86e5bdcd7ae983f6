"""The engine over every wired link: a serial port (a PTY stands in for the USB adapter),
socket:// and rfc2217:// through the bridge, and reconnecting when the bridge restarts."""

import asyncio
import os
import pty
import subprocess
import sys
import tty

import pytest
import serial
from helpers import free_port, until, wait_port

from mptui.board import BoardDisconnected, Session
from mptui.board.fs import TMP_SUFFIX
from mptui.board.session import RECONNECTING
from mptui.transports import TransportError
from mptui.virtual import VirtualBoard

PAYLOAD = bytes(range(256)) * 400 + os.urandom(150_000)


async def round_trip(session: Session) -> None:
    assert await session.eval("6*7") == 42
    await session.fs.write("/payload.bin", PAYLOAD)
    assert await session.fs.read("/payload.bin") == PAYLOAD
    chunks = []
    await session.exec("for i in range(3): print(i)", on_output=chunks.append)
    assert b"".join(chunks) == b"0\r\n1\r\n2\r\n"


class PtySerialBoard:
    """A virtual board behind a serial port: its output goes to a PTY's master end, and
    `path` (the slave end, /dev/pts/N) is what a serial transport opens."""

    def __init__(self, root) -> None:
        self.board = VirtualBoard("serial", root=root)
        self.master, self._slave = pty.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)

    async def __aenter__(self):
        await self.board.start()
        loop = asyncio.get_running_loop()
        loop.add_reader(self.master, lambda: self.board.write(os.read(self.master, 65536)))
        self._pump = asyncio.create_task(self._out())
        return self

    async def _out(self):
        os.set_blocking(self.master, False)
        loop = asyncio.get_running_loop()
        while data := await self.board.read():
            while data:
                try:
                    data = data[os.write(self.master, data):]
                except BlockingIOError:  # the serial side is not reading yet: wait for room
                    room = loop.create_future()
                    loop.add_writer(self.master, room.set_result, None)
                    try:
                        await room
                    finally:
                        loop.remove_writer(self.master)

    def unplug(self) -> None:
        asyncio.get_running_loop().remove_reader(self.master)
        os.close(self.master)
        os.close(self._slave)
        self.master = self._slave = -1

    async def __aexit__(self, *exc):
        self._pump.cancel()
        if self.master >= 0:
            self.unplug()
        await self.board.stop()


async def test_serial_port(board_root):
    async with PtySerialBoard(board_root) as port, Session(port.path) as s:
        assert s.transport.profile.blocks_in_flight == 1  # no USB VID: a UART's buffer
        await round_trip(s)
        assert (board_root / "payload.bin").read_bytes() == PAYLOAD


async def test_serial_reads_are_batched_only_while_the_console_has_the_link(board_root):
    """A flood at the console arrives whole and in order, its reads batched (`console`); an
    operation's answers are never held back for batching."""
    async with PtySerialBoard(board_root) as port, Session(port.path) as s:
        held = []  # one for each read that waited READ_GAP to take more at once
        read_again = s.transport._read_again
        s.transport._read_again = lambda ser: held.append(1) or read_again(ser)
        out = bytearray()
        s.set_console(out.extend)
        await s.console_write(b"for i in range(20000): print(i)\r\r")
        await until(lambda: out.endswith(b"19999\r\n>>> "), 30, "the flood")
        lines = bytes(out).split(b"\r\n")
        first = lines.index(b"0")
        assert lines[first : first + 20000] == [b"%d" % i for i in range(20000)]
        assert s.transport.console
        assert held  # the flood's reads were batched
        assert await s.eval("'x' * 3000") == "x" * 3000  # (its answer: a read of ~3 KB)
        assert not s.transport.console
        loop, fd = asyncio.get_running_loop(), s.transport._serial.fileno()
        assert loop.remove_reader(fd)  # still reading: the answer's read was not held back
        loop.add_reader(fd, s.transport._on_readable)
        await s.console_write(b"6*7\r")
        await until(lambda: out.endswith(b"42\r\n>>> "), 10, "the answer")
        assert s.transport.console


async def test_serial_port_unplugged_mid_transfer_is_a_clear_error(board_root):
    async with PtySerialBoard(board_root) as port, Session(port.path, reconnect=False) as s:
        await s.eval("1")
        task = asyncio.create_task(s.fs.write("/big.bin", os.urandom(2_000_000)))
        tmp = board_root / ("big.bin" + TMP_SUFFIX)
        await until(lambda: tmp.exists() and tmp.stat().st_size > 0, 20, "bytes on the board")
        port.unplug()
        with pytest.raises(BoardDisconnected):
            await asyncio.wait_for(task, 20)
    assert not (board_root / "big.bin").exists()


async def test_serial_port_in_use_by_another_program(board_root):
    async with PtySerialBoard(board_root) as port, Session(port.path):
        with pytest.raises(BoardDisconnected, match="in use"):
            await Session(port.path).connect()


async def test_a_serial_port_opened_early_is_taken_with_what_the_board_said(board_root):
    """The app opens a serial port in a thread while it starts: the transport takes that
    port (the port is held meanwhile, so opening it anew would be refused), with the bytes
    the board sent since, and the wait before the prompt's Enter counts from then."""
    from mptui.config import load_config
    from mptui.services.manager import DeviceManager
    from mptui.transports import early
    from mptui.transports.base import GREET_AFTER

    async with PtySerialBoard(board_root) as port:
        manager = DeviceManager(load_config(), usb=False, ble=False, network=False)
        manager.open_early(port.path)
        early.pending("serial " + port.path).result(timeout=10)
        with pytest.raises(serial.SerialException, match="ould not exclusively lock"):
            serial.Serial(port.path, exclusive=True)  # another program: held by the early open
        os.write(port.master, b"said before\r\n")
        board = manager.find(port.path) or manager.add(port.path)
        out = bytearray()
        try:
            session = await manager.connect(board.key, console=out.extend)
            assert early.pending("serial " + port.path) is None  # taken
            assert session.transport.greet_after < GREET_AFTER
            await until(lambda: out.startswith(b"said before\r\n"), 10, "the early bytes")
            assert await session.eval("6*7") == 42
        finally:
            await manager.stop()


async def test_a_serial_port_opened_early_with_other_settings_is_opened_anew(board_root):
    from mptui.transports import early, serialport

    async with PtySerialBoard(board_root) as port:
        serialport.open_early(port.path, baudrate=9600)
        opened = early.pending("serial " + port.path)
        async with Session(port.path) as s:  # 115200: the early port closed, then opened anew
            assert s.transport._serial is not opened.result()[0][0]
            assert not opened.result()[0][0].is_open
            assert s.transport.greet_after is None
            assert await s.eval("6*7") == 42


async def test_a_serial_port_that_failed_early_is_opened_anew_and_says_why():
    from mptui.transports import early, serialport

    missing = "/dev/ttyACM9-mptui-test"  # (no such port)
    serialport.open_early(missing)
    with pytest.raises(TransportError, match="ttyACM9"):
        early.pending("serial " + missing).result(timeout=10)
    with pytest.raises(BoardDisconnected, match=f"cannot open {missing}"):
        await Session(missing, reconnect=False).connect()
    assert early.pending("serial " + missing) is None


@pytest.mark.parametrize("kind", ["socket", "rfc2217"])
async def test_through_the_bridge(kind, bridge):
    async with Session(bridge.url(kind)) as s:
        await round_trip(s)
    assert (bridge.root / "payload.bin").read_bytes() == PAYLOAD


async def test_reconnects_when_the_bridge_restarts(tmp_path):
    root = tmp_path / "board"
    root.mkdir()
    ports = [str(free_port()), str(free_port())]

    def start():
        proc = subprocess.Popen(
            [sys.executable, "-m", "mptui", "bridge", "-p", ports[0], "-s", ports[1],
             "--root", str(root)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_port(int(ports[1]))
        return proc

    bridge = start()
    try:
        async with Session(f"socket://127.0.0.1:{ports[1]}", reconnect_timeout=30) as s:
            await s.fs.write("/before.txt", b"1")
            bridge.terminate()
            bridge.wait(10)
            await until(lambda: s.state == RECONNECTING, what="the session to see the link go")
            bridge = start()
            await s.wait_connected(30)
            assert await s.fs.read("/before.txt") == b"1"
            assert await s.eval("1+1") == 2
    finally:
        bridge.terminate()
        bridge.wait(10)
