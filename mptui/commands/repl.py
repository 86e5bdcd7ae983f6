"""A plain terminal REPL on the board (the full-screen one is `mptui` with no command).
Ctrl-] or Ctrl-X leaves; --capture FILE keeps a copy of the board's output. As mpremote's:
--inject-code CODE types CODE at Ctrl-J (`\\n` in it is Enter), --inject-file FILE runs FILE
at Ctrl-K (its output in the REPL), --escape-non-printable shows other bytes as [xx]."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

HELP = "a plain terminal REPL (Ctrl-] or Ctrl-X leaves)"
LEAVE = (b"\x1d", b"\x18")


INJECT_CODE, INJECT_FILE = b"\x0a", b"\x0b"  # Ctrl-J, Ctrl-K


def add_arguments(parser) -> None:
    parser.add_argument("--capture", metavar="FILE", help="also write the board's output to FILE")
    parser.add_argument("--inject-code", metavar="CODE",
                        help="Ctrl-J types CODE at the board's prompt (\\n in it: Enter)")
    parser.add_argument("--inject-file", metavar="FILE",
                        help="Ctrl-K runs the local FILE on the board, its output shown here")
    parser.add_argument("--escape-non-printable", action="store_true",
                        help="show bytes that are not printable as [xx] (hex)")


def escaped(data: bytes) -> bytes:
    """mpremote's --escape-non-printable: all but printable ASCII, BS, TAB, LF, CR, ESC as
    [xx]."""
    out = bytearray()
    for c in data:
        if c in (8, 9, 10, 13, 27) or 32 <= c <= 126:
            out.append(c)
        else:
            out += b"[%02x]" % c
    return bytes(out)


class Injector:
    """What Ctrl-J and Ctrl-K do (nothing special without the options: they go to the board)."""

    def __init__(self, code: str | None, file: str | None, show) -> None:
        self.code = code.replace("\\n", "\r\n").encode() if code is not None else None
        self.file = file
        self.show = show

    async def send(self, session, data: bytes) -> None:
        keys = (INJECT_CODE if self.code is not None else b"") + (
            INJECT_FILE if self.file is not None else b"")
        start = 0
        for i, c in enumerate(data):
            if bytes([c]) in keys:
                if i > start:
                    await session.console_write(data[start:i])
                await self._inject(session, bytes([c]))
                start = i + 1
        if start < len(data):
            await session.console_write(data[start:])

    async def _inject(self, session, key: bytes) -> None:
        if key == INJECT_CODE:
            await session.console_write(self.code)
            return
        from mptui.board.errors import BoardExecError
        from mptui.errors import MptuiError

        if self.file is None:
            return
        self.show(f"Injecting {self.file}\r\n".encode())
        try:
            source = await asyncio.to_thread(_read_text, self.file)
            await session.run(source, self.show)
        except (OSError, UnicodeDecodeError) as e:
            self.show(f"[cannot read {self.file}: {getattr(e, 'strerror', None) or e}]\r\n"
                      .encode())
        except BoardExecError as e:
            self.show(e.traceback.replace("\r\n", "\n").replace("\n", "\r\n").encode())
        except MptuiError as e:  # sys.exit(N), a lost link
            self.show(f"[{e}]\r\n".encode())
        await session.to_friendly()


def run(args) -> int:
    from mptui.commands.common import run_on_board
    from mptui.errors import UsageError
    from mptui.transports.base import GREET_AFTER

    if args.inject_file and not os.access(args.inject_file, os.R_OK):
        raise UsageError(f"repl: cannot read {args.inject_file}")
    capture = open(args.capture, "ab") if args.capture else None  # noqa: SIM115

    async def work(session):
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        out = sys.stdout.buffer

        def sink(data: bytes) -> None:
            greeting.cancel()  # the board spoke: no Enter needed
            show(data)

        def show(data: bytes) -> None:
            if args.escape_non_printable:
                data = escaped(data)
            out.write(data)
            out.flush()
            if capture:
                capture.write(data)
                capture.flush()

        # a board that says nothing when the link opens (running already: USB, a bridge)
        # gets an Enter, so that its prompt shows (as the app does)
        after = session.transport.greet_after
        greeting = loop.call_later(GREET_AFTER if after is None else after, _greet, session)
        if session.transport.greets_on_open:  # started anew: it says hello itself
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
                await _pump_keys(session, keys, done, interactive,
                                 Injector(args.inject_code, args.inject_file, show))
            finally:
                loop.remove_reader(fd)
        if capture:
            capture.close()

    return run_on_board(args, work)


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _greet(session) -> None:
    task = asyncio.ensure_future(session.console_write(b"\r"))
    _greetings.add(task)  # asyncio keeps only a weak reference
    task.add_done_callback(_greetings.discard)


_greetings: set = set()


async def _pump_keys(session, keys: asyncio.Queue, done: asyncio.Event, interactive: bool,
                     injector: Injector):
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
                await injector.send(session, data[:cut])
            return
        await injector.send(session, data)


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
