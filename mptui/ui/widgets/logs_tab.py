"""The Logs tab: what boards print, live, from one or several boards at once (a colour each),
with the time of each line; a filter (text or /regex/), pause and resume (lines keep coming in
and are kept meanwhile), clear, save to a file, a bounded number of lines (`[logs] lines` in
the config), following the newest line or not, a live chart of a number in the lines, and calls
to a board's functions (RemoteIO).

Its state and decisions are a LogsModel (mptui.ui.models.logs): the lines, filter, pause,
follow, chart series, the boards watched. A board with an agent streams through RemoteIO; any
other board is watched at its REPL (through the DeviceManager's session). Lines arrive in a
worker as fast as boards send them (1,000 a second is ordinary) and are shown in batches, at most
every REPAINT seconds; the chart redraws at most every CHART_REPAINT seconds. `add_lines()` is
the same way in, for lines from elsewhere.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, Callable, Iterable
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.style import Style
from textual.timer import Timer
from textual.widgets import Input, Static

from mptui.services.events import BoardInfo
from mptui.services.logs import LogLine
from mptui.ui.models.logs import LogsModel
from mptui.ui.safe_text import visible
from mptui.ui.screens.call_form import CallScreen
from mptui.ui.screens.prompt import PromptScreen
from mptui.ui.tab import TabContent
from mptui.ui.units import error_text, home_relative
from mptui.ui.widgets.log_chart import LogChart
from mptui.ui.widgets.log_view import LogView
from mptui.ui.widgets.logs_status import LogsStatus
from mptui.ui.workers import work

REPAINT = 0.1  # seconds between repaints while lines come in
CHART_REPAINT = 0.5


class LogsTab(TabContent, Vertical):
    """Shown in the Logs tab. `show_board()` is called with the board selected in the list,
    `watch(key)` when a board is chosen for the tab."""

    BINDING_GROUP_TITLE = "Logs"
    DEFAULT_CSS = """
    LogsTab { width: 1fr; height: 1fr; }
    LogsTab > #logs-top { height: 1; background: $panel; }
    LogsTab #logs-filter { width: 1fr; min-width: 16; }
    LogsTab #logs-filter:focus { background: $primary 35%; }
    LogsTab #logs-filter.-invalid { color: $error; }
    LogsTab #logs-boards { width: auto; max-width: 60%; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="logs.filter",
                tooltip="Filter the lines: text (any case), or /regex/"),
        Binding("p", "pause", "Pause", id="logs.pause",
                tooltip="Pause the view (lines still come in and are kept); again: resume"),
        Binding("F", "follow", "Follow", show=False, id="logs.follow",
                tooltip="Follow the newest line (scrolling up stops following); again: stop"),
        Binding("g", "chart", "Chart", id="logs.chart",
                tooltip="Chart a number in the lines (key=value), live; again: close the chart"),
        Binding("w", "watch", "Watch", id="logs.watch",
                tooltip="Watch the board selected on the left here too; again: stop watching it"),
        Binding("asterisk", "watch_all", "Watch all", show=False, id="logs.watch-all",
                tooltip="Watch every connected board and every board announcing itself"),
        Binding("ctrl+l", "clear", "Clear", show=False, id="logs.clear",
                tooltip="Clear the lines"),
        Binding("ctrl+s", "save", "Save", show=False, id="logs.save",
                tooltip="Save the lines that pass the filter (those held by a pause too) "
                        "to a file"),
        Binding("C", "call", "Call", show=False, id="logs.call",
                tooltip="Call a function on a board (RemoteIO), with key=value arguments"),
        Binding("escape", "focus_lines", "Lines", show=False, id="logs.lines",
                tooltip="Back to the lines (from the filter or the chart)"),
    ]

    def __init__(self, manager=None, *, id: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(id=id)
        self.manager = manager
        self.model = LogsModel(manager, clock=clock)
        self.repaints = 0
        self._pending: list[LogLine] = []
        self._repaint: Timer | None = None
        self._chart_timer: Timer | None = None
        self._chart_due = 0.0

    def compose(self) -> ComposeResult:
        with Horizontal(id="logs-top"):
            yield Input(placeholder="filter: text, or /regex/", id="logs-filter", compact=True)
            yield Static("", id="logs-boards")
        yield LogView(self.model, id="logs-view")
        yield LogChart(id="logs-chart")
        yield LogsStatus(id="logs-status")

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    @property
    def chart(self) -> LogChart:
        return self.query_one(LogChart)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#logs-filter", Input)

    def on_mount(self) -> None:
        if not (self.query(LogsStatus) and self.query("#logs-boards") and self.query(LogView)):
            return  # the app quit as the tab was made: its parts never came
        self._consume(self.model.open())
        self._show_status()
        self._show_watching()

    async def on_unmount(self) -> None:
        await self.model.close()

    def on_show(self) -> None:
        key = self.model.first_watch()
        if key is not None:
            self.watch_board(key)  # the first time: the board selected

    # -- what the main screen calls ---------------------------------------------------------

    def show_board(self, board: BoardInfo | None) -> None:
        self.model.board = board

    def focus_tab(self) -> None:
        self.view.focus()

    def board_chosen(self, key: str) -> bool:
        """A board chosen for this tab: its lines come here too."""
        self.watch_board(key)
        return True

    def watch_board(self, key: str) -> None:
        """Stream this board here too (its agent's output, or its REPL output)."""
        if self.model.watch(key):
            self._show_watching()

    @work(group="logs-unwatch")
    async def unwatch(self, key: str) -> None:
        said = self.model.unwatch(key)  # off the list at once
        if said is not None:
            self._show_watching()
            self.add_lines([await said])

    # -- lines in ---------------------------------------------------------------------------

    @work(group="logs-stream")
    async def _consume(self, stream: AsyncIterable[LogLine]) -> None:
        pending = self._pending
        async for line in stream:
            pending.append(line)
            if self._repaint is None:
                self._repaint = self.set_timer(REPAINT, self._flush)

    def add_lines(self, lines: Iterable[LogLine]) -> None:
        """Lines to show (with the next repaint), as if a board had sent them."""
        self._pending.extend(lines)
        if self._repaint is None:
            self._repaint = self.set_timer(REPAINT, self._flush)

    def flush(self) -> None:
        """Show what came in now, not at the next repaint."""
        if self._repaint is not None:
            self._repaint.stop()
        self._flush()

    def _flush(self) -> None:
        self._repaint = None
        batch = self._pending[:]
        self._pending.clear()
        self.repaints += 1
        keys = len(self.model.feed.keys)
        self.model.feed.add(batch)
        if not self.model.feed.paused:
            self.view.lines_changed()
            if self.model.feed.charting:
                if len(self.model.feed.keys) != keys and self.model.feed.chart_key is None:
                    self.model.feed.choose_key(next(iter(self.model.feed.keys)))
                self._chart_soon(keys_changed=len(self.model.feed.keys) != keys)
        self._show_status()

    # -- the view ---------------------------------------------------------------------------

    def _show_status(self) -> None:
        self.query_one(LogsStatus).show(self.model)

    def _show_watching(self) -> None:
        names = list(self.model.watching.values())
        boards = self.query_one("#logs-boards", Static)
        if not names:
            boards.update(Content.styled("w: watch the selected board",
                                         "$text-muted"))
            return
        parts = [Content.styled(f"● {visible(name)}",
                                Style.from_rich_style(self.view.board_colour(name)))
                 for name in names]
        boards.update(Content(" ").join(parts))

    @on(LogView.FollowChanged)
    def _follow_changed(self) -> None:
        self._show_status()

    @on(Input.Changed, "#logs-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.model.set_filter(event.value):
            self.filter_input.remove_class("-invalid")
            self.view.lines_changed(refiltered=True)
            if self.model.feed.charting:
                self._chart_soon(now=True)
        else:
            self.filter_input.add_class("-invalid")
        self._show_status()

    @on(Input.Submitted, "#logs-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.view.focus()

    # -- the chart --------------------------------------------------------------------------

    def _chart_soon(self, *, keys_changed: bool = False, now: bool = False) -> None:
        """Redraw the chart now if it was not redrawn for CHART_REPAINT, else once then."""
        if keys_changed:
            self.chart.show_keys(list(self.model.feed.keys), self.model.feed.chart_key)
        wait = 0.0 if now else self._chart_due - time.monotonic()
        if wait <= 0:
            self._draw_chart()
        elif self._chart_timer is None:
            self._chart_timer = self.set_timer(wait, self._draw_chart)

    def _draw_chart(self) -> None:
        if self._chart_timer is not None:
            self._chart_timer.stop()
            self._chart_timer = None
        self._chart_due = time.monotonic() + CHART_REPAINT
        series = {board: [(t, v) for _, t, v in points]
                  for board, points in self.model.feed.series.items()}
        self.chart.plot(series, {board: self.view.board_colour(board).color for board in series})

    @on(LogChart.KeyChosen)
    def _key_chosen(self, event: LogChart.KeyChosen) -> None:
        self.model.feed.choose_key(event.key)
        self._chart_soon(now=True)

    # -- actions ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "watch":
            return self.model.board is not None and self.manager is not None
        if action == "watch_all":
            return self.manager is not None
        return True

    def action_focus_lines(self) -> None:
        self.view.focus()

    def action_filter(self) -> None:
        self.filter_input.focus()

    def action_pause(self) -> None:
        if self.model.toggle_pause():
            self.view.lines_changed()
            if self.model.feed.charting:
                self._chart_soon(now=True)
        self._show_status()

    def action_follow(self) -> None:
        self.view.follow(not self.model.following)

    def action_clear(self) -> None:
        self.model.feed.clear()
        self.view.lines_changed(refiltered=True)
        if self.model.feed.charting:
            self.chart.show_keys([], None)
            self._chart_soon(now=True)
        self._show_status()

    def action_chart(self) -> None:
        chart, feed = self.chart, self.model.feed
        self.view.keep_end_after_layout()
        if chart.has_class("-open"):
            feed.stop_chart()
            chart.remove_class("-open")
            self.view.focus()
            return
        keys = feed.start_chart()
        if feed.chart_key not in keys:
            feed.choose_key(keys[0] if keys else None)
        chart.add_class("-open")
        chart.show_keys(keys, feed.chart_key)
        self._chart_soon(now=True)
        chart.select.focus()

    def action_watch(self) -> None:
        board = self.model.board
        if board is None:
            return
        if board.key in self.model.watching:
            self.unwatch(board.key)
        else:
            self.watch_board(board.key)

    def action_watch_all(self) -> None:
        for key in self.model.all_to_watch():
            self.watch_board(key)

    def action_save(self) -> None:
        default = self.model.save_path()

        def chosen(text: str | None) -> None:
            if text:
                self.save(Path(text).expanduser(), default.parent)

        self.app.push_screen(PromptScreen("Save the lines (filter applied) to:", str(default)),
                             chosen)

    @work(group="logs-save")
    async def save(self, path: Path, default_folder: Path | None = None) -> None:
        try:
            count = await self.model.save(path, default_folder)
        except OSError as e:
            self.app.notify(f"save: {error_text(e)}", severity="error", timeout=10)
            return
        self.app.notify(f"{count:,} lines saved to {home_relative(str(path))}")

    def action_call(self) -> None:
        boards = self.model.callable_boards()
        self.app.push_screen(CallScreen(boards, self.model.call_default(boards), self.model.call))
