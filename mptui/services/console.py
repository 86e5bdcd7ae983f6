"""Console routing: where a connected board's friendly-REPL output goes, and what is typed to it.

The DeviceManager attaches each board's Session here when it connects it. Output between
operations goes to one sink (the REPL terminal) and to any number of taps (a log view; taps
outlive reconnects). Keystrokes are queued and written in order, bursts coalesced; while an
operation owns the board only Ctrl-C passes (it interrupts). A line entered at the prompt that
does not give the prompt back within RUNNING_AFTER is a program: the board is reported running
until its prompt comes back. No UI here:

    manager.console.set_sink(key, terminal.receive)
    manager.console.input(key, b"6*7\\r")
    await manager.console.run(key, "print('from a file')")
    watcher = Watcher(syncer, console=manager.console.board(key), after=AFTER_RUN)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from mptui.board import BoardError, Session
from mptui.board.errors import BoardExecError
from mptui.board.session import IDLE, RUNNING
from mptui.errors import MptuiError
from mptui.transports.base import GREET_AFTER

ConsoleSink = Callable[[bytes], None]
StateReport = Callable[[str, str], None]  # (board key, IDLE or RUNNING)

# What the friendly REPL prints when it waits for a line: normal, continuation, paste mode.
PROMPTS = (b">>> ", b"... ", b"=== ")
# A line entered at the REPL that has not given the prompt back after this long is a program.
RUNNING_AFTER = 0.3
# A program's prompt back is reported (the board idle) this long after it came: the terminal
# shows the prompt first, and the screen's redraw for the new state (all of it) comes after.
IDLE_AFTER = 0.05


@dataclass
class _Console:
    """One connected board's console plumbing."""

    session: Session
    sink: ConsoleSink | None = None
    inbox: bytearray = field(default_factory=bytearray)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    writer: asyncio.Task[None] | None = None
    tail: bytes = b""
    armed: bool = False  # a line was entered; no prompt back yet
    running: bool = False  # reported running (a program started at the prompt)
    timer: asyncio.TimerHandle | None = None
    received: int = 0  # console bytes so far
    received_at_arm: int = 0
    held: int = 0  # questions asked at the raw REPL (`ask`): typed keys wait for them
    writing: bool = False  # keys on their way to the board

    @property
    def at_prompt(self) -> bool:
        return self.tail.endswith(PROMPTS)


