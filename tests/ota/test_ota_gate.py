"""Who may talk to the agent (mptui/agent/gate.py), against the real agent: silent connections
never lock a client out, guessing passwords gets slower per source, sessions are capped."""

from __future__ import annotations

import asyncio

import pytest
from agentboards import PASSWORD, WAIT

from mptui.services.ota.keys import auth_response
from mptui.services.ota.links import AgentLink, OtaError


class Raw:
    """A plain TCP connection to the agent's OTA port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.greeting = ""

    async def open(self) -> Raw:
        self.r, self.w = await asyncio.open_connection("127.0.0.1", self.port)
        self.greeting = (await asyncio.wait_for(self.r.readline(), WAIT)).decode().strip()
        return self

    async def login(self, password: str) -> str:
        """The board's answer to a login with this password."""
        if not self.greeting.startswith("MPTUI-OTA"):
            return self.greeting  # turned away before the greeting
        _, _, _, nonce, board = self.greeting.split()
        try:
            self.w.write(f"auth {auth_response(password, nonce, board)}\n".encode())
            return (await asyncio.wait_for(self.r.readline(), WAIT)).decode().strip()
        except ConnectionResetError:  # closed by the board (written to after its close)
            return ""

    async def closed_by_board(self) -> None:
        """Until the board closes the connection (it never sends anything more)."""
        assert await asyncio.wait_for(self.r.read(), WAIT) == b""

    def close(self) -> None:
        self.w.close()


async def test_silent_connections_never_lock_a_client_out(make_board):
    board = await make_board(login_timeout=60)  # only eviction makes room here
    silent = [await Raw(board.port).open() for _ in range(10)]
    assert all(s.greeting.startswith("MPTUI-OTA 2 ") for s in silent)
    link = AgentLink("127.0.0.1", board.port, PASSWORD)  # a real client all the same
    await link.open()
    assert await link.cmd("ping") == "pong"
    # Pending connections are capped (4): the oldest made room, each closed by the board.
    await asyncio.gather(*(s.closed_by_board() for s in silent[:7]))
    await link.close()
    for s in silent:
        s.close()


async def test_a_silent_connection_is_closed_at_its_login_deadline(make_board):
    board = await make_board(login_timeout=1)
    silent = [await Raw(board.port).open() for _ in range(3)]
    await asyncio.gather(*(s.closed_by_board() for s in silent))  # nobody logged in: closed
    assert (await board.wait_agent())["agent"]


async def test_wrong_passwords_make_the_source_wait(make_board):
    board = await make_board()
    for _ in range(3):  # three free tries, each answered after a pause
        assert await (await Raw(board.port).open()).login("guess") == "err denied wrong password"
    # Then even the right password is not looked at, on either port (RemoteIO shares it).
    refused = await (await Raw(board.port).open()).login(PASSWORD)
    assert refused.startswith("err backoff too many wrong passwords: wait ")
    # mptui's own client waits a short back-off out (then the right password gets in, and
    # the count starts again).
    link = AgentLink("127.0.0.1", board.port, PASSWORD)
    await link.open()
    assert await link.cmd("ping") == "pong"
    await link.close()
    assert await (await Raw(board.port).open()).login("guess") == "err denied wrong password"


async def test_parallel_guesses_are_no_faster(make_board):
    board = await make_board()
    # 16 connections open at once (one after the other: a board's listen backlog is small);
    # only the last 4 still wait for their login, the others were closed to make room.
    opened = [await Raw(board.port).open() for _ in range(16)]
    answers = await asyncio.gather(*(raw.login("guess") for raw in opened))
    assert answers[:12] == [""] * 12
    # The board looks at answers one at a time: three wrong ones, then the source waits.
    assert sorted(a.split()[1] for a in answers[12:]) == ["backoff", "denied", "denied", "denied"]


async def test_logged_in_sessions_are_capped(make_board):
    board = await make_board(clients=2)
    links = [AgentLink("127.0.0.1", board.port, PASSWORD) for _ in range(2)]
    for link in links:
        await link.open()
    with pytest.raises(OtaError) as e:
        await AgentLink("127.0.0.1", board.port, PASSWORD).open()
    assert e.value.kind == "toomany" and "too many OTA sessions (2)" in str(e.value)
    await links[0].close()
    third = AgentLink("127.0.0.1", board.port, PASSWORD)
    await third.open()  # a session that left makes room
    assert await third.cmd("ping") == "pong"
    for link in (links[1], third):
        await link.close()
