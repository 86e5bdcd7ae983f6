"""Who may try a password on a server port (the bridge's WebREPL), the same rules as the board
agent's (mptui/agent/gate.py):

- a connection has `deadline` seconds to log in, and at most `max_pending` wait at once; a new
  one that finds them all taken closes the oldest of the source holding the most, so silent
  connections can neither hold the board nor keep a real client out;
- per source, after `free` wrong passwords in a row, every further attempt is refused unchecked
  for 1 s, then 2, 4 ... `max_wait` s; a right password clears the count.

A connection tells the guard `opened(conn)`, `login(conn, right)` and `closed(conn)`; it needs
`transport`, `peer_host` (set here) and `abort()`. `guard_for(hub)` gives each hub (one per
bridge) its own guard.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import Any

MAX_PENDING = 8  # connections waiting to log in, at once
DEADLINE = 10.0  # seconds from connect to login (WebSocket handshake and password)
FREE = 3
MAX_WAIT = 60.0
SOURCES = 256  # sources remembered (the oldest block is forgotten first)


class LoginGuard:
    def __init__(self, max_pending: int | None = None, deadline: float | None = None,
                 free: int = FREE, max_wait: float = MAX_WAIT) -> None:
        self.max_pending = MAX_PENDING if max_pending is None else max_pending
        self.deadline = DEADLINE if deadline is None else deadline
        self.free, self.max_wait = free, max_wait
        # connections (any object with what the docstring says) -> their deadline, in arrival order
        self.pending: dict[Any, asyncio.TimerHandle] = {}
        self.bad: dict[str, list] = {}  # source -> [wrong in a row, refused until (monotonic)]

    def opened(self, conn) -> None:
        peer = conn.transport.get_extra_info("peername") if conn.transport else None
        conn.peer_host = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        if len(self.pending) >= self.max_pending:
            self._evict()
        loop = asyncio.get_running_loop()
        self.pending[conn] = loop.call_later(self.deadline, self._expired, conn)

    def _evict(self) -> None:
        count: dict[str, int] = {}
        for c in self.pending:
            count[c.peer_host] = count.get(c.peer_host, 0) + 1
        top = max(count.values())
        victim = next(c for c in self.pending if count[c.peer_host] == top)
        self.closed(victim)
        victim.abort()

    def _expired(self, conn) -> None:
        if self.pending.pop(conn, None) is not None:
            conn.abort()

    def wait(self, conn) -> float:
        """Seconds the connection's source must still wait (0: none)."""
        entry = self.bad.get(getattr(conn, "peer_host", "?"))
        return max(0.0, entry[1] - time.monotonic()) if entry else 0.0

    def refusal(self, conn) -> str | None:
        wait = self.wait(conn)
        return f"too many wrong passwords: wait {int(wait) + 1} s" if wait else None

    def login(self, conn, right: bool) -> str | None:
        """None: in; else why not ("denied", or "backoff": the password was not looked at)."""
        source = getattr(conn, "peer_host", "?")
        if self.wait(conn):
            return "backoff"
        if right:
            self.bad.pop(source, None)
            timer = self.pending.pop(conn, None)
            if timer is not None:
                timer.cancel()
            return None
        entry = self.bad.setdefault(source, [0, 0.0])
        entry[0] += 1
        if entry[0] >= self.free:
            entry[1] = time.monotonic() + min(2.0 ** (entry[0] - self.free), self.max_wait)
        while len(self.bad) > SOURCES:
            del self.bad[min(self.bad, key=lambda k: self.bad[k][1])]
        return "denied"

    def closed(self, conn) -> None:
        timer = self.pending.pop(conn, None)
        if timer is not None:
            timer.cancel()


_guards: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def guard_for(hub) -> LoginGuard:
    guard = _guards.get(hub)
    if guard is None:
        guard = _guards[hub] = getattr(hub, "login_guard", None) or LoginGuard()
    return guard
