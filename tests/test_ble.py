"""BLE NUS end to end: bleak's real API on Bumble's virtual radio, a NUS ble_board in front of
the real MicroPython runtime (see ble_bumble.py)."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest

pytest.importorskip("bumble", reason="the virtual radio needs bumble (Python 3.11+)")

from ble_bumble import NusPeripheral
from helpers import BLE_NAME

from mptui.board import BoardDisconnected, Session
from mptui.board.session import IDLE
from mptui.services.discovery import ble_boards
from mptui.transports import TransportError, make_transport
from mptui.virtual.board import VirtualBoard

TIMEOUT = 30.0


@pytest.fixture(params=[None, 247], ids=["mtu23", "mtu247"])
async def session(request, radio, ble_board):
    scanner, client = radio.bleak_backends(mtu=request.param)
    s = Session(f"ble:{BLE_NAME}", scanner_backend=scanner, client_backend=client, scan_timeout=5)
    await s.connect()
    yield s
    await s.close()


async def test_scan_finds_the_board_with_rssi(radio, ble_board):
    scanner, _ = radio.bleak_backends()
    boards = await ble_boards(0.3, scanner_backend=scanner)
    assert [(b.name, b.address, b.nus) for b in boards] == [(BLE_NAME, ble_board.address, True)]
    assert isinstance(boards[0].rssi, int) and boards[0].rssi < 0
    assert boards[0].device_address == f"ble:{BLE_NAME}"
    assert BLE_NAME in boards[0].describe() and "dBm" in boards[0].describe()


async def test_mtu_sets_the_write_chunk(session):
    mtu = session.transport.mtu
    assert mtu in (23, 247)
    assert session.transport.profile.write_chunk == mtu - 3
    assert not session.transport._with_response  # RX allows write without response


async def test_repl_exec_and_notifications(session, ble_board):
    out = bytearray()
    ready = asyncio.Event()

    def sink(data):
        out.extend(data)
        ready.set()

    session.set_console(sink)
    await session.console_write(b"\r")
    await session.console_write(b"print(6 * 7)\r")

    async def wait_42():
        while b"42\r\n>>> " not in out:
            ready.clear()
            await ready.wait()

    await asyncio.wait_for(wait_42(), TIMEOUT)
    before = ble_board.notifications
    text = "x" * 9000
    assert await session.exec(f"print({text!r})") == (text + "\r\n").encode()
    mtu = session.transport.mtu
    assert ble_board.notifications - before >= 9000 // (mtu - 3)  # reassembled from many
    assert await session.eval("sum(range(10))") == 45


async def test_file_write_read_is_byte_identical(session, ble_board):
    data = os.urandom(30 * 1024)
    await session.fs.write("/data.bin", data)
    assert (ble_board.board.root / "data.bin").read_bytes() == data
    assert await session.fs.sha256("/data.bin") == hashlib.sha256(data).hexdigest()
    assert await session.fs.read("/data.bin") == data


async def test_write_with_response_when_rx_has_no_other(radio, tmp_path):
    per = NusPeripheral(
        VirtualBoard("ble2", root=tmp_path / "b2"), radio, "mpy-wr", write_without_response=False
    )
    await per.start()
    scanner, client = radio.bleak_backends(mtu=247)
    s = Session("ble:mpy-wr", scanner_backend=scanner, client_backend=client, reconnect=False)
    await s.connect()
    assert s.transport._with_response
    data = os.urandom(8000)
    await s.fs.write("/w.bin", data)
    assert await s.fs.read("/w.bin") == data
    await s.close()
    await per.stop()


async def test_connect_by_address(radio, ble_board):
    scanner, client = radio.bleak_backends()
    s = Session(f"ble:{ble_board.address}", scanner_backend=scanner, client_backend=client)
    await s.connect()
    assert s.transport.identity == ble_board.address
    assert await s.eval("1 + 1") == 2
    await s.close()


async def test_unknown_board_gives_a_clear_error(radio, ble_board):
    scanner, client = radio.bleak_backends()
    transport = make_transport(
        "ble:no-such-board", scanner_backend=scanner, client_backend=client, scan_timeout=0.3
    )
    with pytest.raises(TransportError, match="ble:no-such-board: not found"):
        await transport.open()


async def test_disconnect_mid_transfer(radio, ble_board):
    scanner, client = radio.bleak_backends(mtu=247)
    s = Session(f"ble:{BLE_NAME}", scanner_backend=scanner, client_backend=client)
    await s.connect()
    old = b"the old file\n"
    await s.fs.write("/f.bin", old)
    dropped = []

    def progress(done, total):
        if done > 20_000 and not dropped:
            dropped.append(asyncio.ensure_future(ble_board.drop()))

    with pytest.raises(BoardDisconnected, match="Bluetooth connection was lost"):
        await s.fs.write("/f.bin", os.urandom(100_000), progress=progress)
    assert dropped
    root = ble_board.board.root
    assert (root / "f.bin").read_bytes() == old  # never half a new file
    await s.wait_connected(TIMEOUT)  # the session reconnects by itself
    assert s.state == IDLE
    assert await s.fs.read("/f.bin") == old
    assert sorted(p.name for p in root.iterdir()) == ["f.bin"]  # the temporary file is gone
    await s.close()
