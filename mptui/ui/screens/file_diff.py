"""The diffs of a sync plan's changed files (services/rdiff.py): each board file fetched when
this opens, its unified diff against the local one, binary files marked as such."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mptui.errors import MptuiError
from mptui.services.rdiff import FileDiff
from mptui.services.sync import PlanItem
from mptui.ui.safe_text import printable
from mptui.ui.units import error_text
from mptui.ui.workers import work

Differ = Callable[[PlanItem], Awaitable[FileDiff]]
_LINE_STYLE = (("+++", "bold"), ("---", "bold"), ("+", "green"), ("-", "red"), ("@@", "cyan"))


def diff_text(diff: FileDiff) -> Text:
    """A file's diff, coloured; its one-line summary first."""
    text = Text(printable(diff.summary) + "\n", "bold" if not diff.binary else "bold yellow")
    for line in diff.text.splitlines():
        style = next((s for prefix, s in _LINE_STYLE if line.startswith(prefix)), "")
        text.append(printable(line) + "\n", style)
    return text


class FileDiffScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    FileDiffScreen { align: center middle; }
    FileDiffScreen > VerticalScroll {
        width: 100%; max-width: 120; height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
        border-title-color: $primary; border-subtitle-color: $text-muted;
    }
    FileDiffScreen #diff-text { width: 1fr; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,v", "close", "Close", id="diff.close"),
    ]

    def __init__(self, items: list[PlanItem], differ: Differ) -> None:
        super().__init__()
        self.items = items
        self.differ = differ
        self.diffs: list[FileDiff] = []
        self.done = False

    def compose(self) -> ComposeResult:
        scroll = VerticalScroll(id="diff-scroll")
        n = len(self.items)
        scroll.border_title = f"Changes: {n} file{'s' if n != 1 else ''} (board → local)"
        scroll.border_subtitle = "Esc: back to the plan"
        with scroll:
            yield Static("fetching the board's files…" if self.items
                         else "no changed files", id="diff-text")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
        if self.items:
            self.fetch()

    @work(exclusive=True, group="file-diff")
    async def fetch(self) -> None:
        shown = Text()
        for item in self.items:
            try:
                diff = await self.differ(item)
            except (OSError, MptuiError) as e:
                shown.append(printable(f"{item.path}: cannot compare: {error_text(e)}\n\n"),
                             "red")
            else:
                self.diffs.append(diff)
                shown.append_text(diff_text(diff))
                shown.append("\n")
            self.query_one("#diff-text", Static).update(shown)
        self.done = True

    def action_close(self) -> None:
        self.dismiss(None)
