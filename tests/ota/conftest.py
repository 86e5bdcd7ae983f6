"""Fixtures: virtual boards running the real OTA agent (see agentboards.py)."""

from __future__ import annotations

import asyncio

import pytest
from agentboards import KEY, PASSWORD, AgentBoard, start_board

from mptui.services.ota.project import Secrets


@pytest.fixture
def secrets(tmp_path) -> Secrets:
    return Secrets(tmp_path / ".mptui-secrets.toml", password=PASSWORD, signing_key=KEY)


@pytest.fixture
async def make_board(tmp_path, secrets):
    """async make_board(name, good_after=0.3, **agent settings) -> AgentBoard (agent running)."""
    boards: list[AgentBoard] = []

    async def make(name: str = "b", good_after: float = 0.3, sec: Secrets | None = secrets,
                   **agent) -> AgentBoard:
        board = await start_board(tmp_path / "boards" / name, sec, good_after=good_after,
                                  on_start=boards.append, **agent)
        return board

    yield make
    await asyncio.gather(*(b.session.close() for b in boards), return_exceptions=True)
