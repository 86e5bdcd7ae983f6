"""The OTA tab's table: one row per board, marked or not, with its agent and release versions,
the push under way (or its last result) and when. Columns fit the width: the result takes what
the others leave."""

from __future__ import annotations

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from mptui.services.ota.fleet import FleetBoard
from mptui.ui.ota_text import Styles, kind_words, progress_words, result_text, when
from mptui.ui.safe_text import printable_text

COLUMNS = (("board", "Board"), ("agent", "Agent"), ("release", "Release"), ("result", "Result"),
           ("when", "When"))
WHEN_WIDTH = 6
MIN_RESULT = 12
MIN_BOARD = 10
GAP = " "  # before every cell: one column between them (no cell padding: 80 columns are few)


class OtaBoardTable(DataTable):
    DEFAULT_CSS = """
    OtaBoardTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", cell_padding=0)
        self.boards: list[FleetBoard] = []
        self.marked: set[str] = set()
        self.look = Styles()
        self._widths: tuple[int, ...] = ()

    def on_mount(self) -> None:
        self.look = Styles.from_app(self.app)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme) -> None:
        self.look = Styles.from_app(self.app)
        self._rebuild()

    # -- what the tab calls -----------------------------------------------------------------

    def show_rows(self, rows: list[FleetBoard], marked: set[str]) -> None:
        """A new list of boards."""
        self.boards = list(rows)
        self.marked = marked
        self._rebuild()

    def update_rows(self, rows: list[FleetBoard]) -> None:
        """Repaint these boards' rows (their data changed)."""
        if self._column_widths() != self._widths:
            self._rebuild()
            return
        shown = self.shown_keys
        for row in rows:
            if row.key not in shown:
                continue
            for (column, _), value in zip(COLUMNS, self._cells(row), strict=True):
                self.update_cell(row.key, column, value)

    @property
    def shown_keys(self) -> set[str]:
        return {row.key.value for row in self.ordered_rows}

    @property
    def cursor_key(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value

    def move_to(self, key: str) -> None:
        if key != self.cursor_key and key in self.shown_keys:
            self.move_cursor(row=self.get_row_index(key), animate=False)

    # -- layout -----------------------------------------------------------------------------

    def on_resize(self) -> None:
        if self._column_widths() != self._widths:
            self._rebuild()

    def _column_widths(self) -> tuple[int, ...]:
        """Every column within the width (no sideways scrolling): names give up room before
        results do, down to MIN_BOARD; the lines under the table have both whole."""
        gap = len(GAP)
        agent = max([5, *(len(self._agent(r)) for r in self.boards)]) + gap
        release = max([7, *(len(self._release(r)) for r in self.boards)]) + gap
        when = WHEN_WIDTH + gap
        width = self.scrollable_content_region.width or self.size.width
        fixed = agent + release + when
        board = min(max([5, *(len(r.name) for r in self.boards)]) + 2, 40) + gap
        board = max(MIN_BOARD + gap, min(board, width - fixed - MIN_RESULT - gap))
        result = max(MIN_RESULT + gap, width - board - fixed)
        return board, agent, release, result, when

    def _rebuild(self) -> None:
        current = self.cursor_key
        self._widths = self._column_widths()
        self.clear(columns=True)
        for (key, label), width in zip(COLUMNS, self._widths, strict=True):
            self.add_column(GAP + label, width=width, key=key)
        for row in self.boards:
            self.add_row(*self._cells(row), key=row.key)
        if current is not None and current in self.shown_keys:
            self.move_cursor(row=self.get_row_index(current), animate=False)

    # -- cells ------------------------------------------------------------------------------

    def _cells(self, row: FleetBoard) -> list[Text]:
        look = self.look
        marked = row.key in self.marked
        board = Text.assemble(("■ ", look.mark) if marked else ("□ ", look.muted), row.name)
        result, time = self._result(row)
        cells = [board, Text(self._agent(row)), Text(self._release(row)), result, Text(time)]
        for cell, width in zip(cells, self._widths, strict=True):
            printable_text(cell)  # names, versions and errors come from boards
            cell.pad_left(len(GAP))
            cell.truncate(width, overflow="ellipsis")
        return cells

    @staticmethod
    def _agent(row: FleetBoard) -> str:
        if row.status is None:
            return "…" if row.checking else "—"
        return (row.status.agent or "—") if row.status.reachable else "?"

    @staticmethod
    def _release(row: FleetBoard) -> str:
        if row.status is None:
            return "…" if row.checking else "—"
        return (row.status.release or "none") if row.status.reachable else "?"

    def _result(self, row: FleetBoard) -> tuple[Text, str]:
        look = self.look
        if row.pushing:
            words = progress_words(row.progress) if row.progress else "starting…"
            return Text(words, look.busy), ""
        if row.last is not None:
            stamp, result = row.last
            return result_text(result, look), when(stamp)
        if row.status is not None and not row.status.reachable:
            words = kind_words(row.status.error_kind, row.status.error)
            return Text.assemble(("✗ ", look.failed), words), ""
        if row.checking:
            return Text("asking…", look.muted), ""
        return Text(row.note or "—", look.muted), ""
