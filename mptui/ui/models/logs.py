"""The Logs tab's model, with no widgets.

`LogFeed`: what the tab shows. Every line received kept in a bounded LogBuffer, the lines shown
(those that pass the filter, up to where the view was paused), the number keys seen and the
chosen key's series for the chart. Lines are numbered as they arrive (`seq`, from 1), so the
shown lines and the series drop what the buffer drops, and a resume picks up exactly the lines
that came in while paused.

`LogsModel`: the feed, following the newest line or not, a bad filter's problem, the boards
watched and the one stream their lines come through, calls to boards' functions, saving.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from itertools import islice
from pathlib import Path

from mptui.paths import data_dir
from mptui.services.events import BoardInfo
from mptui.services.log_sources import agent_target, board_lines, call_board
from mptui.services.logs import OUT, STATUS, LogBuffer, LogLine, line_filter
from mptui.services.remoteio import LogStream, agent_passwords, parse_call_args

MAX_KEYS = 32  # number keys offered for the chart (lines with ever new keys cannot grow it)
MAX_POINTS = 2000  # per board, the newest points of the chosen key
DEFAULT_LIMIT = 10_000


class FilterError(ValueError):
    """A filter that is not a valid regular expression (the message says why)."""


def parse_filter(text: str) -> tuple[str, bool]:
    """'temp' -> ('temp', False); '/temp=2\\d/' -> ('temp=2\\d', True): text between slashes
    is a regular expression. FilterError for a bad one."""
    if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
        pattern = text[1:-1]
        try:
            re.compile(pattern)
        except re.error as e:
            raise FilterError(f"bad regular expression: {e}") from None
        return pattern, True
    return text, False


class LogFeed:
    def __init__(self, limit: int) -> None:
        self.buffer = LogBuffer(limit)
        self.seq = 0  # lines received so far (the newest line's number)
        self.shown: deque[tuple[int, LogLine]] = deque()
        self.shown_upto = 0  # the last line considered for showing (less than seq while paused)
        self.trimmed = 0  # shown lines dropped from the top since the last refilter
        self.paused = False
        self.filter_text = ""
        self._keep: Callable[[LogLine], bool] = line_filter("")
        self.boards: dict[str, int] = {}  # board -> its colour number, in order of arrival
        self.keys: dict[str, None] = {}  # number keys seen, in order (while charting)
        self.chart_key: str | None = None
        self.series: dict[str, deque[tuple[int, float, float]]] = {}  # board -> (seq, t, value)
        self.charting = False  # keys and series are kept up to date (the chart is open)

    # -- lines in ---------------------------------------------------------------------------

    def add(self, lines: Iterable[LogLine]) -> None:
        lines = list(lines)
        if not lines:
            return
        for line in lines:
            if line.board not in self.boards:
                self.board_number(line.board)
        self.buffer.extend(lines)
        self.seq += len(lines)
        if self.charting:
            for line in lines:
                self._note_keys(line)
        if not self.paused:
            self._show_new()
        self._trim()

    def board_number(self, board: str) -> int:
        """The board's number (for its colour): boards are numbered as they first appear."""
        return self.boards.setdefault(board, len(self.boards))

    @property
    def oldest(self) -> int:
        """The number of the oldest line the buffer still holds."""
        return self.seq - len(self.buffer) + 1

    def _held(self, after: int) -> Iterable[tuple[int, LogLine]]:
        """(seq, line) of the held lines numbered above `after`."""
        first = max(after + 1, self.oldest)
        start = first - self.oldest
        return enumerate(islice(self.buffer.lines, start, None), first)

    def _show_new(self) -> None:
        for seq, line in self._held(self.shown_upto):
            if self._keep(line):
                self.shown.append((seq, line))
                if self.charting:
                    self._note_point(seq, line)
        self.shown_upto = self.seq

    def _trim(self) -> None:
        oldest = self.oldest
        while self.shown and self.shown[0][0] < oldest:
            self.shown.popleft()
            self.trimmed += 1
        for points in self.series.values():
            while points and points[0][0] < oldest:
                points.popleft()

    # -- what is shown ----------------------------------------------------------------------

    @property
    def held(self) -> int:
        """Lines received while paused, not shown yet."""
        return self.seq - self.shown_upto

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        self._show_new()

    def set_filter(self, text: str) -> None:
        """Show only lines containing `text` (any case), or matching /regex/; FilterError
        (the filter unchanged) for a bad regular expression."""
        pattern, regex = parse_filter(text)
        self.filter_text = text
        self._keep = line_filter(pattern, regex=regex)
        self.refilter()

    def refilter(self) -> None:
        self.shown.clear()
        self.trimmed = 0
        upto = self.shown_upto
        self.shown.extend((seq, line) for seq, line in self._held(0)
                          if seq <= upto and self._keep(line))
        self._rebuild_series()

    def clear(self) -> None:
        """Forget every line (the counters of lines received and lost stay)."""
        self.buffer.clear()
        self.shown.clear()
        self.shown_upto = self.seq
        self.trimmed = 0
        self.keys.clear()
        self.series.clear()

    def matching(self) -> list[LogLine]:
        """Every held line that passes the filter, those held while paused too (to save)."""
        return [line for line in self.buffer if self._keep(line)]

    # -- the chart --------------------------------------------------------------------------

    def start_chart(self) -> list[str]:
        """Keep number keys and the chosen key's series up to date from now on; returns the
        keys seen in the held lines."""
        self.charting = True
        self.keys.clear()
        for line in self.buffer:
            self._note_keys(line)
        self._rebuild_series()
        return list(self.keys)

    def stop_chart(self) -> None:
        self.charting = False
        self.series.clear()

    def choose_key(self, key: str | None) -> None:
        self.chart_key = key
        self._rebuild_series()

    def _note_keys(self, line: LogLine) -> None:
        if len(self.keys) < MAX_KEYS and line.kind == OUT:
            for key in line.numbers():
                if len(self.keys) < MAX_KEYS:
                    self.keys.setdefault(key, None)

    def _note_point(self, seq: int, line: LogLine) -> None:
        key = self.chart_key
        if key is None:
            return
        value = line.numbers().get(key)
        if value is not None:
            points = self.series.get(line.board)
            if points is None:
                points = self.series[line.board] = deque(maxlen=MAX_POINTS)
            if points and line.timestamp <= points[-1][1]:
                # lines that came together have one time: one point, the newest value (a
                # chart of them all would draw a line down and up at one instant)
                points[-1] = (seq, points[-1][1], value)
            else:
                points.append((seq, line.timestamp, value))

    def _rebuild_series(self) -> None:
        self.series.clear()
        if self.charting and self.chart_key is not None:
            for seq, line in self.shown:
                self._note_point(seq, line)


