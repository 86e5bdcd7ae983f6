"""The virtual wire (virtual/wire.py) keeps to its link's rate: over a long transfer it carries
exactly rate bytes a second, however late its timer wakes (short of CATCH_UP), never faster, and
an idle wire banks no time. Driven by a clock of our own: no sleeps, no timings."""

from __future__ import annotations

import random

from mptui.virtual.link import uart
from mptui.virtual.wire import CATCH_UP, TICK, Pacer

RATE = 11_520.0


class Clock:
    """The loop as the Pacer uses it: time(), call_at(), call_later(); one timer at a time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.due: tuple[float, object] | None = None

    def time(self) -> float:
        return self.now

    def call_at(self, when, callback):
        self.due = (when, callback)
        return _Handle()

    def call_later(self, delay, callback):
        return self.call_at(self.now + delay, callback)


class _Handle:
    def cancel(self) -> None:
        pass


async def _pacer(clock: Clock, got: list[tuple[float, int]]) -> Pacer:
    def sink(data: bytes) -> int:
        got.append((clock.now, len(data)))
        return len(data)

    pacer = Pacer(uart(115200, ring=1 << 30), sink, "in")
    pacer.loop = clock  # type: ignore[assignment]
    return pacer


def _run_until_empty(clock: Clock, pacer: Pacer, late: random.Random) -> None:
    while pacer.queue and clock.due is not None:
        when, callback = clock.due
        clock.due = None
        clock.now = max(clock.now, when) + late.uniform(0, (CATCH_UP - TICK) * 0.9)  # (busy)
        callback()  # type: ignore[operator]


async def test_a_long_transfer_takes_its_bytes_time_on_the_wire_however_late_the_timer():
    clock, got = Clock(), []
    pacer = await _pacer(clock, got)
    start, size = clock.now, 65536
    pacer.push(bytes(size))
    _run_until_empty(clock, pacer, random.Random(7))
    assert sum(n for _, n in got) == size
    # the wire is busy until exactly size/rate after the start: not a byte-fraction lost per
    # burst (that made 64 KiB take 1 to 2% longer than the wire's rate)
    assert abs(pacer.free_at - (start + size / RATE)) < 1e-6
    carried = 0
    for at, n in got:  # and never faster than the wire (a byte early at most: rounding)
        carried += n
        assert carried <= (at - start) * RATE + 1


async def test_an_idle_wire_banks_no_time():
    clock, got = Clock(), []
    pacer = await _pacer(clock, got)
    pacer.push(bytes(1000))
    _run_until_empty(clock, pacer, random.Random(1))
    clock.now += 5.0  # idle for a while
    again = clock.now
    got.clear()
    pacer.push(bytes(2000))
    _run_until_empty(clock, pacer, random.Random(2))
    carried = 0
    for at, n in got:
        carried += n
        assert carried <= (at - again) * RATE + 1
    assert abs(pacer.free_at - (again + 2000 / RATE)) < 1e-6
