"""A yes/no question before something that cannot be undone (deleting, replacing files)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from mptui.ui.safe_text import printable


class ConfirmScreen(ModalScreen[bool]):
    """Returns True (Enter or y) or False (Escape or n)."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 64; max-width: 94%; height: auto; max-height: 90%;
        border: round $warning; background: $surface; padding: 0 1;
    }
    ConfirmScreen #confirm-question { width: 1fr; text-style: bold; }
    ConfirmScreen #confirm-details { width: 1fr; color: $text-muted; margin-top: 1; }
    ConfirmScreen #confirm-keys { width: 1fr; margin-top: 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,y", "answer(True)", "Yes", id="dialog.yes"),
        Binding("escape,n", "answer(False)", "No", id="dialog.no"),
    ]

    def __init__(self, question: str, details: str = "", title: str = "") -> None:
        super().__init__()
        self.question = question
        self.details = details
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            yield Label(printable(self.question, keep="\n"), id="confirm-question", markup=False)
            if self.details:
                yield Label(printable(self.details, keep="\n"), id="confirm-details",
                            markup=False)
            yield Label("Enter: yes · Esc: no", id="confirm-keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
