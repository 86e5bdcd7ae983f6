"""The Logs tab: what boards print, live, from one or several boards at once (a colour each),
with the time of each line; a filter (text or /regex/), pause and resume (lines keep coming in
and are kept meanwhile), clear, save to a file, a bounded number of lines (`[logs] lines` in
the config), following the newest line or not, a live chart of a number in the lines, and calls
to a board's functions (RemoteIO).

A board with an agent streams through RemoteIO; any other board is watched at its REPL (through
the DeviceManager's session). Lines arrive in a worker as fast as boards send them (1,000 a
second is ordinary) and are shown in batches, at most every REPAINT seconds; the chart redraws
at most every CHART_REPAINT seconds. `add_lines()` is the same way in, for lines from elsewhere.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
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

from mptui.paths import data_dir
from mptui.services.events import BoardInfo
from mptui.services.log_sources import agent_target, board_lines, call_board
from mptui.services.logs import STATUS, LogLine
from mptui.services.remoteio import LogStream, agent_passwords, parse_call_args
from mptui.ui.log_feed import FilterError, LogFeed
from mptui.ui.safe_text import visible
from mptui.ui.screens.call_form import CallScreen
from mptui.ui.screens.prompt import PromptScreen
from mptui.ui.units import error_text, home_relative
from mptui.ui.widgets.log_chart import LogChart
from mptui.ui.widgets.log_view import LogView
from mptui.ui.widgets.logs_status import LogsStatus
from mptui.ui.workers import work

REPAINT = 0.1  # seconds between repaints while lines come in
CHART_REPAINT = 0.5
DEFAULT_LIMIT = 10_000


class LogsTab(Vertical):
    """Shown in the Logs tab. `show_board()` is called with the board selected in the list,
    `watch(key)` when a board is chosen for the tab."""

    BINDING_GROUP_TITLE = "Logs"
    DEFAULT_CSS = """
    LogsTab { width: 1fr; height: 1fr; }
    LogsTab > #logs-top { height: 1; background: $panel; }
    LogsTab #logs-filter { width: 1fr; min-width: 16; }
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
        self.clock = clock
        limit = manager.config.logs.lines if manager is not None else DEFAULT_LIMIT
        self.feed = LogFeed(limit)
        self.board: BoardInfo | None = None  # selected in the board list
        self.watching: dict[str, str] = {}  # board key -> name, as watched
        self.stream: LogStream | None = None
        self.problem = ""  # a bad filter, said in the status line
        self.repaints = 0
        self._pending: list[LogLine] = []
        self._repaint: Timer | None = None
        self._chart_timer: Timer | None = None
        self._chart_due = 0.0
        self._watched_once = False
        self._passwords: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="logs-top"):
            yield Input(placeholder="filter: text, or /regex/", id="logs-filter", compact=True)
            yield Static("", id="logs-boards")
        yield LogView(self.feed, id="logs-view")
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
        self.stream = LogStream(open_ended=True)
        self._consume(self.stream)
        self._show_status()
        self._show_watching()

    async def on_unmount(self) -> None:
        if self.stream is not None:
            await self.stream.close()

    def on_show(self) -> None:
        if not self._watched_once and not self.watching and self.board is not None:
            self.watch(self.board.key)  # the first time: the board selected

    # -- what the main screen calls ---------------------------------------------------------

    def show_board(self, board: BoardInfo | None) -> None:
        self.board = board

    def focus_lines(self) -> None:
        self.view.focus()

    def watch(self, key: str) -> None:
        """Stream this board here too (its agent's output, or its REPL output)."""
        if self.manager is None or self.stream is None or key in self.watching:
            return
        if self._passwords is None:
            self._passwords = agent_passwords()
        password, previous = self._passwords
        self.watching[key] = self.manager.board(key).name
        self._watched_once = True
        self.stream.add(key, board_lines(self.manager, key, password=password,
                                         fallback_password=previous))
        self._show_watching()

    @work(group="logs-unwatch")
    async def unwatch(self, key: str) -> None:
        name = self.watching.pop(key, None)
        if name is None or self.stream is None:
            return
        self._show_watching()
        await self.stream.remove(key)
        self.add_lines([LogLine(name, self.clock(), "stopped watching", STATUS)])

    # -- lines in ---------------------------------------------------------------------------

    @work(group="logs-stream")
    async def _consume(self, stream: LogStream) -> None:
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
        keys = len(self.feed.keys)
        self.feed.add(batch)
        if not self.feed.paused:
            self.view.lines_changed()
            if self.feed.charting:
                if len(self.feed.keys) != keys and self.feed.chart_key is None:
                    self.feed.choose_key(next(iter(self.feed.keys)))
                self._chart_soon(keys_changed=len(self.feed.keys) != keys)
        self._show_status()

    # -- the view ---------------------------------------------------------------------------

    def _show_status(self) -> None:
        self.query_one(LogsStatus).show(self.feed, self.view.following, self.problem)

    def _show_watching(self) -> None:
        names = [self.watching[k] for k in self.watching]
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
        try:
            self.feed.set_filter(event.value)
        except FilterError as e:
            self.problem = str(e)
            self.filter_input.add_class("-invalid")
        else:
            self.problem = ""
            self.filter_input.remove_class("-invalid")
            self.view.lines_changed(refiltered=True)
            if self.feed.charting:
                self._chart_soon(now=True)
        self._show_status()

    @on(Input.Submitted, "#logs-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.view.focus()

    # -- the chart --------------------------------------------------------------------------

    def _chart_soon(self, *, keys_changed: bool = False, now: bool = False) -> None:
        """Redraw the chart now if it was not redrawn for CHART_REPAINT, else once then."""
        if keys_changed:
            self.chart.show_keys(list(self.feed.keys), self.feed.chart_key)
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
                  for board, points in self.feed.series.items()}
        self.chart.plot(series, {board: self.view.board_colour(board).color for board in series})

    @on(LogChart.KeyChosen)
    def _key_chosen(self, event: LogChart.KeyChosen) -> None:
        self.feed.choose_key(event.key)
        self._chart_soon(now=True)

    # -- actions ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "watch":
            return self.board is not None and self.manager is not None
        if action == "watch_all":
            return self.manager is not None
        return True

    def action_focus_lines(self) -> None:
        self.view.focus()

    def action_filter(self) -> None:
        self.filter_input.focus()

    def action_pause(self) -> None:
        feed = self.feed
        if feed.paused:
            feed.resume()
            self.view.lines_changed()
            if feed.charting:
                self._chart_soon(now=True)
        else:
            feed.pause()
        self._show_status()

    def action_follow(self) -> None:
        self.view.follow(not self.view.following)

    def action_clear(self) -> None:
        self.feed.clear()
        self.view.lines_changed(refiltered=True)
        if self.feed.charting:
            self.chart.show_keys([], None)
            self._chart_soon(now=True)
        self._show_status()

    def action_chart(self) -> None:
        chart, feed = self.chart, self.feed
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
        if self.board is None:
            return
        if self.board.key in self.watching:
            self.unwatch(self.board.key)
        else:
            self.watch(self.board.key)

    def action_watch_all(self) -> None:
        for board in sorted(self.manager.boards(), key=lambda b: b.list_order):
            if board.connected or (board.agent_only and board.present):
                self.watch(board.key)

    def action_save(self) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.clock()))
        default = data_dir() / "logs" / f"logs-{stamp}.log"

        def chosen(text: str | None) -> None:
            if text:
                self.save(Path(text).expanduser(), default.parent)

        self.app.push_screen(PromptScreen("Save the lines (filter applied) to:", str(default)),
                             chosen)

    @work(group="logs-save")
    async def save(self, path: Path, default_folder: Path | None = None) -> None:
        lines = self.feed.matching()
        try:
            if default_folder is not None and path.parent == default_folder:
                default_folder.mkdir(parents=True, exist_ok=True)
            count = await asyncio.to_thread(self.feed.buffer.save, path, lines)
        except OSError as e:
            self.app.notify(f"save: {error_text(e)}", severity="error", timeout=10)
            return
        self.app.notify(f"{count:,} lines saved to {home_relative(str(path))}")

    def action_call(self) -> None:
        boards = self._agent_boards()
        selected = self.board.name if self.board is not None and self.board.name in boards else ""
        self.app.push_screen(CallScreen(boards, selected or (boards[0] if boards else ""),
                                        self.call))

    def _agent_boards(self) -> list[str]:
        """Names of the boards that can be called (their agent is reachable), watched first."""
        if self.manager is None:
            return []
        boards = sorted(self.manager.boards(),
                        key=lambda b: (b.key not in self.watching, b.list_order))
        return [b.name for b in boards
                if agent_target(b, self.manager.resolver) is not None and b.present]

    async def call(self, board: str, name: str, args: str):
        """A call from the form: the result, or RemoteIOError / ValueError (said in words)."""
        if self.manager is None:
            raise ValueError("no boards here")
        if self._passwords is None:
            self._passwords = agent_passwords()
        password, previous = self._passwords
        return await call_board(self.manager, board, name, parse_call_args(args),
                                password=password, fallback_password=previous)