class LogsModel:
    def __init__(self, manager=None, *, clock: Callable[[], float] = time.time) -> None:
        self.manager = manager
        self.clock = clock
        self.feed = LogFeed(manager.config.logs.lines if manager is not None else DEFAULT_LIMIT)
        self.following = True  # the view keeps the newest line in sight
        self.problem = ""  # a bad filter, said in the status line
        self.board: BoardInfo | None = None  # selected in the board list
        self.watching: dict[str, str] = {}  # board key -> name, as watched
        self.watched_once = False
        self.stream: LogStream | None = None
        self._passwords: tuple[str, str] | None = None

    def open(self) -> AsyncIterator[LogLine]:
        """The stream every watched board's lines come through, as they come."""
        self.stream = LogStream(open_ended=True)
        return self.stream

    async def close(self) -> None:
        if self.stream is not None:
            await self.stream.close()

    # -- the view ---------------------------------------------------------------------------

    def set_filter(self, text: str) -> bool:
        """False (the problem said, the filter as it was) for a bad regular expression."""
        try:
            self.feed.set_filter(text)
        except FilterError as e:
            self.problem = str(e)
            return False
        self.problem = ""
        return True

    def toggle_pause(self) -> bool:
        """Pause, or resume: True when resumed (the lines held come into view)."""
        if self.feed.paused:
            self.feed.resume()
            return True
        self.feed.pause()
        return False

    # -- the boards watched -----------------------------------------------------------------

    def _agent_passwords(self) -> tuple[str, str]:
        if self._passwords is None:
            self._passwords = agent_passwords()
        return self._passwords

    def watch(self, key: str) -> bool:
        """Stream this board here too (its agent's output, or its REPL output); False if it
        is watched already (or there is nothing to watch with)."""
        if self.manager is None or self.stream is None or key in self.watching:
            return False
        password, previous = self._agent_passwords()
        self.watching[key] = self.manager.board(key).name
        self.watched_once = True
        self.stream.add(key, board_lines(self.manager, key, password=password,
                                         fallback_password=previous))
        return True

    def unwatch(self, key: str) -> Awaitable[LogLine] | None:
        """Stop streaming the board (off the list now): the line that says so once its stream
        is closed. None when it was not watched."""
        name = self.watching.pop(key, None)
        if name is None or self.stream is None:
            return None
        return self._stopped(key, name)

    async def _stopped(self, key: str, name: str) -> LogLine:
        await self.stream.remove(key)
        return LogLine(name, self.clock(), "stopped watching", STATUS)

    def first_watch(self) -> str | None:
        """The board to watch the first time the tab is shown (the one selected)."""
        if self.watched_once or self.watching or self.board is None:
            return None
        return self.board.key

    def all_to_watch(self) -> list[str]:
        """Every connected board and every board announcing itself, in the list's order."""
        if self.manager is None:
            return []
        return [board.key for board in sorted(self.manager.boards(), key=lambda b: b.list_order)
                if board.connected or (board.agent_only and board.present)]

    # -- calls and saving -------------------------------------------------------------------

    def callable_boards(self) -> list[str]:
        """Names of the boards that can be called (their agent is reachable), watched first."""
        if self.manager is None:
            return []
        boards = sorted(self.manager.boards(),
                        key=lambda b: (b.key not in self.watching, b.list_order))
        return [b.name for b in boards
                if agent_target(b, self.manager.resolver) is not None and b.present]

    def call_default(self, boards: list[str]) -> str:
        """The board the call form offers first: the selected one if it can be called."""
        if self.board is not None and self.board.name in boards:
            return self.board.name
        return boards[0] if boards else ""

    async def call(self, board: str, name: str, args: str):
        """A call from the form: the result, or RemoteIOError / ValueError (said in words)."""
        if self.manager is None:
            raise ValueError("no boards here")
        password, previous = self._agent_passwords()
        return await call_board(self.manager, board, name, parse_call_args(args),
                                password=password, fallback_password=previous)

    def save_path(self) -> Path:
        """Where the lines are saved unless the user says otherwise."""
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.clock()))
        return data_dir() / "logs" / f"logs-{stamp}.log"

    async def save(self, path: Path, default_folder: Path | None = None) -> int:
        """Save the lines that pass the filter (those held by a pause too); how many. The
        default folder is made when needed. OSError when it cannot be written."""
        lines = self.feed.matching()
        if default_folder is not None and path.parent == default_folder:
            await asyncio.to_thread(default_folder.mkdir, parents=True, exist_ok=True)
        return await asyncio.to_thread(self.feed.buffer.save, path, lines)
