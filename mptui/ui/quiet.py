"""Work that can wait (the tabs not shown yet, a full garbage collection) waits until board
output stops streaming in, so that a flood just after start-up has the loop to itself, and while
a terminal just made waits for its board's first words (its prompt shows sooner); but not
longer than PATIENCE: a board that never stops talking still gets it done.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

QUIET = 0.3  # seconds without board output that make the app quiet
PATIENCE = 10.0  # seconds work waits at most
EXPECT = 3.0  # seconds a new terminal's first output is waited for, at most

_last_output = float("-inf")  # time.monotonic() when some board output last came in
_expected_until = float("-inf")  # a terminal waits for its first output until then


def output_expected(now: float) -> None:
    """A terminal was made: its board's first output is due (`now`: time.monotonic())."""
    global _expected_until
    _expected_until = max(_expected_until, now + EXPECT)


def output_came(now: float) -> None:
    """A terminal received board output (`now`: time.monotonic())."""
    global _last_output, _expected_until
    _last_output = now
    _expected_until = float("-inf")


def quiet() -> bool:
    now = time.monotonic()
    return now >= _expected_until and now - _last_output >= QUIET


def when_quiet(node: MessagePump, callback: Callable[[], Any], patience: float = PATIENCE) -> None:
    """Call `callback` (on `node`'s loop) now if the app is quiet, else once it is or after
    `patience` seconds."""
    deadline = time.monotonic() + patience

    def check() -> None:
        if quiet() or time.monotonic() >= deadline:
            node.call_later(callback)
        else:
            node.set_timer(QUIET / 3, check)

    check()
