"""Before watching a pair of folders: what the board does after an upload, and whether a file
deleted here is deleted there too."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Label, OptionList
from textual.widgets.option_list import Option

from mptui.services.watch import AFTER_CHOICES
from mptui.ui.models.files import WatchChoice
from mptui.ui.safe_text import printable
from mptui.ui.widgets.watch_panel import AFTER_LABELS


class WatchSetupScreen(ModalScreen[WatchChoice | None]):
    """Returns the choice (Enter) or None (Escape)."""

    DEFAULT_CSS = """
    WatchSetupScreen { align: center middle; }
    WatchSetupScreen > Vertical {
        width: 64; max-width: 94%; height: auto;
        border: round $accent; background: $surface; padding: 0 1;
    }
    WatchSetupScreen Label { width: 1fr; }
    WatchSetupScreen #watch-title { text-style: bold; }
    WatchSetupScreen #watch-about { color: $text-muted; margin-bottom: 1; }
    WatchSetupScreen OptionList, WatchSetupScreen OptionList:focus {
        height: auto; border: none; padding: 0; margin-bottom: 1;
    }
    WatchSetupScreen Checkbox { border: none; padding: 0; height: 1; background: $surface; }
    WatchSetupScreen #watch-keys { color: $text-muted; margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "toggle_mirror", "Mirror deletes", id="watch.mirror",
                tooltip="Delete on the board what is deleted here (on/off)"),
        Binding("escape", "cancel", "Cancel", id="watch.cancel"),
    ]

    def __init__(self, title: str, choice: WatchChoice) -> None:
        super().__init__()
        self.title_text = title
        self.choice = choice

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Watch"
            yield Label(printable(self.title_text), id="watch-title", markup=False)
            yield Label("Syncs now, then sends every saved file to the board at once.",
                        id="watch-about")
            yield Label("After an upload:")
            yield OptionList(*(Option(AFTER_LABELS[a], id=a) for a in AFTER_CHOICES),
                             id="watch-after")
            mirror = Checkbox("Mirror deletes (deleted here, deleted on the board)",
                              self.choice.delete, id="watch-mirror")
            mirror.can_focus = False
            yield mirror
            yield Label("↑↓ choose · m mirror deletes · Enter start · Esc cancel",
                        id="watch-keys")

    def on_mount(self) -> None:
        after = self.query_one(OptionList)
        after.highlighted = AFTER_CHOICES.index(self.choice.after)
        after.focus()

    @on(OptionList.OptionSelected)
    def start(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:  # (every option has one: its `after`)
            self.dismiss(WatchChoice(event.option.id, self.query_one(Checkbox).value))

    def action_toggle_mirror(self) -> None:
        self.query_one(Checkbox).toggle()

    def action_cancel(self) -> None:
        self.dismiss(None)
