"""The Files tab (not built yet: the dual-pane browser with sync replaces this module)."""

from __future__ import annotations

from textual.widgets import Static

from mptui.services.events import BoardInfo


class FilesTab(Static):
    """Shown in the Files tab. `show_board()` is called with the selected board."""

    DEFAULT_CSS = """
    FilesTab { width: 1fr; height: 1fr; padding: 1 2; color: $text-muted; }
    """

    def __init__(self, manager=None, *, id: str | None = None) -> None:
        super().__init__(
            "Files: not built yet. The file browser (two panes, copy, sync) comes in a later "
            "version; for now use `mptui` commands or the REPL.",
            id=id,
        )
        self.manager = manager
        self.board: BoardInfo | None = None

    def show_board(self, board: BoardInfo | None) -> None:
        self.board = board
