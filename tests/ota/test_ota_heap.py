"""The agent's heap on the board: the OTA commands' code (ota_session.py, release.py) and
RemoteIO's per-client code (remoteio_session.py) are loaded only while a client is logged in and
let go when the last one leaves; services turned off (pull, announcements) are never loaded."""

from __future__ import annotations

import asyncio
import json

from agentboards import PASSWORD, WAIT

from mptui.services.ota.links import AgentLink
from mptui.services.remoteio import RemoteIO

LOADED = "sorted(k for k in __import__('sys').modules if k.startswith('mptui_agent'))"
FREE = "(__import__('gc').collect(), __import__('gc').mem_free())[1]"
IDLE = ["mptui_agent", "mptui_agent.gate", "mptui_agent.host", "mptui_agent.ota",
        "mptui_agent.remoteio"]


async def test_ota_code_is_loaded_only_while_a_client_is_logged_in(make_board):
    board = await make_board()  # announcements off (start_board), no pull URL
    await settled(board, "the OTA code of start_board's own check stayed loaded")
    idle_free = await board.session.eval(FREE)

    link = AgentLink("127.0.0.1", board.port, PASSWORD, timeout=WAIT)
    await link.open()
    try:
        assert (await link.info())["busy"] is False
        loaded = await board.session.eval(LOADED)
        assert "mptui_agent.release" in loaded and "mptui_agent.ota_session" in loaded
        assert await board.session.eval(FREE) < idle_free - 8192  # the code takes its room
    finally:
        await link.close()

    await settled(board, "the OTA code stayed loaded")
    assert await board.session.eval(FREE) > idle_free - 1024  # and its heap comes back


async def test_remoteio_client_code_is_loaded_only_while_a_client_is_logged_in(make_board):
    board = await make_board()
    port = json.loads((board.root / "config/mptui_agent.json").read_text())["remoteio_port"]
    await settled(board, "the OTA code of start_board's own check stayed loaded")
    rio = RemoteIO("127.0.0.1", port, PASSWORD, timeout=WAIT)
    await rio.open()
    try:
        assert await rio.call("ping") == "pong"
        assert "mptui_agent.remoteio_session" in await board.session.eval(LOADED)
    finally:
        await rio.close()
    await settled(board, "RemoteIO's client code stayed loaded")


async def settled(board, why: str) -> None:
    """Until the agent has let go of what it loaded for a client (after the client left):
    only the modules an idle agent has (pull and announcements, turned off, never loaded)."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while await board.session.eval(LOADED) != IDLE:
        assert asyncio.get_running_loop().time() < deadline, why
        await asyncio.sleep(0.05)  # polling: the deadline above ends it
