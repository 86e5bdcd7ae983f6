"""The DeviceManager from a plain script's point of view: no UI, a real virtual board."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket

import pytest

from mptui.board import BoardError
from mptui.board.session import DISCONNECTED, ERROR, IDLE, RECONNECTING, RUNNING
from mptui.services.events import (
    BoardAdded,
    BoardRemoved,
    BoardReset,
    BoardStateChanged,
    BoardUpdated,
)
from mptui.services.sources import Found, StaticSource
from mptui.transports import AddressError

from .conftest import wait_until


class Recorder:
    def __init__(self, manager) -> None:
        self.events = []
        manager.subscribe(self.events.append)

    def states(self, key: str) -> list[str]:
        return [
            e.board.state
            for e in self.events
            if isinstance(e, BoardStateChanged) and e.board.key == key
        ]

    def of(self, kind, key: str | None = None) -> list:
        return [e for e in self.events if isinstance(e, kind) and key in (None, e.board.key)]


async def test_the_virtual_board_is_always_offered(make_manager):
    async with make_manager() as manager:
        board = manager.find("virtual")
        assert board is not None
        assert (board.kind, board.state, board.present) == ("virtual", DISCONNECTED, True)


async def test_config_boards_are_listed_by_name(make_manager, config_file):
    config_file.write_text('[boards.kitchen]\naddress = "socket://127.0.0.1:9"\n')
    async with make_manager() as manager:
        board = manager.find("kitchen")
        assert board.key == "socket://127.0.0.1:9"
        assert (board.name, board.kind) == ("kitchen", "config")


async def test_usb_hot_plug_appears_goes_and_comes_back(make_manager, usb_ports):
    async with make_manager() as manager:
        seen = Recorder(manager)
        usb_ports.plug("/dev/ttyACM7", serial="abc123", description="Raspberry Pi Pico")
        await wait_until(lambda: manager.find("/dev/ttyACM7"), what="the plugged board")
        board = manager.find("/dev/ttyACM7")
        assert (board.name, board.vid_pid, board.serial_number) == ("ttyACM7", "2e8a:0005", "abc123")
        assert board.description == "Raspberry Pi Pico"
        assert seen.of(BoardAdded, board.key)

        usb_ports.unplug("/dev/ttyACM7")
        await wait_until(lambda: not manager.board(board.key).present, what="marked gone")
        assert manager.board(board.key).label == "gone"

        usb_ports.plug("/dev/ttyACM7", serial="abc123")
        await wait_until(lambda: manager.board(board.key).present, what="back")
        presence = [e.board.present for e in seen.of(BoardUpdated, board.key)]
        assert presence == [False, True]


async def test_boards_added_by_hand_and_removed(make_manager):
    async with make_manager() as manager:
        seen = Recorder(manager)
        board = manager.add("socket://localhost:2217", name="bench bridge")
        assert (board.key, board.name, board.kind) == ("socket://localhost:2217", "bench bridge", "manual")
        assert manager.find("bench bridge") == board
        assert await manager.remove(board.key)
        assert manager.find("socket://localhost:2217") is None
        assert seen.of(BoardRemoved, board.key)
        # a board a source lists stays
        assert not await manager.remove("virtual")
        with pytest.raises(AddressError):
            manager.add("bogus://x")


async def test_sources_plug_in(make_manager):
    announced = StaticSource("network", [Found("socket://10.0.0.5:23", name="lab-esp32",
                                               kind="network")])
    async with make_manager(sources=[announced]) as manager:
        assert manager.find("lab-esp32").kind == "network"
        announced.set([])
        assert not manager.find("lab-esp32").present
        later = StaticSource("ble", [Found("ble:pico-w", name="pico-w", kind="ble")])
        manager.add_source(later)
        await wait_until(lambda: manager.find("pico-w"), what="the late source's board")


async def test_connect_states_and_disconnect(make_manager):
    async with make_manager() as manager:
        seen = Recorder(manager)
        out = bytearray()
        session = await manager.connect("virtual", console=out.extend)
        assert manager.board("virtual").state == IDLE
        await wait_until(lambda: out.endswith(b">>> "), what="the prompt")
        assert await session.eval("6*7") == 42
        await manager.disconnect("virtual")
        assert manager.board("virtual").state == DISCONNECTED
        assert seen.states("virtual") == ["connecting", "idle", "busy", "idle", "disconnected"]


async def test_typed_program_is_running_until_the_prompt_returns(make_manager):
    async with make_manager() as manager:
        out = bytearray()
        await manager.connect("virtual", console=out.extend)
        await wait_until(lambda: out.endswith(b">>> "))
        manager.console.input("virtual", b"6*7\r")
        await wait_until(lambda: b"42\r\n>>> " in out)
        assert manager.board("virtual").state == IDLE
        manager.console.input("virtual", b"while True: pass\r\r")
        await manager.wait_state("virtual", RUNNING)
        manager.console.input("virtual", b"\x03")
        await manager.wait_state("virtual", IDLE)
        assert b"KeyboardInterrupt" in out


async def test_a_programs_prompt_is_shown_before_the_board_is_reported_idle(make_manager):
    """The terminal gets the prompt first; the state's change (a redraw of the whole screen)
    comes a moment later."""
    async with make_manager() as manager:
        states_at_prompt: list[str] = []

        def sink(data: bytes) -> None:
            if data.endswith(b">>> "):
                states_at_prompt.append(manager.board("virtual").state)

        await manager.connect("virtual", console=sink)
        await wait_until(lambda: states_at_prompt)
        manager.console.input("virtual", b"while True: pass\r\r")
        await manager.wait_state("virtual", RUNNING)
        manager.console.input("virtual", b"\x03")
        await manager.wait_state("virtual", IDLE)
        assert states_at_prompt[-1] == RUNNING


async def test_a_program_typed_after_an_operation_is_running(make_manager, board_root):
    """Leaving the raw REPL to type shows the board's prompt when the terminal has none
    (main.py was stopped by the operation): that prompt is not the typed line's answer."""
    (board_root / "main.py").write_text("print('looping')\nwhile True:\n    pass\n")
    async with make_manager() as manager:
        out = bytearray()
        session = await manager.connect("virtual", console=out.extend)
        await wait_until(lambda: b"looping" in out)
        assert await session.eval("6*7") == 42  # stops main.py; the board is at the raw REPL
        assert not out.endswith(b">>> ")
        manager.console.input("virtual", b"while True: pass\r\r")
        await manager.wait_state("virtual", RUNNING)
        assert out.endswith(b">>> while True: pass\r\n... \r\n")
        manager.console.input("virtual", b"\x03")
        await manager.wait_state("virtual", IDLE)
        assert out.endswith(b"KeyboardInterrupt: \r\n>>> ")


