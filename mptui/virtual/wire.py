"""The wire of a link profile (link.py) between the host and a virtual board, in real time.

Each direction is a queue that a timer empties at the link's rate, a burst (TICK of wire time)
per wake-up, so a transfer costs a few hundred wake-ups a second and keeps to the rate over
its length (a late wake-up catches up, by CATCH_UP at most). Host -> board, each burst lands in
the board's stdin ring (what the runtime has not read yet is `pending()`): on a UART what does
not fit is lost, on USB it waits (the host is held back). A board profile's runtime stops
(`stall`) for `link.busy` seconds after each SECTOR bytes it reads, as a board erasing flash.
Board -> host, the runtime's writes are held (`hold_tx`) while more than TX_BUFFER bytes wait
for the wire, as a board's blocking UART or USB writes. Faults (`lossy:`) are drawn per byte
position from a seeded generator.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import math
import os
import random
import struct
import termios
from collections import Counter
from collections.abc import Callable

from mptui.virtual.link import Link

TICK = 0.004  # seconds of wire time per burst
CATCH_UP = 3 * TICK  # how far a late wake-up may catch up (more would flood the ring at once)
POLL = 0.0005  # seconds between looks for room while a USB host is held back
TX_BUFFER = 256  # board output waiting for the wire before the runtime's writes block
HOST_BUFFER = 4096  # host output waiting for the wire before the host's write() waits
STALL = (0.02, 0.3)  # seconds a lossy wire stalls for, at least and at most
SECTOR = 4096  # bytes a board takes in between two busy spells (a flash sector)


class Faults:
    """lossy:P: at seeded random byte positions, drop, duplicate or corrupt a byte, or stall
    the wire (counted in `seen`)."""

    def __init__(self, p: float, seed: int, direction: str) -> None:
        self.rng = random.Random(f"{seed}:{direction}")  # a str seed is stable across runs
        self.log_q = math.log1p(-p)
        self.gap = self._draw()  # clean bytes before the next fault
        self.seen: Counter[str] = Counter()

    def _draw(self) -> int:
        return int(math.log(1.0 - self.rng.random()) / self.log_q)

    def apply(self, data: bytes) -> tuple[bytes, float]:
        """The bytes as the far end gets them, and how long the wire stalls after them."""
        if self.gap >= len(data):
            self.gap -= len(data)
            return data, 0.0
        out = bytearray()
        stall, i = 0.0, 0
        while self.gap < len(data) - i:
            j = i + self.gap
            out += data[i:j]
            kind = self.rng.choice(("drop", "duplicate", "corrupt", "stall"))
            self.seen[kind] += 1
            if kind == "duplicate":
                out += data[j : j + 1] * 2
            elif kind == "corrupt":
                out.append(data[j] ^ self.rng.randrange(1, 256))
            elif kind == "stall":
                out.append(data[j])
                stall += self.rng.uniform(*STALL)
            # else: dropped
            i = j + 1
            self.gap = self._draw()
        self.gap -= len(data) - i
        out += data[i:]
        return bytes(out), stall


class Pacer:
    """One direction: bytes in with `push`, out to `sink` at the link's rate. `sink(bytes)`
    returns how many it took: fewer holds the wire back until it takes more (USB's NAK)."""

    def __init__(
        self,
        link: Link,
        sink: Callable[[bytes], int],
        direction: str,
        on_moved: Callable[[], None] | None = None,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.rate = link.rate
        self.unit = link.packet
        self.burst = max(self.unit, int((link.rate or 0) * TICK) // self.unit * self.unit)
        self.sink = sink
        self.on_moved = on_moved
        self.faults = Faults(link.loss, link.seed, direction) if link.loss else None
        self.queue = bytearray()
        self.free_at = 0.0  # when the wire is done with the bytes it has carried so far
        self.moved = 0  # bytes carried (after faults)
        self.held = False  # the far end took less than the wire brought (USB's NAK)
        self._timer: asyncio.TimerHandle | None = None

    def push(self, data: bytes) -> None:
        if self.faults:
            data, stall = self.faults.apply(data)
            if stall:
                self.free_at = max(self.free_at, self.loop.time()) + stall
        self.queue += data
        if self._timer is None:
            self._arm()

    def clear(self) -> None:
        self.queue.clear()

    def close(self) -> None:
        self.queue.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self, busy: bool = False) -> None:
        """The next burst's timer. An idle wire starts now (no time is banked); a busy one
        (`busy`: bursts follow each other) carries on from where its last byte ended, a
        fraction of a byte before or after now: dropping that fraction at every burst made
        the wire slower than its rate (1 to 2% with a loaded host)."""
        now = self.loop.time()
        if not busy:
            self.free_at = max(self.free_at, now)
        if self.rate is None:
            due = self.free_at  # unpaced: only a stall delays it
        else:
            due = self.free_at + min(len(self.queue), self.burst) / self.rate
        self._timer = self.loop.call_at(due, self._run)

    def _run(self) -> None:
        self._timer = None
        if not self.queue:
            return
        now = self.loop.time()
        if self.rate is None:
            n = len(self.queue)
        else:
            self.free_at = max(self.free_at, now - CATCH_UP)
            n = min(len(self.queue), int((now - self.free_at) * self.rate + 0.5))
            if n < len(self.queue):
                n -= n % self.unit
        taken = self.sink(bytes(self.queue[:n])) if n > 0 else 0
        del self.queue[:taken]
        self.moved += taken
        self.held = taken < n
        if self.rate is not None:
            self.free_at += taken / self.rate
        if self.on_moved:
            self.on_moved()
        if not self.queue:
            return
        if taken < n:  # held back: look again soon, the wire idles meanwhile
            self.free_at = now
            self._timer = self.loop.call_later(POLL, self._run)
        else:
            self._arm(busy=True)


class Wire:
    """Both directions between a host and a virtual board, for one link profile.

    deliver(bytes): bytes into the board's stdin; pending(): bytes delivered that the runtime
    has not read yet; overflow(bytes): bytes a full ring lost (the board still acts on a Ctrl-C
    among them); release(bytes): board output reaching the host; hold_tx(bool): block the
    runtime's writes; stall(seconds): stop the runtime for a while.
    """

    def __init__(
        self,
        link: Link,
        *,
        deliver: Callable[[bytes], None],
        pending: Callable[[], int],
        overflow: Callable[[bytes], None],
        release: Callable[[bytes], None],
        hold_tx: Callable[[bool], None],
        stall: Callable[[float], None],
    ) -> None:
        self.link = link
        self._deliver = deliver
        self._pending = pending
        self._overflow = overflow
        self._release = release
        self._hold_tx = hold_tx
        self._stall = stall
        self.tx_held = False
        self.dropped = 0  # bytes a full ring lost
        self.delivered = 0  # bytes into the board's stdin
        self.stalls = 0  # busy spells
        self._drained: list[asyncio.Future] = []
        self.host_to_board = Pacer(link, self._into_board, "in", self._wake_drained)
        self.board_to_host = Pacer(link, self._to_host, "out", self._tx_moved)

    @property
    def faults(self) -> Counter[str]:
        seen: Counter[str] = Counter()
        for pacer in (self.host_to_board, self.board_to_host):
            if pacer.faults:
                seen += pacer.faults.seen
        return seen

    # -- host -> board ----------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        self.host_to_board.push(data)

    @property
    def unsent(self) -> int:
        return len(self.host_to_board.queue)

    async def drain(self, limit: int = HOST_BUFFER) -> None:
        """Wait until no more than `limit` bytes wait for the wire (a host's write buffer)."""
        while len(self.host_to_board.queue) > limit:
            waiter = asyncio.get_running_loop().create_future()
            self._drained.append(waiter)
            await waiter

    def _wake_drained(self) -> None:
        waiters, self._drained = self._drained, []
        for w in waiters:
            if not w.done():
                w.set_result(None)

    def _into_board(self, data: bytes) -> int:
        if self.link.ring is None:
            return self._into_ring(data)
        pending = self._pending()
        if self.link.busy and (self.delivered - pending) // SECTOR > self.stalls:
            self.stalls += 1
            self._stall(self.link.busy)
        room = max(0, self.link.ring - pending)
        if not self.link.drops and not pending:
            # USB and an empty ring: the runtime reads as fast as the wire brings (which we
            # can only look at once a timer tick, a millisecond at best): take the burst
            room = len(data)
        if len(data) <= room:
            return self._into_ring(data)
        if room:
            self._into_ring(data[:room])
        if not self.link.drops:
            return room  # USB: the rest stays on the host (NAK)
        self.dropped += len(data) - room
        self._overflow(data[room:])
        return len(data)

    def _into_ring(self, data: bytes) -> int:
        self.delivered += len(data)
        self._deliver(data)
        return len(data)

    # -- board -> host ----------------------------------------------------------------------

    def from_board(self, data: bytes) -> None:
        self.board_to_host.push(data)
        if not self.tx_held and len(self.board_to_host.queue) > TX_BUFFER:
            self.tx_held = True
            self._hold_tx(True)

    def _to_host(self, data: bytes) -> int:
        self._release(data)
        return len(data)

    def _tx_moved(self) -> None:
        if self.tx_held and len(self.board_to_host.queue) <= TX_BUFFER // 2:
            self.tx_held = False
            self._hold_tx(False)

    def new_runtime(self) -> None:
        """A new runtime process (a reset): held at once if the wire is still full."""
        self.tx_held = len(self.board_to_host.queue) > TX_BUFFER
        if self.tx_held:
            self._hold_tx(True)

    def discard_output(self) -> None:
        self.board_to_host.clear()
        self._tx_moved()

    def close(self) -> None:
        self.host_to_board.close()
        self.board_to_host.close()
        self._wake_drained()


class TtyProbe:
    """Our own handle on a runtime's PTY (its slave end): how many bytes of input the runtime
    has not read yet, and its writes held or let go (the tty's output stopped, as by XOFF).

    Holding the slave open would hide the runtime's exit from the master (EOF comes once every
    slave handle is closed), so the probe closes itself when the process ends (a pidfd; else
    a poll of the process)."""

    def __init__(self, slave_fd: int, proc) -> None:
        self.fd: int | None = os.dup(slave_fd)
        self._proc = proc
        self._loop = asyncio.get_running_loop()
        self._pidfd: int | None = None
        self._timer: asyncio.TimerHandle | None = None
        try:
            self._pidfd = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):
            self._timer = self._loop.call_later(0.05, self._poll)
        else:
            self._loop.add_reader(self._pidfd, self.close)

    def unread(self) -> int:
        """Input bytes the runtime has not read (0 once it is gone)."""
        if self.fd is None:
            return 0
        try:
            return struct.unpack("i", fcntl.ioctl(self.fd, termios.FIONREAD, b"\0" * 4))[0]
        except OSError:
            return 0

    def hold_output(self, hold: bool) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError, termios.error):
                termios.tcflow(self.fd, termios.TCOOFF if hold else termios.TCOON)

    def _poll(self) -> None:
        self._timer = None
        if self._proc.poll() is None:
            self._timer = self._loop.call_later(0.05, self._poll)
        else:
            self.close()

    def close(self) -> None:
        if self._pidfd is not None:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.fd is not None:
            self.hold_output(False)
            os.close(self.fd)
            self.fd = None
