"""F1: every key the app knows, by where it works, with the user's keymap applied."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mptui.ui.keys import KeyHelp

INTRO = (
    "In the REPL every key goes to the board (Ctrl-C, Ctrl-D, Ctrl-E, arrows, Tab...) except "
    "the REPL keys below, F-keys (F12: the command palette) and Ctrl-Q; {leave} gives focus "
    "back. The mouse wheel scrolls "
    "back, a drag selects and copies. Keys can be remapped in the config's [keys] table by "
    "binding id (`mptui config path` shows where it is)."
)

CLOSE_HINT = "Esc, F1 or q closes this list"


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 100; max-width: 96%; height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
        border-title-color: $primary; border-subtitle-color: $text;
    }
    HelpScreen #help-intro { margin-bottom: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "close", "Close", id="help.close"),
    ]

    def __init__(self, keys: list[KeyHelp]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        leave = next((k for k in self.keys if k.id == "repl.leave"), None)
        shown = self._display(leave.keys) if leave else "the leave key"
        scroll = VerticalScroll()
        scroll.border_title = "Keys"
        scroll.border_subtitle = CLOSE_HINT
        with scroll:
            yield Static(INTRO.format(leave=shown), id="help-intro", markup=False)
            yield Static(self._table(), id="help-table")

    def _display(self, keys: tuple[str, ...]) -> str:
        return ", ".join(self.app.get_key_display(Binding(k, "")) for k in keys)

    def _table(self) -> Table:
        table = Table(box=None, expand=True, show_edge=False, pad_edge=False)
        table.add_column("Key", no_wrap=True, style="bold")
        table.add_column("Does", ratio=1)
        table.add_column("Binding id", style="dim", no_wrap=True)
        group = None
        for entry in self.keys:
            if entry.group != group:
                group = entry.group
                table.add_row(Text(group, style="bold underline"), "", "")
            table.add_row(self._display(entry.keys), Text(entry.description), entry.id or "")
        return table

    def action_close(self) -> None:
        self.dismiss(None)