async def test_a_program_a_watch_starts_is_running_until_its_prompt(make_manager, tmp_path):
    """Watch mode types `main.py`'s start through the manager's console, which sees the
    program: the board is running (a session's console_write alone left it idle)."""
    from mptui.services.boardfs import BoardFSAdapter
    from mptui.services.localfs import LocalFS
    from mptui.services.sync import Syncer
    from mptui.services.watch import AFTER_RUN, Watcher

    local = tmp_path / "proj"
    local.mkdir()
    async with make_manager() as manager:
        out = bytearray()
        session = await manager.connect("virtual", console=out.extend)
        await wait_until(lambda: out.endswith(b">>> "))
        syncer = Syncer(LocalFS(), str(local), BoardFSAdapter(session), "/")
        watcher = Watcher(syncer, console=manager.console.board("virtual"), after=AFTER_RUN,
                          initial_sync=False)
        task = asyncio.create_task(watcher.run())
        try:
            await asyncio.wait_for(watcher.ready.wait(), 15)
            (local / "main.py").write_text("while True:\n    pass\n")
            await manager.wait_state("virtual", RUNNING, timeout=30)
            manager.console.input("virtual", b"\x03")
            await manager.wait_state("virtual", IDLE)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        assert b"KeyboardInterrupt" in out


