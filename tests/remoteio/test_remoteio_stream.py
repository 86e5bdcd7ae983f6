"""The log stream against virtual boards running the real agent: order, no loss, slow
listeners."""

from __future__ import annotations

import asyncio
import socket

import pytest
from rioboards import Collector

from mptui.services.remoteio import agent_lines

LINES = 10_000  # at 1,000 lines/s: 10 s


@pytest.mark.parametrize("listeners", [1, 3])
async def test_lines_arrive_in_order_none_lost_at_1000_per_second(rio_board, listeners):
    board = await rio_board()
    collectors = [Collector(agent_lines("127.0.0.1", board.port), "line done")
                  for _ in range(listeners)]
    await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in collectors)), 30)
    assert await board.call("start", {"lines": LINES, "rate": 1000}) == "started"
    for c in collectors:
        await c.wait(timeout=120)
    expected = [f"line {i}" for i in range(LINES)] + ["line done"]
    for c in collectors:
        assert c.drops == 0
        assert c.texts == expected
    stats = await board.call("stats")
    assert stats["dropped"] == 0
