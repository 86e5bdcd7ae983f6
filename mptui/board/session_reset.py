"""Resets, for Session (a mixin): those mptui makes (soft_reset, hard_reset), those it notices in
the board's output between operations (reset button, Ctrl-D, a crash), and the hooks that put
back what mptui keeps on the board after either."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from mptui.board.errors import BoardDisconnected, BoardError
from mptui.board.repl import FRIENDLY_BANNER_END, SOFT_REBOOT, Repl
from mptui.board.session_state import SessionEvent

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from mptui.transports.address import Address

logger = logging.getLogger(__name__)


class SessionResets:
    if TYPE_CHECKING:  # what Session (mptui/board/session.py) gives this mixin
        address: Address
        repl: Repl
        state: str
        helper: bool | None
        _closing: bool

        def _publish(self, event: SessionEvent) -> None: ...
        def operation(self) -> AbstractAsyncContextManager[Repl]: ...
        async def wait_connected(self, timeout: float | None = None) -> None: ...

    def __init__(self) -> None:
        super().__init__()
        self._booted = asyncio.Event()  # the REPL banner was seen (boot.py and main.py done)
        self._reset_hooks: list[Callable[[Repl], Awaitable[None]]] = []
        self._rehook_task: asyncio.Task[None] | None = None
        self._expect_reset = False  # a reset we asked for: reconnect even if reconnect is off
        self._idle_tail = b""

    def _watch_idle_output(self, data: bytes) -> None:
        """Notice resets that happen between operations (reset button, Ctrl-D, a crash)."""
        window = self._idle_tail + data
        self._idle_tail = window[-64:]
        reboot = window.rfind(SOFT_REBOOT)
        if reboot >= 0:
            self._booted.clear()  # boot.py and main.py run again
        if window.find(FRIENDLY_BANNER_END, max(reboot, 0)) >= 0:
            self._booted.set()
        if reboot >= 0 or FRIENDLY_BANNER_END in window:
            self.repl.in_raw = False
            self._idle_tail = b""  # seen once: later output (a raw prompt) must not see it again
            if self.helper:
                self.helper = None
            if reboot >= 0:
                self._publish(SessionEvent("reset", self.state, "soft reboot"))
                if self._reset_hooks and not self._closing:
                    self._rehook_task = asyncio.create_task(self._rehook_after_boot())

    # -- what mptui puts back after a reset ------------------------------------------------

    def add_reset_hook(self, hook: Callable[[Repl], Awaitable[None]]) -> Callable[[], None]:
        """Run `await hook(repl)` (at the raw REPL, the board ours) after every reset that
        clears the board's RAM: soft_reset() and hard_reset() before they return, a reset
        between operations (Ctrl-D at the REPL) once the board has booted. Returns what
        removes it."""
        self._reset_hooks.append(hook)
        return lambda: self._reset_hooks.remove(hook) if hook in self._reset_hooks else None

    async def _run_reset_hooks(self, repl: Repl) -> None:
        for hook in list(self._reset_hooks):
            try:
                await hook(repl)
            except BoardError as e:
                logger.warning("%s: after a reset: %s", self.address, e)

    async def _rehook_after_boot(self) -> None:
        """After a reset between operations: once boot.py and main.py are done (the friendly
        banner), the hooks run."""
        await self._booted.wait()
        async with self.operation() as repl:
            await self._run_reset_hooks(repl)

    # -- the resets mptui makes ---------------------------------------------------------------

    async def soft_reset(self) -> bytes:
        """Soft-reboot; return what boot.py printed. The board is left at the raw REPL."""
        async with self.operation() as repl:
            self.helper = None
            out = await repl.soft_reset()
            await self._run_reset_hooks(repl)
        self._publish(SessionEvent("reset", self.state, "soft reboot"))
        return out

    async def hard_reset(self, wait: float = 10.0, boot_wait: float = 3.0) -> None:
        """machine.reset(); wait for the board to come back (reconnecting if the link drops)
        and, up to boot_wait seconds, for boot.py to finish (the REPL banner), so that the
        next operation's Ctrl-C does not cut boot.py short."""
        self._expect_reset = True
        self._booted.clear()
        try:
            async with self.operation() as repl:
                self.helper = None
                # on a slow link the board may reset (and a USB one drop off the bus) before
                # its "OK" for this code reaches us: that is the reset asked for
                with contextlib.suppress(BoardDisconnected):
                    await repl.send_code("import machine\nmachine.reset()")
                repl.in_raw = False
                try:
                    await repl.read_until(FRIENDLY_BANNER_END, timeout=wait)
                    self._booted.set()
                except BoardError:
                    pass  # USB boards drop off the bus; the reconnect loop brings them back
            await self.wait_connected(wait)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._booted.wait(), boot_wait)
            if self._reset_hooks:
                async with self.operation() as repl:
                    await self._run_reset_hooks(repl)
        finally:
            self._expect_reset = False
        self._publish(SessionEvent("reset", self.state, "hard reset"))
