"""The log stream against virtual boards running the real agent: order, no loss, slow
listeners."""

from __future__ import annotations

import asyncio
import json
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
    # Listeners that stop reading are gone from the board, and print() is the app's own again.
    deadline = asyncio.get_running_loop().time() + 10
    while (stats := await board.call("stats"))["listeners"] and (
            asyncio.get_running_loop().time() < deadline):
        await asyncio.sleep(0.05)  # polling the board's count: the deadline above ends it
    assert (stats["listeners"], stats["capture"], stats["dropped"]) == (0, None, 0)


class StalledListener:
    """A raw client that subscribes, then stops reading (a tiny receive buffer, so that the
    board's side fills up soon)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(30)
        self.sock.connect(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")
        assert json.loads(self.file.readline())["t"] == "hello"
        self.sock.sendall(b'{"t":"listen"}\n{"t":"call","id":1,"name":"ping"}\n')
        assert json.loads(self.file.readline()) == {"t": "resp", "id": 1, "r": "pong"}

    def read_until(self, last: str) -> tuple[list[str], int]:
        """Everything it was sent, up to the line `last`: (lines, chunks reported dropped)."""
        text, dropped = "", 0
        while not text.endswith(last + "\n"):
            msg = json.loads(self.file.readline())
            if msg["t"] == "drop":
                dropped += msg["n"]
            elif msg["t"] == "out":
                text += msg["d"]
        return text.splitlines(), dropped

    def close(self) -> None:
        self.file.close()
        self.sock.close()


async def test_a_listener_that_stops_reading_does_not_slow_the_app(rio_board):
    # Long lines, so that the stalled listener's share overflows the kernel's socket buffers
    # (large on Linux) and the board's; a board buffer big enough for the healthy listener to
    # never fall behind by that much.
    board = await rio_board(remoteio_buffer=65536)
    tag = "x" * 120
    stalled = StalledListener(board.port)
    try:
        healthy = Collector(agent_lines("127.0.0.1", board.port), f"{tag} done")
        await asyncio.wait_for(healthy.connected.wait(), 30)
        total = 5000
        await board.call("start", {"lines": total, "rate": 1000, "tag": tag})
        await healthy.wait(timeout=120)
        # The app printed everything while one listener read nothing at all ...
        assert await board.call("progress") == total
        # ... and the other listener got every line.
        assert healthy.texts == [f"{tag} {i}" for i in range(total)] + [f"{tag} done"]
        # The stalled one gets the newest lines, and is told how many it missed.
        lines, dropped = await asyncio.to_thread(stalled.read_until, f"{tag} done")
        numbers = [int(x.split()[1]) for x in lines[:-1]]
        assert dropped > 0 and numbers == sorted(numbers)
        assert len(lines) + dropped == total + 1  # every print() either arrived or was counted
        assert (await board.call("stats"))["dropped"] == dropped
    finally:
        stalled.close()
