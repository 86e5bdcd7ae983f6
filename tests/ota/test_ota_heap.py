"""The agent's heap on the board: the OTA commands' code (ota_session.py, release.py) is loaded
only while a client is logged in and let go when the last one leaves; services turned off
(pull, announcements) are never loaded."""

from __future__ import annotations

import asyncio

from agentboards import PASSWORD, WAIT

from mptui.services.ota.links import AgentLink

LOADED = "sorted(k for k in __import__('sys').modules if k.startswith('mptui_agent'))"
FREE = "(__import__('gc').collect(), __import__('gc').mem_free())[1]"
IDLE = ["mptui_agent", "mptui_agent.gate", "mptui_agent.host", "mptui_agent.ota",
        "mptui_agent.remoteio"]


async def test_ota_code_is_loaded_only_while_a_client_is_logged_in(make_board):
    board = await make_board()  # announcements off (start_board), no pull URL
    assert await board.session.eval(LOADED) == IDLE
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

    deadline = asyncio.get_running_loop().time() + WAIT
    while await board.session.eval(LOADED) != IDLE:  # the agent lets go as the session ends
        assert asyncio.get_running_loop().time() < deadline, "the OTA code stayed loaded"
        await asyncio.sleep(0.05)  # polling: the deadline above ends it
    assert await board.session.eval(FREE) > idle_free - 1024  # and its heap comes back
