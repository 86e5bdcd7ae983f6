"""The REPL protocol against the real runtime: exec/eval, errors, raw-paste, interrupts; the core
of it on the fast link, a 115200-baud UART and an ESP8266 too (the `link_profile` fixture)."""

import asyncio
import re

import pytest
from helpers import damage_once, run_cli, spy_writes, until, wait_until
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mptui.board import (
    BoardDisconnected,
    BoardError,
    BoardExecError,
    BoardOSError,
    Session,
)
from mptui.board.repl import Repl, _cut_rest
from mptui.transports.base import Transport, TransportClosed


async def test_exec_streams_output_and_eval_returns_values(session, link_profile):
    chunks = []
    out = await session.exec("for i in range(3): print(i)", on_output=chunks.append)
    assert out == b"0\r\n1\r\n2\r\n" and b"".join(chunks) == out
    assert await session.eval("6*7") == 42
    assert await session.eval("{'a': [1, 2.5, b'x', None]}") == {"a": [1, 2.5, b"x", None]}
    assert (await session.eval("object()")).startswith("<object")


async def test_board_errors_carry_traceback_and_errno(session, link_profile):
    with pytest.raises(BoardExecError) as e:
        await session.exec("def f():\n  1/0\nf()")
    assert e.value.exc_type == "ZeroDivisionError"
    assert "line 2, in f" in e.value.traceback
    with pytest.raises(BoardOSError) as e:
        await session.exec("open('/missing')")
    assert e.value.errno == 2 and e.value.errname == "ENOENT"
    with pytest.raises(BoardExecError) as e:
        await session.exec("print('unclosed'")
    assert e.value.exc_type == "SyntaxError"
    assert await session.eval("1+1") == 2  # the session is still in step


async def test_long_code_goes_through_raw_paste_flow_control(session, link_profile):
    # (on a UART: 5 KB, 40 windows, a busy spell on an ESP8266, statements few enough for its
    # heap to compile)
    n, pad = (3000, "") if not link_profile.slow else (70, "  # " + "." * 64)
    code = "x = 0\n" + f"x += 1{pad}\n" * n + "print(x)"
    assert await session.exec(code) == b"%d\r\n" % n
    assert session.repl.raw_paste is True and session.repl.window == 128


async def test_plain_raw_repl_fallback(session, link_profile):
    session.repl.raw_paste = False  # as with firmware older than raw-paste
    assert await session.exec("print(sum(range(100)))") == b"4950\r\n"


@pytest.mark.parametrize(
    "main",
    [
        "print('looping')\nwhile True:\n    pass\n",
        "i = 0\nwhile True:\n    print('looping', i)\n    i += 1\n",
    ],
    ids=["silent-loop", "printing-loop"],
)
async def test_enter_raw_while_main_runs_forever(board_root, main, link_profile):
    (board_root / "main.py").write_text(main)
    async with Session(link_profile.address("loop"), root=board_root) as s:
        seen = bytearray()
        s.set_console(seen.extend)
        await until(lambda: b"looping" in seen, what="main.py running")
        assert await s.eval("1+2") == 3


async def test_ctrl_c_interrupts_running_code(session, link_profile):
    seen = bytearray()
    task = asyncio.create_task(session.run("print('started')\nwhile True:\n    pass", seen.extend))
    await until(lambda: b"started" in seen, what="the program running")
    await session.interrupt()
    with pytest.raises(BoardExecError) as e:
        await asyncio.wait_for(task, 10)
    assert e.value.exc_type == "KeyboardInterrupt"
    assert "<stdin>" in e.value.traceback  # stopped inside the loop


async def test_a_run_cut_short_keeps_what_the_program_printed_before_it_stopped(
        session, board_root):
    """A run cancelled here (Ctrl-C in a command) while the program's output is on its way
    and not read yet: stopping the program gives that output to where the run's went."""
    seen = bytearray()
    program = ("import os\nprint('first')\nwhile 'go' not in os.listdir('/'):\n    pass\n"
               "print('second')\nopen('/printed', 'w').close()\nwhile True:\n    pass")
    task = asyncio.create_task(session.run(program, seen.extend))
    await until(lambda: b"first" in seen, what="the program's output read as it comes")
    (board_root / "go").touch()
    # blocking: the loop must not read 'second' before the cut (that is the case tested)
    wait_until(lambda: (board_root / "printed").exists(), what="'second' printed")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await session.stop_program()  # KeyboardInterrupt
    assert bytes(seen) == b"first\r\nsecond\r\n"
    assert await session.eval("1+1") == 2


