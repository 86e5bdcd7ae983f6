"""Typed input paced by the board's echo. A board on a UART without flow control keeps what
arrives in a small stdin ring (256 bytes on most ports) and loses what overflows it while it is
busy, as when it echoes a paste line by line with "=== " before each: its output then takes
longer than the input that caused it. So a burst bigger than WINDOW goes no more than WINDOW
bytes ahead of what the board has read, as its echo shows: the input up to the line end whose
newline came back last, and of the line after it what came back beyond a prompt (4 bytes: the
echo of a line is longer than the line, never shorter). A board that reads without echoing (a
program's stdin) gets WINDOW more after STALL of silence."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable

WINDOW = 96  # bytes typed ahead of what the board has read: well inside a 256-byte ring
STALL = 0.5  # seconds with nothing back before the next WINDOW goes all the same
PROMPT = 4  # ">>> ", "... ", "=== ": echoed before a line's own bytes
LINE_END = re.compile(rb"\r\n|\r|\n|\x05")
PASTE_MODE = 0x05  # Ctrl-E: its echo is the paste-mode banner, two lines for one byte


class Echo:
    """What the board has sent back to the console so far (the session counts it)."""

    def __init__(self) -> None:
        self.seen = 0
        self.lines = 0  # newlines among them
        self.after_line = 0  # bytes since the last newline
        self.silences = 0  # times typing went on after STALL of silence
        self._more = asyncio.Event()

    def saw(self, data: bytes) -> None:
        self.seen += len(data)
        n = data.count(b"\n")
        self.lines += n
        self.after_line = len(data) - data.rfind(b"\n") - 1 if n else self.after_line + len(data)
        self._more.set()

    async def wait(self, timeout: float) -> bool:
        """True when more came back within `timeout`."""
        self._more.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._more.wait(), timeout)
            return True
        return False


async def write_paced(write: Callable[[bytes], Awaitable[None]], data: bytes, echo: Echo,
                      stop: Callable[[], bool] | None = None) -> None:
    """Write `data` at most WINDOW bytes ahead of what the echo shows read; `stop()` true ends
    it early (a Ctrl-C typed meanwhile)."""
    if len(data) <= WINDOW:
        await write(data)
        return
    ends = []  # where the input's lines end, one for each newline its echo will have
    for m in LINE_END.finditer(data):
        ends += [m.end()] * (2 if data[m.start()] == PASTE_MODE else 1)
    seen0, lines0 = echo.seen, echo.lines
    sent = floor = 0

    def read() -> int:
        k = min(echo.lines - lines0, len(ends))
        base = ends[k - 1] if k else 0
        partial = (echo.after_line if k else echo.seen - seen0) - PROMPT
        nxt = ends[k] if k < len(ends) else len(data)
        return max(floor, min(sent, base + max(0, min(partial, nxt - base))))

    while sent < len(data):
        if sent and stop is not None and stop():
            break
        room = WINDOW - (sent - read())
        if room <= 0:
            if not await echo.wait(STALL):
                echo.silences += 1
                floor = sent  # silence: take it as read
            continue
        chunk = data[sent:sent + room]
        await write(chunk)
        sent += len(chunk)
