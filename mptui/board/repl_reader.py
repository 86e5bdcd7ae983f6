"""The board's bytes as the REPL protocol reads them (board/repl.py builds on this).

One pump task reads the transport. While an operation runs (`capture()`), bytes collect in a
buffer that the protocol reads; otherwise they go to the console sink (the terminal).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

from mptui.board.errors import BoardDisconnected, BoardTimeout
from mptui.transports.base import Transport, TransportError

logger = logging.getLogger("mptui.board.repl")
EXEC_TIMEOUT = 10.0  # seconds without a byte from the board before an exec gives up


class ReplReader:
    """The pump, the buffer and the reads and writes the protocol makes of them."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.console_sink: Callable[[bytes], None] | None = None
        self.on_closed: Callable[[str], None] | None = None
        self.on_idle_output: Callable[[bytes], None] | None = None
        # sees the board's output first and keeps what is not for the others (a mount's
        # requests: board/mount.py)
        self.intercept: Callable[[bytes], bytes] | None = None
        self.in_raw = False  # True once we know the board sits in the raw REPL
        self._buf = bytearray()
        self._waiter: asyncio.Future[None] | None = None
        self._capturing = 0
        self._closed: str | None = None
        self._pump_task: asyncio.Task[None] | None = None

    # -- the pump ---------------------------------------------------------------------------

    def start(self) -> None:
        self._closed = None
        self._pump_task = asyncio.create_task(self._pump(), name="mptui-repl-pump")

    async def stop(self) -> None:
        if self._pump_task:
            self._pump_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pump_task
        self._pump_task = None

    @property
    def closed(self) -> str | None:
        return self._closed

    async def _pump(self) -> None:
        try:
            while True:
                data = await self.transport.read()
                if self.intercept is not None:
                    data = self.intercept(data)
                    if not data:
                        self._wake()  # the board is busy for us, not silent
                        continue
                if not self._capturing and self.on_idle_output:
                    self.on_idle_output(data)
                to_protocol = bool(self._capturing or self.in_raw)
                self.transport.console = not to_protocol
                if to_protocol:
                    # at the raw REPL everything belongs to the protocol (the '>' prompt too)
                    self._buf += data
                    self._wake()
                elif self.console_sink:
                    self.console_sink(data)
        except TransportError as e:
            self._closed = str(e) or "the link was closed"
        except Exception as e:  # (never let a pump die silently)
            logger.exception("the link's reader failed")
            self._closed = f"link failure: {e!r}"
        self._wake()
        if self.on_closed:
            self.on_closed(self._closed)

    @contextlib.asynccontextmanager
    async def capture(self) -> AsyncIterator[None]:
        """Route board output to the protocol (not the console) for the duration."""
        self._capturing += 1
        self.transport.console = False  # (an answer is waited for: its reads not held back)
        try:
            yield
        finally:
            self._capturing -= 1
            if not self._capturing and self._buf and not self.in_raw:
                leftover = bytes(self._buf)
                self._buf.clear()
                if self.console_sink:
                    self.console_sink(leftover)

    # -- reading ----------------------------------------------------------------------------

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def _wait_data(self, deadline: float | None) -> None:
        """Wait for more bytes. (A plain future and call_later rather than wait_for, which
        in Python 3.10/3.11 can swallow a cancellation that races with a result.)"""
        if self._closed is not None:
            raise BoardDisconnected(self._closed)
        timeout = None if deadline is None else deadline - time.monotonic()
        if timeout is not None and timeout <= 0:
            raise BoardTimeout("the board stopped answering")
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        timer = None
        if timeout is not None:
            timer = loop.call_later(timeout, _expire, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer:
                timer.cancel()
        if self._closed is not None and not self._buf:
            raise BoardDisconnected(self._closed)

    async def read_until(self, marker: bytes, timeout: float | None = EXEC_TIMEOUT) -> bytes:
        """Bytes up to and including `marker`; `timeout` is the longest silence allowed."""
        start = 0
        while True:
            i = self._buf.find(marker, start)
            if i >= 0:
                end = i + len(marker)
                data = bytes(self._buf[:end])
                del self._buf[:end]
                return data
            start = max(0, len(self._buf) - len(marker) + 1)
            await self._wait_data(deadline_after(timeout))

    async def read_within(self, marker: bytes, seconds: float) -> tuple[bytes, bool]:
        """Bytes up to and including `marker` if it comes within `seconds` in all (True), else
        all that came in that time (False): for waits that must end whatever the board
        sends."""
        deadline = time.monotonic() + seconds
        try:
            while marker not in self._buf:
                await self._wait_data(deadline)
        except BoardTimeout:
            data = bytes(self._buf)
            self._buf.clear()
            return data, False
        end = self._buf.find(marker) + len(marker)
        data = bytes(self._buf[:end])
        del self._buf[:end]
        return data, True

    async def read_exact(self, n: int, timeout: float | None = EXEC_TIMEOUT) -> bytes:
        while len(self._buf) < n:
            await self._wait_data(deadline_after(timeout))
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    async def stream_until(
        self, marker: int, sink: Callable[[bytes], None], timeout: float | None = EXEC_TIMEOUT
    ) -> None:
        """Feed bytes to `sink` as they come, up to (not including) the byte `marker`."""
        while True:
            i = self._buf.find(marker)
            if i >= 0:
                if i:
                    sink(bytes(self._buf[:i]))
                del self._buf[: i + 1]
                return
            if self._buf:
                sink(bytes(self._buf))
                self._buf.clear()
            await self._wait_data(deadline_after(timeout))

    def discard(self) -> None:
        self._buf.clear()

    def take(self) -> bytes:
        """Everything the board has sent that nothing has read yet (taken from the buffer)."""
        data = bytes(self._buf)
        self._buf.clear()
        return data

    async def wait_data(self, timeout: float | None) -> None:
        """Until more bytes have come (at once if some wait): BoardTimeout after `timeout`
        seconds of none."""
        if not self._buf:
            await self._wait_data(deadline_after(timeout))

    def unread(self, data: bytes) -> None:
        self._buf[:0] = data

    def tail(self, n: int = 200) -> bytes:
        return bytes(self._buf[-n:])

    async def write(self, data: bytes) -> None:
        try:
            await self.transport.write(data)
        except TransportError as e:
            raise BoardDisconnected(str(e)) from None


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(BoardTimeout("the board stopped answering"))


def deadline_after(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout
