"""Fixtures: virtual boards running the real agent with RemoteIO (see rioboards.py)."""

from __future__ import annotations

import asyncio

import pytest
from rioboards import RioBoard, start_rio_board


@pytest.fixture
async def rio_board(tmp_path):
    """async rio_board(name="b", app=APP, password="", **agent settings) -> RioBoard."""
    boards: list[RioBoard] = []

    async def make(name: str = "b", **kw) -> RioBoard:
        board = await start_rio_board(tmp_path / "boards" / name, **kw)
        boards.append(board)
        return board

    yield make
    await asyncio.gather(*(b.close() for b in boards), return_exceptions=True)