@pytest.mark.parametrize(("seen", "in_send", "rest"), [
    (b"second\r\n\x04Traceback\r\nKeyboardInterrupt: \r\n\x04>raw REPL", False,
     b"second\r\n"),  # cut as the output was read
    (b"\x01\x04started\r\n\x04Traceback\x04>", True, b"started\r\n"),  # raw-paste: credits, Ctrl-D
    (b"R\x01\x80\x00\x04hi\x04Traceback\x04>", True, b"hi"),  # all the code in the first window
    (b"OKhi\r\n\x04Traceback\x04>", True, b"hi\r\n"),  # the plain raw REPL
    (b"\x01\x01raw REPL; CTRL-B to exit\r\n>", True, b""),  # the code never arrived whole
    (b"x\x04Traceback\x04>", False, b"x"),  # one byte printed
    (b"\x04Traceback\x04>", False, b""),  # nothing printed
])
def test_what_a_cut_program_printed_is_told_from_the_protocol(seen, in_send, rest):
    assert _cut_rest(seen, in_send) == rest


async def test_soft_reset_clears_ram_and_runs_boot(session, board_root):
    (board_root / "boot.py").write_text("print('booting')\n")
    await session.exec("x = 1")
    assert await session.soft_reset() == b"booting\r\n"  # what boot.py printed, alone
    sent = spy_writes(session.transport)
    assert await session.eval("'x' in globals()") is False
    assert b"\x03" not in sent  # left at the raw REPL's prompt: no need to interrupt


async def test_reconnects_after_hard_reset(session):
    events = []
    session.subscribe(events.append)
    await session.exec("x = 1")
    await session.hard_reset()
    assert await session.eval("'x' in globals()") is False
    assert any(e.kind == "reset" and e.detail == "reconnected" for e in events)


async def test_console_passthrough_between_operations(session):
    seen = bytearray()
    session.set_console(seen.extend)
    await session.eval("1")  # leaves the board at the raw REPL
    mark = len(seen)  # (the board's greeting as it started may be there)
    await session.console_write(b"6*7\r")
    await until(lambda: b"42\r\n>>> " in seen, what="the answer and a prompt")
    assert b"MicroPython" not in seen[mark:]  # leaving the raw REPL did not spill the banner


class GarbageTransport(Transport):
    """A 'board' that answers anything with the given bytes, then goes silent or away."""

    def __init__(self, replies: list[bytes], then_close: bool) -> None:
        self.replies = list(replies)
        self.then_close = then_close

    async def open(self):
        pass

    async def read(self):
        if self.replies:
            return self.replies.pop(0)
        if self.then_close:
            raise TransportClosed("gone")
        await asyncio.Event().wait()  # silent for ever (the test's timeouts end it)

    async def write(self, data):
        pass

    async def close(self):
        pass

    @property
    def is_open(self):
        return True


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(min_size=1, max_size=64), max_size=8), st.booleans())
def test_random_bytes_never_crash_or_hang_the_parser(replies, then_close):
    async def go():
        repl = Repl(GarbageTransport(replies, then_close))
        repl.enter_timeouts = (0.05, 0.05)
        repl.start()
        try:
            async with repl.capture():
                with pytest.raises(BoardError):
                    await asyncio.wait_for(_exec_with_short_timeouts(repl), 20)
        finally:
            await repl.stop()

    asyncio.run(go())


async def _exec_with_short_timeouts(repl: Repl):
    await repl.enter_raw()
    await repl.exec("print(1)", timeout=0.2)
    raise BoardError("garbage was taken for a real answer")  # also fine: it must not hang


def test_mptui_exec_enters_raw_while_main_prints_on_a_uart(isolated_env):
    """The command line too, on a 115200-baud UART whose ring main.py's output keeps busy."""
    board = isolated_env / "data" / "boards" / "chatty"
    board.mkdir(parents=True)
    (board / "main.py").write_text("i = 0\nwhile True:\n    print('chatter', i)\n    i += 1\n")
    r = run_cli("-d", "virtual:chatty?link=uart:115200", "exec", "print(6 * 7)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == ["42"]  # the code's output, not main.py's


async def test_an_operation_waiting_when_the_link_goes_ends_at_once(session):
    # no timeout of its own: only the link's loss can end the wait
    started = asyncio.Event()
    running = asyncio.create_task(session.exec(
        "import time\nprint('going')\ntime.sleep(600)", lambda b: started.set(), timeout=None))
    await asyncio.wait_for(started.wait(), 30)
    await session.transport.board.stop()  # unplugged
    with pytest.raises(BoardDisconnected):
        await asyncio.wait_for(running, 10)


async def test_bytes_given_back_are_read_first_in_order(session):
    async with session.operation() as repl:
        repl.unread(b"cd")
        repl.unread(b"ab")  # before what was given back earlier
        assert await repl.read_exact(4, timeout=2) == b"abcd"


async def test_a_damaged_acknowledgement_of_the_code_is_a_clear_error(session):
    # the board's Ctrl-D that says it has all the code arrives as another byte: an error that
    # says so (not the program's output read as the protocol's), and the next operation works
    damaged = damage_once(session.transport, b"\x04", b"\x05")
    with pytest.raises(BoardError, match=re.escape(r"raw-paste: unexpected byte b'\x05'")):
        await session.eval("6*7")
    assert damaged and await session.eval("6*7") == 42
