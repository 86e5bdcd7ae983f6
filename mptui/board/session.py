"""A session with one board: one link, one operation at a time, reconnecting by itself.

Operations (exec, eval, file transfers) run one after another under a lock, so a Session can
be shared between asyncio tasks. Between operations the board's output goes to the console
sink (the REPL terminal) and console input goes straight to the board. Resets and their hooks
are in session_reset.py, Ctrl-C in session_interrupt.py (mixins of Session); the states and
events, in session_state.py, are imported from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from mptui.board import program
from mptui.board.adapt import Caps, LinkState
from mptui.board.errors import (
    BoardAccessDenied,
    BoardDisconnected,
    BoardError,
    BoardExecError,
    ProgramExit,
    exec_error,
)
from mptui.board.literal import NotALiteral, parse
from mptui.board.loader import HelperLoader
from mptui.board.repl import FRIENDLY_BANNER_END, Repl
from mptui.board.session_interrupt import SessionInterrupts
from mptui.board.session_reset import SessionResets
from mptui.board.session_state import (
    BUSY,
    CONNECTING,
    DISCONNECTED,
    ERROR,
    IDLE,
    RECONNECTING,
    RUNNING,
    SessionEvent,
)
from mptui.board.typed import Echo, write_paced
from mptui.transports import (
    AccessDenied,
    Transport,
    TransportError,
    make_transport,
    parse_address,
)
from mptui.transports.address import Address

if TYPE_CHECKING:
    from mptui.board.fs import BoardFS

# the states and SessionEvent are imported from here
__all__ = ["BUSY", "CONNECTING", "DISCONNECTED", "ERROR", "IDLE", "LEAVE_RAW_WAIT", "RECONNECTING",
           "RUNNING", "Session", "SessionEvent"]

logger = logging.getLogger(__name__)
# The longest the friendly prompt is waited for after leaving the raw REPL (a board answers in
# milliseconds; what it sent by then is shown).
LEAVE_RAW_WAIT = 2.0
UNSEEN_MAX = 1 << 16  # bytes of output kept for a console set later


class Session(SessionResets, SessionInterrupts):
    def __init__(
        self,
        address: str | Address,
        *,
        transport: Transport | None = None,
        reconnect: bool = True,
        reconnect_timeout: float = 15.0,
        **transport_options: Any,
    ) -> None:
        super().__init__()
        self.address = parse_address(address) if isinstance(address, str) else address
        self.transport = transport or make_transport(self.address, **transport_options)
        self.repl = Repl(self.transport)
        self.repl.on_closed = self._on_link_closed
        self.repl.on_idle_output = self._watch_idle_output
        self.reconnect_enabled = reconnect
        self.reconnect_timeout = reconnect_timeout
        self.state = DISCONNECTED
        self.error = ""
        self.loader = HelperLoader()  # the file helper in the board's RAM (see loader.py)
        self._link: LinkState | None = None
        self._lock = asyncio.Lock()
        self._listeners: list[Callable[[SessionEvent], None]] = []
        self._connected = asyncio.Event()
        self._reconnect_task: asyncio.Task[None] | None = None
        self._closing = False
        self._console_tail = b""
        self._console_sink: Callable[[bytes], None] | None = None
        self._unseen = bytearray()  # output since the last operation while no console was set
        self.echo = Echo()  # console output so far: typed input is paced by it (typed.py)
        self._intercept: Callable[[bytes], bytes] | None = None
        self.repl.console_sink = self._to_console

    @functools.cached_property
    def fs(self) -> BoardFS:
        """The board's filesystem, made when first used (code alone, `exec`, loads none of it)."""
        from mptui.board.fs import BoardFS

        return BoardFS(self)

    # -- events -----------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[SessionEvent], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _publish(self, event: SessionEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # (a broken listener must not break the session)
                logger.exception("a session listener failed")

    def _set_state(self, state: str, detail: str = "") -> None:
        if state == self.state and not detail:
            return
        self.state = state
        if state == ERROR:
            self.error = detail
        self._publish(SessionEvent("state", state, detail))

    # -- connection -------------------------------------------------------------------------

    async def connect(self) -> Session:
        """Open the link. The board is left as it is: no reset, no interrupt. Raises
        BoardDisconnected, or BoardAccessDenied when the board wants a password it did not
        get (the transport's own error is the `__cause__`)."""
        self._closing = False
        self._set_state(CONNECTING)
        try:
            await self.transport.open()
        except (TransportError, OSError, RuntimeError) as e:
            logger.info("%s: cannot connect: %s", self.address, e)
            self._set_state(ERROR, str(e))
            error = BoardAccessDenied if isinstance(e, AccessDenied) else BoardDisconnected
            raise error(str(e)) from e
        self._link_up()
        logger.debug("%s: connected", self.address)
        return self

    def _link_up(self) -> None:
        self.repl = self.repl if self.repl.closed is None else self._new_repl()
        self.repl.in_raw = False
        self.helper = None
        self._link = None  # (a reconnect may come through another way)
        self.repl.start()
        self._connected.set()
        self._set_state(IDLE)

    def _new_repl(self) -> Repl:
        old = self.repl
        repl = Repl(self.transport)
        repl.on_closed = self._on_link_closed
        repl.on_idle_output = self._watch_idle_output
        repl.console_sink = self._to_console
        repl.intercept = self._intercept
        repl.raw_paste, repl.window = old.raw_paste, old.window
        repl.open_stream = old.open_stream  # (a link lost during a write stream)
        return repl

    async def close(self, leave_raw: bool = True) -> None:
        self._closing = True
        for task in (self._reconnect_task, self._rehook_task):
            if task:
                task.cancel()
        if leave_raw and self.repl.closed is None and self.transport.is_open:
            with contextlib.suppress(BoardError, TransportError):
                if self.repl.in_raw:
                    await self.repl.exit_raw()
        await self.repl.stop()
        with contextlib.suppress(Exception):
            await self.transport.close()
        self._connected.clear()
        self._set_state(DISCONNECTED)

    async def __aenter__(self) -> Session:  # noqa: PYI034
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def _on_link_closed(self, why: str) -> None:
        self._connected.clear()
        self.helper = None
        if self._closing:
            return
        logger.info("%s: link lost: %s", self.address, why)
        if self.reconnect_enabled or self._expect_reset:
            self._set_state(RECONNECTING, why)
            self._reconnect_task = asyncio.create_task(self._reconnect(why))
        else:
            self._set_state(ERROR, why)

    async def _reconnect(self, why: str) -> None:
        delay = 0.05
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.reconnect_timeout
        if self.transport.is_open:
            with contextlib.suppress(Exception):
                await self.transport.close()
        while not self._closing:
            try:
                await self.transport.open()
            except (TransportError, OSError, RuntimeError) as e:
                why = str(e)
                if isinstance(e, AccessDenied):  # the password changed: retrying cannot help
                    self._set_state(ERROR, why)
                    return
                if loop.time() > deadline:
                    self._set_state(ERROR, f"lost the board: {why}")
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            self._link_up()
            logger.info("%s: reconnected", self.address)
            self._publish(SessionEvent("reset", IDLE, "reconnected"))
            return

    async def wait_connected(self, timeout: float | None = None) -> None:
        if self._connected.is_set():
            return
        if self.state == ERROR or (self.state == DISCONNECTED and not self._reconnect_task):
            raise BoardDisconnected(self.error or "not connected")
        try:
            await asyncio.wait_for(self._connected.wait(), timeout or self.reconnect_timeout)
        except asyncio.TimeoutError:
            raise BoardDisconnected(f"{self.address}: the board did not come back") from None

    def set_intercept(self, intercept: Callable[[bytes], bytes] | None) -> None:
        """What sees the board's output before anything else and passes on what is not its
        own (a mount's requests), on this link and the next."""
        self._intercept = intercept
        self.repl.intercept = intercept

    # -- console (the friendly REPL) --------------------------------------------------------

    def set_console(self, sink: Callable[[bytes], None] | None) -> None:
        """Where the board's output goes between operations (the terminal). What it said since
        the last operation while no console was set goes there first (a board started for
        this session greets as the session connects)."""
        self._console_sink = sink
        if sink is not None and self._unseen:
            held, self._unseen = bytes(self._unseen), bytearray()
            sink(held)

    def _to_console(self, data: bytes) -> None:
        if not data:
            return
        self._console_tail = (self._console_tail + data)[-8:]
        self.echo.saw(data)
        if self._console_sink:
            self._console_sink(data)
        else:
            self._unseen += data
            del self._unseen[:-UNSEEN_MAX]

    async def console_write(self, data: bytes, stop: Callable[[], bool] | None = None) -> None:
        """Keystrokes for the board's REPL; leaves the raw REPL quietly first if needed.
        While an operation owns the board they wait for it to end (typed ahead, in order).
        A burst (a paste) goes paced by the board's echo, never overrunning its stdin ring
        (typed.py); `stop()` true drops the rest of it (a Ctrl-C typed meanwhile)."""
        await self.wait_connected()
        async with self._lock:
            try:
                if self.repl.in_raw:
                    await self._back_to_friendly()
                await write_paced(self.repl.write, data, self.echo, stop)
            except BoardDisconnected:
                pass

    async def to_friendly(self, prompt: bool = True) -> None:
        """Back to the friendly REPL after operations: after a program run as one (`run`),
        its prompt on the console as after a line typed there; with `prompt` False, as if
        they had never left it (no second prompt)."""
        async with self._lock:
            if self.repl.in_raw and self.connected:
                with contextlib.suppress(BoardDisconnected):
                    await self._back_to_friendly(prompt=prompt)

    async def _back_to_friendly(self, prompt: bool = False) -> None:
        """Leave the raw REPL and wait for the friendly prompt before anything is typed (keys
        sent sooner reach the raw REPL or are lost). The board's banner is not shown, nor its
        prompt when one is on the console already (unless `prompt`). Whatever the board sends
        instead of the banner is shown as it is, after LEAVE_RAW_WAIT at the most: never held
        back."""
        repl = self.repl
        async with repl.capture():
            repl.discard()
            await repl.exit_raw()
            seen, _ = await repl.read_within(b">>> ", LEAVE_RAW_WAIT)
            i = seen.find(FRIENDLY_BANNER_END)
            if i >= 0:
                seen = seen[i + len(FRIENDLY_BANNER_END):]
                if seen == b">>> " and not prompt and self._console_tail.endswith(b">>> "):
                    seen = b""
            elif seen.startswith(b">"):  # the raw REPL's prompt, still due from the last op
                seen = seen[1:]
            self._to_console(seen)

    # -- operations -------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def operation(self, state: str = BUSY) -> AsyncIterator[Repl]:
        """Exclusive use of the board at the raw REPL."""
        async with self._lock:
            await self.wait_connected()
            self._set_state(state)
            self._unseen.clear()  # (an operation has had the board's attention since)
            try:
                async with self.repl.capture():
                    yield self.repl
            except BoardDisconnected as e:
                raise BoardDisconnected(f"{self.address}: {e}") from None
            finally:
                if self.state in (BUSY, RUNNING):
                    self._set_state(IDLE)

    async def exec(
        self,
        code: str,
        on_output: Callable[[bytes], None] | None = None,
        timeout: float | None = 10.0,
    ) -> bytes:
        """Run code; return stdout (streamed to on_output as it comes)."""
        async with self.operation(RUNNING if on_output else BUSY) as repl:
            await self._send_run(repl, code, on_output)
            return await repl.follow(on_output, timeout)

    async def eval(self, expr: str) -> Any:
        """Evaluate an expression on the board; a Python value when it has a literal repr,
        else the repr text."""
        text = (await self.exec(f"print(repr({expr}))")).decode("utf-8", "replace").strip()
        try:
            return parse(text)
        except NotALiteral:
            return text

    async def run(self, source: str, on_output: Callable[[bytes], None] | None = None) -> None:
        """Run a program until it ends (no timeout), its output to `on_output`. ProgramExit
        when it called sys.exit() with a status other than 0; BoardExecError (the board's
        traceback, as the program would give it unwrapped) for any other exception."""
        try:
            await self.exec(program.wrap(source), on_output, timeout=None)
        except BoardExecError as e:
            status = program.exit_code(e.traceback)
            if status is None:
                raise exec_error(program.unwrap(e.traceback), e.output) from None
            if status or program.exit_message(e.traceback):
                raise ProgramExit(status, program.exit_message(e.traceback)) from None

    async def start(self, source: str) -> None:
        """Send a program and leave it running, its output not read (mpremote's --no-follow):
        the next operation interrupts it (Ctrl-C), as after a timeout."""
        async with self.operation() as repl:
            await repl.send_code(source)
            repl.in_raw = False  # the board runs the program, not its raw REPL

    # -- the helper and the link -----------------------------------------------------------

    @property
    def helper(self) -> bool | None:
        """None: not tried since the last reset; False: the board cannot take it (the
        filesystem then uses plain raw-REPL code); True: loaded."""
        return self.loader.usable

    @helper.setter
    def helper(self, value: bool | None) -> None:
        if value is None:
            self.loader.forget()
        else:
            self.loader.usable = value

    @property
    def caps(self) -> Caps | None:
        """What the board said about itself (free heap, modules), once probed."""
        return self.loader.caps

    @property
    def link(self) -> LinkState:
        """What mptui has learned about this link (board/adapt.py)."""
        if self._link is None:
            self._link = LinkState(self.transport.profile)
        return self._link

    async def ensure_helper(self, repl: Repl, part: str = "base") -> bool:
        """Load the file helper's `part` into the board's RAM (once per boot). False when it
        cannot load (low memory, odd firmware): callers then use plain raw-REPL code."""
        return await self.loader.ensure(repl, part)

    async def call_helper(self, repl: Repl, call: str, **kw: Any) -> bytes:
        """Run `_mptui.<call>`; reload the helper once if the board lost it (a reset)."""
        return await self.loader.call(repl, call, **kw)
