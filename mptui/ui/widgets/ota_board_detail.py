"""Under the OTA table: everything about the board under the cursor, in words: what it runs,
the phases of the push under way (files, bytes), and its last result with the error in full."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from mptui.services.ota.fleet import FleetBoard
from mptui.ui.ota_text import Styles, plural, progress_words, result_text, stamp, trail
from mptui.ui.safe_text import printable_text


class OtaBoardDetail(Static):
    DEFAULT_CSS = """
    OtaBoardDetail {
        height: auto;
        max-height: 6;
        padding: 0 1;
        border-top: hkey $panel;
    }
    """

    def show_board(self, row: FleetBoard | None, look: Styles) -> None:
        if row is None:
            self.update("")
            return
        lines = [self._board_line(row, look)]
        if row.phases and "install" in row.phases:
            lines.append(Text(progress_words(row.progress), look.busy))
        elif row.phases:
            lines.append(trail(row.phases, row.progress, look))
        if row.last is not None and not row.pushing:
            when, result = row.last
            lines.append(Text.assemble(f"last push {stamp(when)}: ",
                                       result_text(result, look, full=True)))
        self.update(printable_text(Text("\n").join(lines)))

    @staticmethod
    def _board_line(row: FleetBoard, look: Styles) -> Text:
        line = Text(row.name, "bold")
        if row.key != row.name:
            line.append(f" ({row.key})", look.muted)
        line.append(": ")
        status = row.status
        if row.checking:
            line.append("asking…", look.muted)
        elif status is not None and status.reachable:
            line.append(f"agent {status.agent or '?'}, release {status.release or 'none'}")
            if status.previous:
                line.append(f" (previous {status.previous})")
            if not status.good:
                line.append(f", on trial ({plural(status.unclean_boots, 'unclean boot')})",
                            look.busy)
            if status.last:
                line.append(f"; {status.last}", look.muted)
        elif status is not None:
            line.append(status.error, look.failed)
            if status.error_kind == "no-agent" and row.manager_key:
                line.append(" (i installs it)", look.muted)
        else:
            line.append(row.note or "not asked yet", look.muted)
        return line
