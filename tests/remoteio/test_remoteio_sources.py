"""Sources of log lines: the agent (reconnecting across a reset), a board's REPL for boards
without the agent, several boards merged."""

from __future__ import annotations

import asyncio

from rioboards import Collector

from mptui.services.logs import OUT, STATUS
from mptui.services.remoteio import LogStream, agent_lines, console_lines, lines_of


async def test_the_stream_comes_back_after_the_board_resets(rio_board):
    board = await rio_board()
    c = Collector(agent_lines("127.0.0.1", board.port), "after done")
    await asyncio.wait_for(c.connected.wait(), 30)
    await board.call("start", {"lines": 3, "tag": "before"})
    await board.agent.wait_for(lambda: "before done" in c.texts, what="the first lines")
    c.connected.clear()
    board.agent.power_cycle()
    await asyncio.wait_for(c.connected.wait(), 30)
    await board.call("start", {"lines": 3, "tag": "after"})
    await c.wait()
    assert c.texts == ["before 0", "before 1", "before 2", "before done",
                       "after 0", "after 1", "after 2", "after done"]
    notes = [line.text for line in c.lines if line.kind == STATUS]
    assert notes[0].startswith("connected (rio://127.0.0.1:")
    assert any("reconnecting" in n for n in notes) and notes[-1].startswith("reconnected")
    assert all(line.board == "b" for line in c.lines)  # named as the board calls itself


async def test_a_board_without_the_agent_is_watched_at_its_repl(session):
    c = Collector(console_lines(session, "plain"), "hello from the REPL 3")
    await asyncio.wait_for(c.connected.wait(), 30)
    await session.console_write(b"for i in range(4): print('hello from the REPL', i)\r\n")
    await c.wait(timeout=30)
    out = [t for t in c.texts if t.startswith("hello")]
    assert out == [f"hello from the REPL {i}" for i in range(4)]
    assert all(line.board == "plain" for line in c.lines)
    assert session.connected  # the session is the caller's: left open


async def test_several_boards_merge_into_one_stream(rio_board):
    a, b = await rio_board("a"), await rio_board("b")
    stream = LogStream()
    for board in (a, b):
        stream.add(board.address, lines_of(board.address))
    seen: dict[str, list[str]] = {"a": [], "b": []}
    connected: set[str] = set()

    async def read():
        async for line in stream:
            if line.kind == STATUS and line.text.startswith("connected"):
                connected.add(line.board)
            elif line.kind == OUT:
                seen[line.board].append(line.text)
                if all(s and s[-1].endswith("done") for s in seen.values()):
                    return

    reader = asyncio.create_task(read())
    await a.agent.wait_for(lambda: connected == {"a", "b"}, what="both boards connected")
    await asyncio.gather(a.call("start", {"lines": 50, "rate": 0, "tag": "A"}),
                         b.call("start", {"lines": 50, "rate": 0, "tag": "B"}))
    await asyncio.wait_for(reader, 30)
    assert seen["a"] == [f"A {i}" for i in range(50)] + ["A done"]
    assert seen["b"] == [f"B {i}" for i in range(50)] + ["B done"]
    await stream.close()
    assert stream.keys == []


async def test_a_stream_ends_when_its_sources_do():
    async def three():
        for i in range(3):
            yield i

    from mptui.services.logs import LogLine

    async def lines(board):
        async for i in three():
            yield LogLine(board, 0.0, str(i))

    stream = LogStream()
    stream.add("x", lines("x"))
    stream.add("y", lines("y"))
    assert not stream.add("x", lines("x"))  # one source per key
    got = [(line.board, line.text) async for line in stream]
    assert sorted(got) == [("x", "0"), ("x", "1"), ("x", "2"), ("y", "0"), ("y", "1"), ("y", "2")]
