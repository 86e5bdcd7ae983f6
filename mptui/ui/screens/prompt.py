"""A one-line question: a board address, a file to capture to, code to inject, a password."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from mptui.ui.safe_text import printable


class PromptScreen(ModalScreen[str | None]):
    """Returns the text entered (Enter), or None (Escape). `secret`: the input is masked and
    returned as typed (a password's spaces are part of it). The question and the value may
    hold a board's names: shown as plain text, control characters as �."""

    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    PromptScreen > Vertical {
        width: 70; max-width: 90%; height: auto;
        border: round $primary; background: $surface; padding: 0 1;
        border-subtitle-color: $text-muted;
    }
    PromptScreen Label { width: 1fr; margin-bottom: 1; }
    PromptScreen .prompt-hint { color: $text-muted; margin: 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]

    def __init__(
        self, question: str, value: str = "", hint: str = "", *, secret: bool = False
    ) -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.hint = hint
        self.secret = secret

    def compose(self) -> ComposeResult:
        box = Vertical()
        box.border_subtitle = "Enter: OK · Esc: cancel"
        with box:
            yield Label(printable(self.question), markup=False)
            yield Input(printable(self.value), password=self.secret, id="prompt-input")
            if self.hint:
                yield Label(printable(self.hint), classes="prompt-hint", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value if self.secret else event.value.strip()
        self.dismiss(value or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
