"""Run on marked boards: one piece of code, every marked board at once (services/broadcast.py),
a row per board with its state, time and error or last line of output, and under the table the
highlighted board's whole output and traceback."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static

from mptui.services.broadcast import DONE, ENDED, FAILED, LOST, WAITING, BoardRun, broadcast
from mptui.ui.safe_text import fit, printable, visible
from mptui.ui.workers import work

_STATE_STYLE = {DONE: "green", FAILED: "red", LOST: "red"}
COLUMNS = ("Board", "State", "Time", "Result")


def result_line(run: BoardRun) -> str:
    """What the Result column says: the error, else the last line of output."""
    if run.error:
        return run.error
    lines = bytes(run.output).decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else ""


class BroadcastScreen(ModalScreen[None]):
    """Type code, Enter runs it on `keys` (the marked boards); Escape stops a run under way
    (Ctrl-C to each board), else closes."""

    DEFAULT_CSS = """
    BroadcastScreen { align: center middle; }
    BroadcastScreen > Vertical {
        width: 100%; max-width: 140; height: 100%; max-height: 40;
        border: round $primary; background: $surface; padding: 0 1;
        border-title-color: $primary; border-subtitle-color: $text-muted;
    }
    BroadcastScreen #broadcast-code { margin-bottom: 1; }
    BroadcastScreen #broadcast-runs { height: auto; max-height: 12; }
    BroadcastScreen #broadcast-scroll { height: 1fr; border-top: solid $panel; }
    BroadcastScreen #broadcast-output { width: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Stop or close", id="broadcast.close",
                tooltip="Stop the code on every board still running it; else close"),
    ]

    def __init__(self, manager, keys: list[str], code: str = "") -> None:
        super().__init__()
        self.manager = manager
        self.keys = list(keys)
        self.code = code
        self.runs: dict[str, BoardRun] = {
            key: BoardRun(key, manager.board(key).name) for key in self.keys}
        self.shown: str | None = self.keys[0] if self.keys else None
        self._dirty: set[str] = set()

    def compose(self) -> ComposeResult:
        box = Vertical()
        box.border_title = f"Run on {len(self.keys)} board{'s' if len(self.keys) != 1 else ''}"
        box.border_subtitle = "Enter: run · ↑↓: a board's output · Esc: stop, close"
        with box:
            yield Input(self.code, placeholder="Python code to run on every board",
                        id="broadcast-code")
            yield DataTable(id="broadcast-runs", cursor_type="row", zebra_stripes=False)
            with VerticalScroll(id="broadcast-scroll"):
                yield Static("", id="broadcast-output", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        for key, run in self.runs.items():
            table.add_row(*self._cells(run), key=key)
        self.query_one(Input).focus()

    def _cells(self, run: BoardRun) -> tuple:
        width = max(20, self.size.width - 50)
        time_text = f"{run.elapsed:.2f} s" if run.started else ""
        return (fit(printable(run.name), 22), Text(run.state, _STATE_STYLE.get(run.state, "")),
                time_text, fit(visible(result_line(run)), width))

    # -- running ----------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip() and not self.running:
            self.run_code(event.value)

    @property
    def running(self) -> bool:
        return any(run.state not in (*ENDED, WAITING) for run in self.runs.values())

    @work(exclusive=True, group="broadcast", label="Run on boards")
    async def run_code(self, code: str) -> None:
        self.runs = {key: BoardRun(key, run.name) for key, run in self.runs.items()}
        self._changed(*self.runs.values())
        ticker = self.set_interval(0.5, lambda: self._changed(
            *(r for r in self.runs.values() if r.state not in ENDED)))
        try:
            done = await broadcast(self.manager, self.keys, code,
                                   on_change=self._adopt, on_output=lambda run, _: self._changed(run))
        finally:
            ticker.stop()
        self._changed(*done)

    def _adopt(self, run: BoardRun) -> None:
        """The service's own run objects replace the placeholders as they start."""
        self.runs[run.key] = run
        self._changed(run)

    def _changed(self, *runs: BoardRun) -> None:
        """Redraw these boards' rows (once per refresh, however often output comes)."""
        if not self._dirty:
            self.call_later(self._redraw)
        self._dirty.update(run.key for run in runs)

    def _redraw(self) -> None:
        table = self.query_one(DataTable)
        for key in self._dirty:
            for column, cell in zip(COLUMNS, self._cells(self.runs[key]), strict=True):
                table.update_cell(key, column, cell, update_width=True)
        if self.shown in self._dirty:
            self._show_output()
        self._dirty.clear()

    # -- a board's output -------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.shown = event.row_key.value
        self._show_output()

    def _show_output(self) -> None:
        run = self.runs.get(self.shown or "")
        if run is None:
            return
        text = Text(f"{printable(run.name)}: {run.summary.removeprefix(run.name + ': ')}\n",
                    style="bold")
        out = bytes(run.output).decode("utf-8", "replace").replace("\r\n", "\n")
        text.append(printable(out, keep="\n"))
        if run.traceback:
            text.append(printable(run.traceback.replace("\r\n", "\n"), keep="\n"), style="red")
        self.query_one("#broadcast-output", Static).update(text)

    async def action_close(self) -> None:
        """Esc: while boards run the code, Ctrl-C to each (the screen stays to show how they
        ended); else close."""
        if not self.running:
            self.dismiss(None)
            return
        for run in self.runs.values():
            session = self.manager.session(run.key)
            if run.state not in ENDED and session is not None:
                await session.interrupt()
