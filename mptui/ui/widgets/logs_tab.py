"""The Logs tab (not built yet: the RemoteIO log stream replaces this module)."""

from __future__ import annotations

from textual.widgets import Static

from mptui.services.events import BoardInfo


class LogsTab(Static):
    """Shown in the Logs tab. `show_board()` is called with the selected board."""

    DEFAULT_CSS = """
    LogsTab { width: 1fr; height: 1fr; padding: 1 2; color: $text-muted; }
    """

    def __init__(self, manager=None, *, id: str | None = None) -> None:
        super().__init__(
            "Logs: not built yet. A live print() stream from boards comes in a later version; "
            "the REPL shows a connected board's output meanwhile.",
            id=id,
        )
        self.manager = manager
        self.board: BoardInfo | None = None

    def show_board(self, board: BoardInfo | None) -> None:
        self.board = board
