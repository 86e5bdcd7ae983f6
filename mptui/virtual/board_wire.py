"""What a link profile's wire (wire.py) asks of the virtual board and does to it: the input
the runtime has not read, bytes a full stdin ring lost, output held back, the runtime stalled.
A mixin of VirtualBoard (board.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from typing import TYPE_CHECKING

from mptui.virtual.process import continue_process

if TYPE_CHECKING:
    import asyncio

    from mptui.virtual.wire import TtyProbe


class WireHooks:
    if TYPE_CHECKING:  # what VirtualBoard gives this mixin
        _probe: TtyProbe | None
        _proc: subprocess.Popen | None
        _booting: bool

        def _unsent(self) -> int: ...
        def _interrupt(self) -> bool: ...
        def _started_loop(self) -> asyncio.AbstractEventLoop: ...

    def _stdin_pending(self) -> int:
        """Input the runtime has not read yet: in the PTY, or held back here while it boots."""
        return (self._probe.unread() if self._probe else 0) + self._unsent()

    def _overflow(self, lost: bytes) -> None:
        """Bytes a full ring lost: a Ctrl-C among them still stops code that runs with it on
        (a UART's receive interrupt acts on it before the ring)."""
        if b"\x03" in lost and self._proc is not None and not self._booting:
            self._interrupt()

    def _hold_tx(self, hold: bool) -> None:
        if self._probe is not None:
            self._probe.hold_output(hold)

    def _stall(self, seconds: float) -> None:
        """The runtime stops for a while, as a board busy erasing flash (a Ctrl-C check,
        which stops and continues it too, may end the spell early)."""
        proc = self._proc
        if proc is None or self._booting:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGSTOP)
            self._started_loop().call_later(seconds, continue_process, proc)
