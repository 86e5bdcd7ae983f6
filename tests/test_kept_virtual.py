"""The virtual board keeps running between commands (issue 21, item 7), as a USB board does:
`mptui exec "x=5"` then `mptui eval x` prints 5. Real CLI processes, a real background board;
every test stops what it started (conftest asserts that none is left running)."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys

import pytest
from helpers import run_cli, runtime_processes

from mptui.board import BoardError
from mptui.config import load_config
from mptui.services.manager import DeviceManager
from mptui.virtual import keeper

IDLE = "60"  # seconds: longer than any test here, which stops its board itself


@pytest.fixture
def kept(isolated_env, monkeypatch):
    """Commands on `virtual` use the kept board (conftest turns it off for other tests)."""
    monkeypatch.setenv(keeper.IDLE_ENV, IDLE)
    return isolated_env  # each test stops its boards: conftest fails one that leaves any


def ok(*args, **kw) -> str:
    r = run_cli(*args, **kw)
    assert r.returncode == 0, f"mptui {' '.join(args)}: {r.stderr.decode()}"
    return r.stdout.decode()


def status() -> list[str]:
    return ok("virtual", "status").splitlines()


def test_exec_then_eval_finds_the_board_as_the_last_command_left_it(kept):
    from mptui.services.discovery import usb_boards

    if usb_boards():
        pytest.skip("this machine has a USB board: it is the default, not `virtual`")
    assert ok("exec", "x=5") == ""  # no -d: the virtual board, with no hardware here
    assert ok("eval", "x") == "5\r\n"
    assert ok("-d", "virtual", "exec", "x += 1") == ""
    assert ok("-d", "virtual", "eval", "x") == "6\r\n"
    [line] = status()
    pid = keeper.read_state("default")["pid"]
    assert line.startswith(f"virtual  pid {pid}  idle ")
    assert "stops after 1 min 0 s idle" in line
    root = kept / "data" / "boards" / "default"
    assert runtime_processes(root), "the board's MicroPython is not running between commands"

    assert ok("virtual", "stop") == f"stopped virtual (pid {pid})\n"
    assert not keeper.running("default")
    assert runtime_processes(root) == [], "stop left the board's MicroPython running"
    assert status() == ["no virtual board is running (a command on `virtual` starts one)"]
    assert ok("virtual", "stop") == "no virtual board was running\n"
    # the next command starts a board anew: its RAM is fresh, as after a power cycle
    r = run_cli("-d", "virtual", "eval", "x")
    assert r.returncode == 1 and b"NameError" in r.stderr
    ok("virtual", "stop")


def test_only_this_user_reaches_the_board(kept):
    ok("-d", "virtual:mine", "exec", "pass")
    state = keeper.read_state("mine")
    folder = keeper.folder()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    sock = os.stat(state["socket"])
    assert stat.S_ISSOCK(sock.st_mode) and stat.S_IMODE(sock.st_mode) == 0o600
    assert os.path.dirname(state["socket"]) == str(folder)
    assert ok("virtual", "stop", "mine") == f"stopped virtual:mine (pid {state['pid']})\n"


def test_stop_one_of_several_and_status_lists_them(kept):
    ok("-d", "virtual:one", "exec", "a = 1")
    ok("-d", "virtual:two?link=uart:115200", "exec", "b = 2")
    shown = status()
    assert [line.split()[0] for line in shown] == ["virtual:one", "virtual:two?link=uart:115200"]
    assert ok("virtual", "stop", "virtual:two").startswith("stopped virtual:two (pid ")
    assert [line.split()[0] for line in status()] == ["virtual:one"]
    assert ok("-d", "virtual:one", "eval", "a") == "1\r\n"  # the other one ran on
    assert ok("virtual", "stop", "two") == "virtual:two was not running\n"
    r = run_cli("virtual", "stop", "ws://host")
    assert r.returncode == 2 and b"not a virtual board: 'ws://host'" in r.stderr
    ok("virtual", "stop", "one")


def test_the_board_stops_after_its_idle_time(kept, monkeypatch):
    monkeypatch.setenv(keeper.IDLE_ENV, "0.3")
    ok("-d", "virtual:idle", "exec", "pass")
    files = keeper.Files("idle")
    # the board's process holds its `alive` lock for as long as it lives: wait on that
    keeper.take_lock("idle", timeout=30, path=files.alive).release()
    assert not files.state.exists() and not files.socket.exists()
    assert runtime_processes(kept / "data" / "boards" / "idle") == []
    assert status() == ["no virtual board is running (a command on `virtual` starts one)"]


def test_a_board_does_not_stop_under_a_command_that_holds_it(kept, monkeypatch):
    """Idle, the board stops only when no command holds its lock (one about to connect)."""
    monkeypatch.setenv(keeper.IDLE_ENV, "0.2")
    ok("-d", "virtual:held", "exec", "x = 1")
    files = keeper.Files("held")
    lock = keeper.take_lock("held")  # as a command does from before it connects
    try:
        # a negative needs some time: several idle times pass while the lock is held
        with pytest.raises(keeper.KeeperError):
            keeper.take_lock("held", timeout=1.0, path=files.alive)
        assert keeper.running("held")
    finally:
        lock.release()
    keeper.take_lock("held", timeout=30, path=files.alive).release()  # now it stops
    assert not files.state.exists()


def test_a_command_waits_its_turn_then_says_who_holds_the_board(kept, monkeypatch, capsys):
    from mptui.cli import main

    ok("-d", "virtual:busy", "exec", "x = 1")
    monkeypatch.setattr(keeper, "LOCK_WAIT", 0.3)
    lock = keeper.take_lock("busy")  # as the app does while it is connected
    try:
        assert main(["-d", "virtual:busy", "eval", "x"]) == 1
    finally:
        lock.release()
    assert capsys.readouterr().err == (
        "mptui: the virtual board 'busy' is in use by another mptui (waited 0.3 s; "
        "`mptui virtual status` shows it)\n")
    assert main(["-d", "virtual:busy", "eval", "x"]) == 0  # its turn now
    assert capsys.readouterr().out == "1\r\n"
    ok("virtual", "stop", "busy")


def test_two_commands_racing_to_start_it_share_one_board(kept):
    argv = [sys.executable, "-m", "mptui", "-d", "virtual:race"]
    procs = [subprocess.Popen([*argv, "exec", code], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for code in ("a = 1", "b = 2")]
    for p in procs:
        _out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode()
    assert ok("-d", "virtual:race", "eval", "(a, b)") == "(1, 2)\r\n"
    assert len(status()) == 1
    ok("virtual", "stop")


def test_a_stale_state_file_is_recovered_and_said(kept):
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that is gone
    files = keeper.Files("default")
    keeper.write_state("default", {"name": "default", "address": "virtual", "pid": dead.pid,
                                   "socket": str(files.socket)})
    files.socket.write_bytes(b"")  # and a stray socket file
    r = run_cli("-d", "virtual", "exec", "x = 7")
    assert r.returncode == 0
    assert r.stderr.decode() == (f"mptui: the virtual board had stopped unexpectedly (its process "
                                 f"{dead.pid} had ended); started it anew\n")
    assert ok("-d", "virtual", "eval", "x") == "7\r\n"
    assert keeper.read_state("default")["pid"] != dead.pid
    ok("virtual", "stop")


def test_a_crashed_board_is_started_anew_on_demand(kept):
    ok("-d", "virtual", "exec", "x = 1")
    pid = keeper.read_state("default")["pid"]
    os.kill(pid, 9)
    keeper.take_lock("default", timeout=30, path=keeper.Files("default").alive).release()
    r = run_cli("-d", "virtual", "eval", "'x' in globals()")
    assert r.returncode == 0 and r.stdout == b"False\r\n"
    assert b"had stopped unexpectedly" in r.stderr and b"started it anew" in r.stderr
    ok("virtual", "stop")


def test_one_name_with_other_options_is_a_clear_error(kept):
    ok("-d", "virtual:opt", "exec", "pass")
    r = run_cli("-d", "virtual:opt?link=esp8266", "exec", "pass")
    assert r.returncode != 0
    assert r.stderr.decode().splitlines() == [(
        "mptui: the virtual board 'opt' is running as virtual:opt, not virtual:opt?link=esp8266: "
        "one name is one board (one folder); stop it first: `mptui virtual stop opt`")]
    ok("virtual", "stop", "opt")


def test_bytes_through_the_kept_board_are_the_fresh_boards(kept, monkeypatch):
    payload = bytes(b for b in range(256) if b != 4)  # 0x04 ends the raw REPL's output
    code = f"import sys; sys.stdout.buffer.write({payload!r}); print('a\\nb')"
    kept_out = run_cli("-d", "virtual", "exec", code).stdout
    monkeypatch.setenv(keeper.IDLE_ENV, "0")
    fresh_out = run_cli("-d", "virtual", "exec", code).stdout
    assert kept_out == fresh_out == payload + b"a\r\nb\r\n"
    monkeypatch.setenv(keeper.IDLE_ENV, IDLE)
    ok("virtual", "stop")


async def test_the_app_finds_the_board_a_command_left(kept):
    ok("-d", "virtual", "exec", "x = 42")
    manager = DeviceManager(load_config(), usb=False, ble=False, network=False)
    board = manager.find("virtual") or manager.add("virtual")
    session = await manager.connect(board.key)
    try:
        assert await session.eval("x") == 42
    finally:
        await manager.stop()
    ok("virtual", "stop")


async def test_the_app_opens_the_link_early_and_its_connect_takes_it(kept):
    """The app opens a board's link while Textual is imported: the connect that follows takes
    that link (one link: the board's lock is ours once), and the board's prompt comes."""
    from mptui.transports import early

    ok("-d", "virtual", "exec", "x = 42")
    manager = DeviceManager(load_config(), usb=False, ble=False, network=False)
    manager.open_early("virtual")
    opened = early.pending("kept default")
    opened.result(timeout=10)  # the link is open, the lock held
    probe = keeper.Lock(keeper.Files("default").lock)
    assert not probe.try_take()  # held by the early link
    probe.release()
    board = manager.find("virtual") or manager.add("virtual")
    out = bytearray()
    session = await manager.connect(board.key, console=out.extend)
    try:
        assert early.pending("kept default") is None  # taken
        assert session.transport._lock is opened.result()[0][0]
        for _ in range(200):  # the greet's Enter shows the prompt
            if out.endswith(b">>> "):
                break
            await asyncio.sleep(0.01)
        assert out.endswith(b">>> ")
        assert await session.eval("x") == 42
    finally:
        await manager.stop()
    ok("virtual", "stop")


async def test_a_board_held_by_a_command_is_said_once_by_the_connect_after_an_early_open(
        kept, monkeypatch):
    """The early link waited its turn and gave up: the connect says so, with the board's
    lock not left taken (the next connect, once the board is free, gets it)."""
    from mptui.transports import early

    ok("-d", "virtual:busy", "exec", "x = 1")
    monkeypatch.setattr(keeper, "LOCK_WAIT", 0.3)
    lock = keeper.take_lock("busy")
    manager = DeviceManager(load_config(), usb=False, ble=False, network=False)
    try:
        manager.open_early("virtual:busy")
        with pytest.raises(keeper.KeeperError, match="in use by another mptui"):
            early.pending("kept busy").result(timeout=10)
        board = manager.find("virtual:busy") or manager.add("virtual:busy")
        with pytest.raises(BoardError, match="in use by another mptui"):
            await manager.connect(board.key)
        assert early.pending("kept busy") is None
        lock.release()
        session = await manager.connect(board.key)
        assert await session.eval("x") == 1
    finally:
        lock.release()
        await manager.stop()
    ok("virtual", "stop", "busy")


def test_a_bad_idle_time_is_a_usage_error(kept, monkeypatch):
    monkeypatch.setenv(keeper.IDLE_ENV, "soon")
    r = run_cli("-d", "virtual", "eval", "1")
    assert r.returncode == 2
    assert r.stderr.decode() == ("mptui: $MPTUI_VIRTUAL_IDLE must be seconds (0: a fresh "
                                 "virtual board per command), not 'soon'\n")
