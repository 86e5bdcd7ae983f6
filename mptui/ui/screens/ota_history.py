"""The history of OTA pushes, newest first: when, which release, fast or full, and each
board's result in plain words."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mptui.services.ota.fleet import short_name
from mptui.services.ota.history import PushRecord
from mptui.ui.ota_text import Styles, plural, result_text, stamp
from mptui.ui.safe_text import printable_text


def history_text(records: list[PushRecord], look: Styles) -> Text:
    """`records` oldest first, shown newest first."""
    if not records:
        return Text("No pushes yet.", look.muted)
    lines = []
    for record in reversed(records):
        failed = record.failed
        summary = "all ok" if not failed else f"{failed} failed"
        lines.append(Text.assemble(
            (stamp(record.when), "bold"),
            f"  release {record.version}, {'full' if record.full else 'fast'} push to "
            f"{plural(len(record.results), 'board')}: ",
            (summary, look.failed if failed else look.ok),
        ))
        width = max(len(short_name(r.board)) for r in record.results) if record.results else 0
        for result in record.results:
            line = Text(f"  {short_name(result.board):<{width}}  ")
            line.append_text(result_text(result, look, full=True))
            line.append(f" in {result.seconds:.1f} s", look.muted)
            lines.append(line)
        lines.append(Text(""))
    return Text("\n").join(lines[:-1])


class OtaHistoryScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    OtaHistoryScreen { align: center middle; }
    OtaHistoryScreen > VerticalScroll {
        width: 110; max-width: 96%; height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
        border-title-color: $primary; border-subtitle-color: $text;
    }
    OtaHistoryScreen #ota-history-where { color: $text-muted; margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,h,q", "close", "Close", id="ota-history.close"),
    ]

    def __init__(self, records: list[PushRecord], where: str = "") -> None:
        super().__init__()
        self.records = records
        self.where = where

    def compose(self) -> ComposeResult:
        scroll = VerticalScroll()
        scroll.border_title = "OTA pushes"
        scroll.border_subtitle = "Esc, h or q closes"
        with scroll:
            yield Static(printable_text(history_text(self.records, Styles.from_app(self.app))),
                         id="ota-history-list")
            if self.where:
                yield Static(Text(f"kept in {self.where}"), id="ota-history-where")

    def action_close(self) -> None:
        self.dismiss(None)
