"""The OTA tab (not built yet: over-the-air updates replace this module)."""

from __future__ import annotations

from textual.widgets import Static

from mptui.services.events import BoardInfo


class OtaTab(Static):
    """Shown in the OTA tab. `show_board()` is called with the selected board."""

    DEFAULT_CSS = """
    OtaTab { width: 1fr; height: 1fr; padding: 1 2; color: $text-muted; }
    """

    def __init__(self, manager=None, *, id: str | None = None) -> None:
        super().__init__(
            "OTA: not built yet. Signed over-the-air updates come in a later version.", id=id
        )
        self.manager = manager
        self.board: BoardInfo | None = None

    def show_board(self, board: BoardInfo | None) -> None:
        self.board = board
