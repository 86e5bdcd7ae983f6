"""One board, one entry. A board the DeviceManager reaches through its link (USB, virtual, a
bridge) and hears announcing itself through its agent is one board when both give the same
agent id (the one `mptui ota install` gave it). The link's side learns the id: `identify()`
(after an install, from an OTA status) or by asking the board while it waits at its prompt,
when an agent announces an id no board is known to have. The announced entry then joins it:
its agent's addresses become the board's other ways (BoardInfo.agent, .ota).

A mixin of the DeviceManager: it uses the manager's boards (services/board_list.py), links, console and reports.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

from mptui.services.events import BoardEvent, BoardInfo, BoardUpdated
from mptui.services.ota.keys import board_id
from mptui.services.sources import Found

if TYPE_CHECKING:
    from mptui.services.board_list import _Board
    from mptui.services.console import ConsoleRouter

# Asked of a board idle at its prompt while an agent announces an id no board is known to have:
# its own agent's id, if it has one (mptui.services.ota.install writes it there).
AGENT_ID_CODE = (
    "try:\n import json\n print(json.load(open('/config/mptui_agent.json')).get('id',''))\n"
    "except Exception:\n print('')\n"
)


class BoardIds:
    # the manager's, which this mixin uses
    _boards: dict[str, _Board]
    _ids: dict[str, str]  # board id -> the board learnt to have it (its link)
    _last: dict[str, list[Found]]
    _asked: set[str]
    _background: set[asyncio.Task[None]]
    console: ConsoleRouter

    def _publish(self, event: BoardEvent) -> None:
        raise NotImplementedError

    def _on_report(self, source: str, found: list[Found]) -> None:
        raise NotImplementedError

    def identify(self, key: str, board_id: str) -> None:
        """The board's id, learnt through its link (its agent's settings): a board that
        announces itself with the same id is this one, listed once with every way to reach
        it (its link, its agent's OTA and RemoteIO servers)."""
        board = self._boards.get(key)
        if board is None or not board_id or board.info.agent_only:
            return
        if board.info.board_id == board_id and self._ids.get(board_id) == key:
            return
        old = board.info.board_id
        if old and self._ids.get(old) == key:
            del self._ids[old]
        self._ids[board_id] = key
        board.info = replace(board.info, board_id=board_id)
        self._publish(BoardUpdated(board.info))
        for source, found in list(self._last.items()):
            if any(f.board_id for f in found):  # the announcements, sorted out again
                self._on_report(source, found)

    def _at_prompt(self, key: str) -> None:
        """A connected board waits at its prompt: while an agent announces an id no board is
        known to have, ask this board for its agent's id (once a connection)."""
        if key in self._asked or not self.console.idle(key) or not any(
                b.info.agent_only and b.info.board_id and b.info.board_id not in self._ids
                for b in self._boards.values()):
            return
        self._asked.add(key)
        task = asyncio.get_running_loop().create_task(self._ask_id(key))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _ask_id(self, key: str) -> None:
        out = await self.console.ask(key, AGENT_ID_CODE)
        if out is None:
            self._asked.discard(key)  # not idle after all: the next prompt asks again
            return
        self.identify(key, board_id(out.decode("utf-8", "replace").strip()))

    def _twin(self, found: Found) -> str | None:
        """The board a find is another way to (its id learnt through that board's link)."""
        key = self._ids.get(found.board_id) if found.board_id else None
        return key if key in self._boards else None

    def _twin_of(self, info: BoardInfo) -> bool:
        """An agent's entry whose board is listed under its link."""
        key = self._ids.get(info.board_id) if info.board_id else None
        return info.agent_only and key is not None and key != info.key and key in self._boards