async def test_the_console_is_routed_only_while_connected(make_manager):
    async with make_manager() as manager:
        tapped = bytearray()
        untap = manager.console.tap("virtual", tapped.extend)
        manager.console.input("virtual", b"6*7\r")  # not connected: dropped, no error
        with pytest.raises(BoardError, match="virtual is not connected"):
            await manager.console.run("virtual", "print(1)")
        with pytest.raises(KeyError):
            manager.console.set_sink("virtual", tapped.extend)
        out = bytearray()
        await manager.connect("virtual", console=out.extend)
        await wait_until(lambda: out.endswith(b">>> "))
        manager.console.input("virtual", b"6*7\r")
        await wait_until(lambda: b"42\r\n>>> " in out)
        assert b"42\r\n>>> " in tapped  # the tap made before connecting sees it too
        untap()
        manager.console.set_sink("virtual", None)
        mark = len(out), len(tapped)
        manager.console.input("virtual", b"7*8\r")
        await manager.session("virtual").eval("1")  # a round trip: the echo had time to come
        assert (len(out), len(tapped)) == mark


async def test_soft_reboot_and_hard_reset_are_events(make_manager):
    async with make_manager() as manager:
        seen = Recorder(manager)
        out = bytearray()
        await manager.connect("virtual", console=out.extend)
        await wait_until(lambda: out.endswith(b">>> "))
        manager.console.reboot("virtual")
        await wait_until(lambda: seen.of(BoardReset), what="the soft reboot event")
        await wait_until(lambda: out.endswith(b">>> ") and b"soft reboot" in out)
        await manager.hard_reset("virtual")
        details = [e.detail for e in seen.of(BoardReset)]
        # a hard reset drops a USB board off the bus: a reconnect may come before it
        assert details[0] == "soft reboot" and details[-1] == "hard reset"
        assert set(details[1:-1]) <= {"reconnected"}
        assert manager.board("virtual").state == IDLE


async def test_link_loss_reconnects(make_manager):
    async with make_manager() as manager:
        seen = Recorder(manager)
        session = await manager.connect("virtual")
        await session.transport.board.stop()  # the link drops, as when a cable is pulled
        await wait_until(lambda: seen.of(BoardReset), what="reconnected")
        assert seen.states("virtual")[-2:] == [RECONNECTING, IDLE]
        assert seen.of(BoardReset)[0].detail == "reconnected"
        assert await session.eval("1+1") == 2


async def test_a_board_that_cannot_be_reached_is_in_error(make_manager):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with make_manager() as manager:
        board = manager.add(f"socket://127.0.0.1:{port}")
        with pytest.raises(BoardError):
            await manager.connect(board.key)
        info = manager.board(board.key)
        assert info.state == ERROR and info.error
        assert info.label.startswith("error: ")


async def test_console_run_streams_output_and_the_traceback(make_manager):
    async with make_manager() as manager:
        out = bytearray()
        await manager.connect("virtual", console=out.extend)
        await wait_until(lambda: out.endswith(b">>> "))
        out.clear()
        await manager.console.run("virtual", "print('from a file')\n1/0\n")
        await wait_until(lambda: out.endswith(b">>> "), what="the prompt back")
        text = out.decode()
        assert "from a file\r\n" in text
        assert "ZeroDivisionError" in text
        assert manager.board("virtual").state == IDLE


async def test_stop_closes_every_session(make_manager):
    manager = make_manager()
    await manager.start()
    session = await manager.connect("virtual")
    pid = session.transport.board.pid
    await manager.stop()
    assert manager.board("virtual").state == DISCONNECTED
    with pytest.raises(ProcessLookupError):  # ended and reaped by the time stop() returns
        os.kill(pid, 0)


async def test_a_wanted_board_that_comes_back_is_connected_again(make_manager):
    found = Found("virtual:lab", name="lab", kind="usb")
    lab = StaticSource("lab", [found])
    async with make_manager(sources=[lab]) as manager:
        session = await manager.connect("virtual:lab")
        lab.set([])  # unplugged...
        await session.close()  # ...and its link gave up
        board = manager.board("virtual:lab")
        assert (board.present, board.state) == (False, DISCONNECTED)
        lab.set([found])  # plugged in again
        await manager.wait_state("virtual:lab", IDLE)
        assert manager.session("virtual:lab") is not session
