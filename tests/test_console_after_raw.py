"""Keys typed after an operation leave the raw REPL first: they wait for the friendly prompt,
and nothing the board sends is hidden for good when no banner comes (issue 21, item 10)."""

from __future__ import annotations

import asyncio

from mptui.board.session import LEAVE_RAW_WAIT

TIMEOUT = 20.0


async def until(predicate, what: str) -> None:
    async def poll():
        while not predicate():
            await asyncio.sleep(0.01)  # polling: wait_for's TIMEOUT below ends it

    try:
        await asyncio.wait_for(poll(), TIMEOUT)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def test_a_line_typed_after_an_operation_runs_and_shows(session):
    seen = bytearray()
    session.set_console(seen.extend)
    await until(lambda: seen.endswith(b">>> "), "the prompt")
    await session.eval("1")  # leaves the board at the raw REPL
    mark = len(seen)
    await session.console_write(b"\x03print('after', 6*7)\r")  # Ctrl-C and a line, at once
    await until(lambda: b"after 42\r\n>>> " in seen, "the line's output and the prompt")
    # as at the prompt it was left at: no banner, no second prompt
    assert seen[mark:] == b"\r\n>>> print('after', 6*7)\r\nafter 42\r\n>>> "


async def test_output_instead_of_a_banner_is_shown_not_held_back(session):
    """A board that answers the way out of the raw REPL with no banner (here: a program that
    runs while mptui believes the board sits in the raw REPL, as after a reset it did not
    see) has its output shown within LEAVE_RAW_WAIT, and what is typed then reaches it."""
    seen = bytearray()
    session.set_console(seen.extend)
    await session.console_write(b"import time\r")
    await session.console_write(b"while True: print('tick'); time.sleep(0.05)\r\r")  # (the board's)
    await until(lambda: b"tick" in seen, "the program's output")
    session.repl.in_raw = True  # what mptui believes; the board runs the program
    mark = len(seen)
    started = asyncio.get_running_loop().time()
    await session.console_write(b"\x03")  # waits for a prompt that does not come, then types
    assert asyncio.get_running_loop().time() - started < LEAVE_RAW_WAIT + 5
    await until(lambda: b"KeyboardInterrupt" in seen[mark:], "the Ctrl-C reaching the program")
    await until(lambda: seen.endswith(b">>> "), "the prompt")
    assert b"tick" in seen[mark:]  # what came meanwhile was shown
    await session.console_write(b"6*7\r")
    await until(lambda: seen.endswith(b"42\r\n>>> "), "the board answering at its prompt")


async def test_keys_typed_while_an_operation_owns_the_board_go_once_it_is_done(session):
    """Typed ahead, as a terminal keeps keys: a line typed while a listing (any operation)
    holds the board reaches the REPL after it, whole and in order, never dropped."""
    seen = bytearray()
    session.set_console(seen.extend)
    await until(lambda: seen.endswith(b">>> "), "the prompt")
    states: list[str] = []
    session.subscribe(lambda e: states.append(e.state) if e.kind == "state" else None)
    busy = asyncio.ensure_future(session.exec("import time\ntime.sleep(0.3)\nprint('op')"))
    await until(lambda: "busy" in states, "the operation to own the board")
    await session.console_write(b"print('typed', 6*7)\r")
    assert await busy == b"op\r\n"
    await until(lambda: b"typed 42\r\n>>> " in seen, "the typed line's output")


async def test_a_banner_seen_between_operations_is_not_seen_again(session):
    """After a reset between operations the friendly banner says the board left the raw REPL,
    once: output that follows a later operation (its raw prompt, printed while nothing runs)
    must not find that banner again and make mptui believe the board is at the friendly REPL
    (keys typed then went, unechoed, to the raw REPL: the mount's remount under load)."""
    seen = bytearray()
    session.set_console(seen.extend)
    await until(lambda: seen.endswith(b">>> "), "the prompt")
    mark = len(seen)
    await session.console_write(b"\x04")  # Ctrl-D at the friendly REPL: a soft reboot
    await until(lambda: b'for more information.\r\n>>> ' in seen[mark:], "the banner again")
    assert await session.eval("6*7") == 42  # an operation: the board is left at the raw REPL
    assert session.repl.in_raw
    session._watch_idle_output(b">")  # what a board may still print after it, idle
    assert session.repl.in_raw
    mark = len(seen)
    await session.console_write(b"print('typed', 6*7)\r")
    await until(lambda: b"typed 42\r\n>>> " in seen[mark:], "the typed line's output")


async def test_a_console_set_after_the_board_greeted_still_gets_the_greeting(board_root):
    """A board started for the session greets as it connects; a console set once that is
    done (as `mptui repl` sets its own) is shown the banner and prompt all the same."""
    from mptui.board import Session

    async with Session("virtual:greet", root=board_root) as s:
        await until(lambda: s._console_tail.endswith(b">>> "), "the greeting, with no console")
        seen = bytearray()
        s.set_console(seen.extend)
        assert b"MicroPython" in seen and seen.endswith(b">>> "), seen
        await s.eval("1")  # an operation: what came before it is not kept for a later console
        s.set_console(None)
        later = bytearray()
        s.set_console(later.extend)
        assert later == b""
