"""Silent connections cannot lock RemoteIO: a connection counts as a client only once it has
logged in, and those that do not are closed at their login deadline or to make room (the real
agent on a virtual board)."""

from __future__ import annotations

import asyncio
import json

import pytest

from mptui.services.remoteio import RemoteIOError

WAIT = 30.0


class Silent:
    """A connection that reads the greeting and then says nothing."""

    async def open(self, port: int) -> Silent:
        self.r, self.w = await asyncio.open_connection("127.0.0.1", port)
        self.hello = json.loads(await asyncio.wait_for(self.r.readline(), WAIT))
        return self

    async def closed_by_board(self) -> None:
        assert await asyncio.wait_for(self.r.read(), WAIT) == b""

    def close(self) -> None:
        self.w.close()


async def test_silent_connections_do_not_keep_a_listener_out(rio_board):
    board = await rio_board(password="pw", login_timeout=60)  # only eviction makes room
    silent = [await Silent().open(board.port) for _ in range(10)]  # more than any cap (4)
    assert all(s.hello["t"] == "hello" and s.hello["nonce"] for s in silent)
    text, done = [], asyncio.Event()

    def output(kind, value):
        if kind == "out":
            text.append(value)
            if "".join(text).endswith("line done\n"):
                done.set()

    listener = await board.connect(on_output=output)  # a real client logs in all the same
    await listener.listen()
    assert await listener.call("start", {"lines": 200, "rate": 0}) == "started"
    await asyncio.wait_for(done.wait(), WAIT)  # and streams
    assert "".join(text).splitlines() == [f"line {i}" for i in range(200)] + ["line done"]
    # The oldest silent ones were closed to make room for the newcomers (4 may wait at once).
    await asyncio.gather(*(s.closed_by_board() for s in silent[:7]))
    # The ones still waiting are not clients: three more real ones get in beside the listener
    # (four: the limit), a fifth does not.
    clients = [await board.connect() for _ in range(3)]
    assert await asyncio.gather(*(c.call("ping") for c in clients)) == ["pong"] * 3
    with pytest.raises(RemoteIOError) as e:
        await board.connect()
    assert e.value.kind == "busy"
    for s in silent:
        s.close()


async def test_silent_connections_are_closed_at_the_login_deadline(rio_board):
    board = await rio_board(login_timeout=1)  # no password: the first message logs in
    silent = [await Silent().open(board.port) for _ in range(3)]
    await asyncio.gather(*(s.closed_by_board() for s in silent))
    assert await board.call("ping") == "pong"


async def test_wrong_passwords_on_remoteio_make_ota_wait_too(rio_board):
    from mptui.services.ota.links import AgentLink, OtaError

    board = await rio_board(password="pw")
    for _ in range(3):
        with pytest.raises(RemoteIOError) as e:
            await board.connect(password="guess")
        assert e.value.kind == "denied"
    ota = AgentLink("127.0.0.1", board.agent.port, "pw")
    with pytest.raises(OtaError) as e:
        await ota._open("pw")  # one try, no waiting it out
    assert e.value.kind == "backoff"
    await ota.close()
    rio = await board.connect()  # mptui's client waits out a short back-off
    assert await rio.call("ping") == "pong"
