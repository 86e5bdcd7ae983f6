"""A plain terminal REPL on the board (the full-screen one is `mptui` with no command).
Ctrl-] or Ctrl-X leaves; --capture FILE keeps a copy of the board's output."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

HELP = "a plain terminal REPL (Ctrl-] or Ctrl-X leaves)"
LEAVE = (b"\x1d", b"\x18")


def add_arguments(parser) -> None:
    parser.add_argument("--capture", metavar="FILE", help="also write the board's output to FILE")


def run(args) -> int:
    from mptui.commands.common import run_on_board
    from mptui.services.console import GREET_AFTER

    capture = open(args.capture, "ab") if args.capture else None  # noqa: SIM115

    async def work(session):
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        out = sys.stdout.buffer

        def sink(data: bytes) -> None:
            greeting.cancel()  # the board spoke: no Enter needed
            out.write(data)
            out.flush()
            if capture:
                capture.write(data)
                capture.flush()

        # a board that says nothing when the link opens (running already: USB, a bridge)
        # gets an Enter, so that its prompt shows (as the app does)
        greeting = loop.call_later(GREET_AFTER, _greet, session)
        if session.address.kind == "virtual":  # started anew: it says hello itself
            greeting.cancel()
        session.set_console(sink)
        session.subscribe(lambda ev: ev.kind == "state" and ev.state == "error" and done.set())
        print(f"Connected to {session.address}. Ctrl-] or Ctrl-X leaves.", file=sys.stderr)
        fd = sys.stdin.fileno()
        interactive = os.isatty(fd)
        keys: asyncio.Queue[bytes] = asyncio.Queue()

        def on_key() -> None:
            data = os.read(fd, 4096)
            keys.put_nowait(data)

        loop.add_reader(fd, on_key)
        with _raw_terminal(fd) if interactive else contextlib.nullcontext():
            try:
                await _pump_keys(session, keys, done, interactive)
            finally:
                loop.remove_reader(fd)
        if capture:
            capture.close()

    return run_on_board(args, work)


def _greet(session) -> None:
    task = asyncio.ensure_future(session.console_write(b"\r"))
    _greetings.add(task)  # asyncio keeps only a weak reference
    task.add_done_callback(_greetings.discard)


_greetings: set = set()


async def _pump_keys(session, keys: asyncio.Queue, done: asyncio.Event, interactive: bool):
    while not done.is_set():
        getter = asyncio.ensure_future(keys.get())
        stopper = asyncio.ensure_future(done.wait())
        finished, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for t in (getter, stopper):
            if t not in finished:
                t.cancel()
        if getter not in finished:
            return
        data = getter.result()
        if not data:  # end of piped input: let the board answer, then leave
            if not interactive:
                await asyncio.sleep(0.5)
            return
        cut = min((data.index(k) for k in LEAVE if k in data), default=None)
        if cut is not None:
            if cut:
                await session.console_write(data[:cut])
            return
        await session.console_write(data)


@contextlib.contextmanager
def _raw_terminal(fd: int):
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        sys.stderr.write("\r\n")
