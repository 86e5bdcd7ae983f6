"""App-level messages: DeviceManager events, carried into Textual's message queue."""

from __future__ import annotations

from textual.message import Message

from mptui.services.events import BoardEvent


class ManagerEvent(Message):
    """A DeviceManager event (BoardAdded, BoardStateChanged, ...), delivered in order."""

    def __init__(self, event: BoardEvent) -> None:
        super().__init__()
        self.event = event
