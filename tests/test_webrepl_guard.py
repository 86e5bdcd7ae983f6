"""The bridge's WebREPL login guard (mptui/virtual/login_guard.py): wrong passwords make the
source wait, silent connections neither hold the board nor keep a client out. Against the
bridge's WebREPL port with the real runtime behind it."""

from __future__ import annotations

import asyncio

import pytest
from helpers import WEBREPL_PW
from websockets.asyncio.client import connect as ws_connect

from mptui.board import BoardDisconnected, Session
from mptui.virtual import login_guard
from mptui.webrepl_wire import CONNECTED, DENIED, PASSWORD_PROMPT

WAIT = 20.0


async def try_password(url: str, password: str) -> bytes | str:
    """The answer to one password: DENIED / CONNECTED (bytes), or why the bridge closed."""
    async with ws_connect(url) as ws:
        try:
            assert await asyncio.wait_for(ws.recv(decode=False), WAIT) == PASSWORD_PROMPT
        except Exception:  # noqa: BLE001 (closed before the prompt: say why)
            return ws.close_reason or "closed"
        await ws.send(password + "\r")
        return await asyncio.wait_for(ws.recv(decode=False), WAIT)


async def closed_by_bridge(reader: asyncio.StreamReader) -> None:
    while await asyncio.wait_for(reader.read(4096), WAIT):
        pass


async def test_wrong_passwords_make_the_source_wait(webrepl_board):
    url = webrepl_board.url
    for _ in range(3):
        assert await try_password(url, "guess") == DENIED
    # Now even the right password is not looked at: the bridge says why and closes.
    said = await try_password(url, WEBREPL_PW)
    assert said.startswith("too many wrong passwords: wait ")
    s = Session(url, password=WEBREPL_PW, reconnect=False)
    with pytest.raises(BoardDisconnected, match="too many wrong passwords"):
        await s.connect()
    # Once the wait is over, the right password gets in (and the count starts again).
    deadline = asyncio.get_running_loop().time() + WAIT
    while isinstance(answer := await try_password(url, WEBREPL_PW), str):
        assert "too many wrong passwords" in answer
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.2)  # polling: the deadline above ends it
    assert CONNECTED in answer
    assert await try_password(url, "guess") == DENIED


async def test_silent_connections_do_not_keep_a_client_out(webrepl_board, monkeypatch):
    monkeypatch.setattr(login_guard, "DEADLINE", 60.0)  # only eviction makes room here
    port = webrepl_board.bridge.webrepl_port
    silent = [await asyncio.open_connection("127.0.0.1", port) for _ in range(12)]
    s = Session(webrepl_board.url, password=WEBREPL_PW, reconnect=False)
    await s.connect()  # still gets in: the oldest waiting ones were closed to make room
    assert await s.eval("6 * 7") == 42
    await s.close()
    await asyncio.gather(*(closed_by_bridge(r) for r, _ in silent[:5]))  # (8 may wait at once)
    for _, w in silent:
        w.close()


async def test_silent_connections_are_closed_at_the_deadline(webrepl_board, monkeypatch):
    """Also one that took the board (WebSocket handshake done) and never gives a password."""
    monkeypatch.setattr(login_guard, "DEADLINE", 1.0)
    silent = [await asyncio.open_connection("127.0.0.1", webrepl_board.bridge.webrepl_port)
              for _ in range(3)]
    holder = await ws_connect(webrepl_board.url)
    assert await holder.recv(decode=False) == PASSWORD_PROMPT
    await asyncio.gather(*(closed_by_bridge(r) for r, _ in silent))
    await asyncio.wait_for(holder.wait_closed(), WAIT)  # and the board is free again
    s = Session(webrepl_board.url, password=WEBREPL_PW, reconnect=False)
    await s.connect()
    assert await s.eval("1") == 1
    await s.close()
