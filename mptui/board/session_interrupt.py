"""Ctrl-C, for Session (a mixin): to a run while its code is still on its way (held until it
runs), again while a run that had only just arrived goes on, and the board's REPL taken back
after an operation was cut short on this side."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from mptui.board.session_state import RUNNING
from mptui.errors import MptuiError

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from mptui.board.repl import Repl

# A board takes Ctrl-C only once the code it was sent is compiled and running: one that comes
# while it compiles is data the program never reads. A Ctrl-C within COMPILE_WINDOW s of the
# code's end is sent again every INTERRUPT_AGAIN s while that same run goes on (as a user
# presses it again), at most INTERRUPT_TRIES times in all.
COMPILE_WINDOW = 2.0
INTERRUPT_AGAIN = 0.3
INTERRUPT_TRIES = 4


class SessionInterrupts:
    if TYPE_CHECKING:  # what Session (mptui/board/session.py) gives this mixin
        repl: Repl
        state: str

        def operation(self) -> AbstractAsyncContextManager[Repl]: ...

    def __init__(self) -> None:
        super().__init__()
        self._sending = False  # code on its way to the board (exec)
        self._interrupt_due = False
        self._runs = 0  # code runs started (exec): which run a Ctrl-C was for
        self._sent_at = 0.0  # when the last run's code had arrived (loop time)
        self._interrupter: asyncio.Task[None] | None = None

    async def _send_run(
        self, repl: Repl, code: str, on_output: Callable[[bytes], None] | None
    ) -> None:
        """Send a run's code (exec); a Ctrl-C that came meanwhile goes to it once it runs."""
        self._sending, self._interrupt_due = True, False
        self._runs += 1
        try:
            await repl.send_code(code, on_output)
        finally:
            self._sending = False
            self._sent_at = asyncio.get_running_loop().time()
        if self._interrupt_due:  # a Ctrl-C that came while the code was on its way
            self._interrupt_due = False
            await self.interrupt()

    async def interrupt(self) -> None:
        """Ctrl-C to the running code; while code is still being sent (a Ctrl-C then would
        cut the upload, not the program), as soon as it runs; again while the same run goes on
        if the code had only just arrived (see COMPILE_WINDOW)."""
        if self._sending:
            self._interrupt_due = True
        elif self._interrupter is None or self._interrupter.done():
            self._interrupter = asyncio.create_task(self._send_ctrl_c(self._runs))

    async def _send_ctrl_c(self, run: int) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(MptuiError, OSError):  # the link went: nothing to stop
            for _ in range(INTERRUPT_TRIES):
                await self.repl.write(b"\x03")
                if loop.time() - self._sent_at > COMPILE_WINDOW:
                    return  # it came to running code: taken
                await asyncio.sleep(INTERRUPT_AGAIN)  # (not a synchronisation: a second press)
                if self._runs != run or self.state != RUNNING:
                    return

    async def stop_program(self) -> bool:
        """After an operation was cut short on this side (Ctrl-C in a command): interrupt
        whatever the board still runs and get its REPL back. True when a program was stopped
        (the board raised KeyboardInterrupt). BoardError when the board does not answer."""
        async with self.operation() as repl:
            repl.in_raw = False  # whatever state the cut left it in: start with Ctrl-C
            seen = await repl.enter_raw()
        return b"KeyboardInterrupt" in seen