class ConsoleRouter:
    def __init__(self, report_state: StateReport, name_of: Callable[[str], str] = str,
                 on_prompt: Callable[[str], None] | None = None) -> None:
        """`report_state(key, state)`: a program started at the prompt (RUNNING) or gave the
        prompt back (IDLE). `name_of(key)`: the board's name, for messages. `on_prompt(key)`:
        the board shows its prompt (after anything else): it waits there, idle."""
        self._report_state = report_state
        self._name_of = name_of
        self._on_prompt = on_prompt
        self._consoles: dict[str, _Console] = {}
        self._taps: dict[str, list[ConsoleSink]] = {}  # board key -> console taps

    # -- what the DeviceManager calls -------------------------------------------------------

    def attach(self, key: str, session: Session, sink: ConsoleSink | None = None) -> None:
        """Route the session's console (a board just connected); `sink` gets its output."""
        console = self._consoles[key] = _Console(session, sink)
        session.set_console(lambda data: self._on_output(key, data))
        console.writer = asyncio.create_task(self._write(key, console), name=f"mptui-console-{key}")

    async def detach(self, key: str) -> None:
        """Stop routing the board's console (its link is dropped); its taps stay."""
        console = self._consoles.pop(key, None)
        if console is None:
            return
        console.session.set_console(None)
        if console.timer:
            console.timer.cancel()
        if console.writer:
            console.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await console.writer

    def greet(self, key: str, after: float | None = None) -> None:
        """The board's link just opened: if the board stays quiet (`after` seconds, by default
        GREET_AFTER), an Enter shows its prompt."""
        console = self._consoles.get(key)
        if console is not None:
            loop = asyncio.get_running_loop()
            loop.call_later(GREET_AFTER if after is None else after, self._greet, key, console)

    def _greet(self, key: str, console: _Console) -> None:
        if self._consoles.get(key) is console and not console.received and not console.inbox \
                and console.session.state == IDLE:
            self.input(key, b"\r")

    def state_changed(self, key: str) -> None:
        """The session's own state changed: a line typed before no longer waits for its
        prompt, and a program reported running is not one any more."""
        console = self._consoles.get(key)
        if console:
            console.armed = console.running = False

    def rebooted(self, key: str) -> None:
        """The board soft-rebooted: boot.py and main.py may keep running."""
        console = self._consoles.get(key)
        if console:
            self._arm(key, console)

    # -- where the output goes --------------------------------------------------------------

    def set_sink(self, key: str, sink: ConsoleSink | None) -> None:
        """Where the board's output goes between operations (a terminal). KeyError when the
        board is not connected."""
        self._consoles[key].sink = sink

    def sink(self, key: str) -> ConsoleSink | None:
        console = self._consoles.get(key)
        return console.sink if console else None

    def tap(self, key: str, tap: ConsoleSink) -> Callable[[], None]:
        """Also give the board's console output to `tap` (a log view), beside the sink, from
        now on and across reconnects, until the returned function is called."""
        taps = self._taps.setdefault(key, [])
        taps.append(tap)

        def untap() -> None:
            if tap in taps:
                taps.remove(tap)
            if not taps and self._taps.get(key) is taps:
                del self._taps[key]

        return untap

    def _show(self, key: str, console: _Console | None, data: bytes) -> None:
        if console is not None and console.sink:
            console.sink(data)
        for tap in self._taps.get(key, ()):
            tap(data)

    def _on_output(self, key: str, data: bytes) -> None:
        console = self._consoles.get(key)
        if console is None:
            return
        prompted = console.tail.endswith(b">>> ")
        console.tail = (console.tail + data)[-8:]
        console.received += len(data)
        if not prompted and console.tail.endswith(b">>> ") and self._on_prompt is not None:
            asyncio.get_running_loop().call_soon(self._on_prompt, key)
        if console.at_prompt and not console.tail.endswith(b"... "):
            console.armed = False
            if console.running and console.session.state == IDLE:
                console.running = False
                asyncio.get_running_loop().call_later(IDLE_AFTER, self._report_idle, key, console)
        self._show(key, console, data)

    def _report_idle(self, key: str, console: _Console) -> None:
        """The program's prompt came back a moment ago: the board is idle, unless something
        else took it meanwhile (an operation, a program typed again, a disconnection)."""
        if self._consoles.get(key) is console and not console.running \
                and console.session.state == IDLE:
            self._report_state(key, IDLE)

    # -- what is typed ----------------------------------------------------------------------

    def input(self, key: str, data: bytes) -> None:
        """Keystrokes for the board, sent in order (bursts coalesce into one write). Ctrl-C
        stops a program started by `run` too. Dropped when the board is not connected."""
        console = self._consoles.get(key)
        if console is None or not data:
            return
        console.inbox += data
        console.wake.set()

    def reboot(self, key: str) -> None:
        """Soft-reboot as a user at the REPL does (Ctrl-C if something runs, then Ctrl-D): the
        console shows it and main.py runs."""
        console = self._consoles.get(key)
        at_prompt = console is not None and console.tail.endswith(b">>> ")
        self.input(key, b"\x04" if at_prompt else b"\x03\x04")

    async def run(self, key: str, source: str | bytes) -> None:
        """Run a program (an injected file) with its output on the console, then give the
        prompt back, as mpremote's repl does with Ctrl-K. A traceback goes to the console.
        BoardError when the board is not connected."""
        console = self._consoles.get(key)
        if console is None:
            raise BoardError(f"{self._name_of(key)} is not connected")

        def show(data: bytes) -> None:
            self._show(key, console, data)

        code = source.decode("utf-8", "replace") if isinstance(source, bytes) else source
        try:
            await console.session.run(code, show)
        except BoardExecError as e:
            show(_crlf(e.traceback))
        except MptuiError as e:  # a lost link, or sys.exit(N): "the program exited with ..."
            show(f"[{e}]\r\n".encode())
        await console.session.to_friendly()  # the prompt, as after a line typed there

    def idle(self, key: str) -> bool:
        """The board waits at its prompt: nothing typed or running, no operation."""
        console = self._consoles.get(key)
        return console is not None and console.tail.endswith(b">>> ") and not (
            console.armed or console.inbox or console.held or console.writing
        ) and console.session.state == IDLE

    async def ask(self, key: str, code: str) -> bytes | None:
        """Run short code that answers a question (its output) at the raw REPL while the
        board waits at its prompt; keys typed meanwhile wait, and the board is left at its
        prompt with nothing shown. None when it is not idle or the question fails."""
        console = self._consoles.get(key)
        if console is None or not self.idle(key):
            return None
        console.held += 1
        try:
            out = await console.session.exec(code, timeout=5.0)
            await console.session.to_friendly(prompt=False)
            return out
        except MptuiError:
            return None
        finally:
            console.held -= 1
            console.wake.set()  # what was typed meanwhile goes now

    def board(self, key: str) -> BoardConsole:
        """The board's console as one object (for watch mode)."""
        return BoardConsole(self, key)

    async def _write(self, key: str, console: _Console) -> None:
        while True:
            await console.wake.wait()
            console.wake.clear()
            if console.held:
                continue  # a question at the raw REPL: the keys wait for it (ask)
            data = bytes(console.inbox)
            console.inbox.clear()
            session = console.session
            try:
                if session.state == RUNNING and b"\x03" in data:
                    await session.interrupt()  # an operation owns the board: only ^C passes
                elif session.state == RUNNING:
                    continue
                else:
                    console.writing = True
                    try:  # a Ctrl-C typed during a long paste drops the rest of it
                        await session.console_write(data, stop=lambda: b"\x03" in console.inbox)
                    finally:
                        console.writing = False
                    if b"\r" in data or b"\x04" in data:  # a line entered, once it is sent
                        self._arm(key, console)  # (leaving the raw REPL first shows a prompt)
            except MptuiError:
                pass  # not connected: keystrokes are dropped, as on a serial line

    # -- is a program running? --------------------------------------------------------------

    def _arm(self, key: str, console: _Console) -> None:
        console.armed = True
        console.received_at_arm = console.received
        if console.timer:
            console.timer.cancel()
        loop = asyncio.get_running_loop()
        console.timer = loop.call_later(RUNNING_AFTER, self._check_running, key, console)

    def _check_running(self, key: str, console: _Console) -> None:
        console.timer = None
        if not console.armed or console.session.state != IDLE:
            return
        if console.received == console.received_at_arm or console.tail.endswith(b"... "):
            self._arm(key, console)  # no echo yet (a busy machine), or a block being entered
        elif not console.at_prompt:
            console.running = True
            self._report_state(key, RUNNING)


@dataclass(frozen=True)
class BoardConsole:
    """One board's console: keys typed at its REPL, a program run as Ctrl-K runs a file (its
    output on the console, its code not typed there), Ctrl-C to what runs."""

    router: ConsoleRouter
    key: str

    async def type(self, data: bytes) -> None:
        self.router.input(self.key, data)

    async def run(self, source: str) -> None:
        """Until the program ends (a traceback, a Ctrl-C too); BoardError if not connected."""
        await self.router.run(self.key, source)

    def interrupt(self) -> None:
        self.router.input(self.key, b"\x03")


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()
