"""What the Logs tab shows, with no widgets: every line received kept in a bounded LogBuffer, the
lines shown (those that pass the filter, up to where the view was paused), the number keys seen
and the chosen key's series for the chart. Lines are numbered as they arrive (`seq`, from 1), so
the shown lines and the series drop what the buffer drops, and a resume picks up exactly the
lines that came in while paused.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable
from itertools import islice

from mptui.services.logs import OUT, LogBuffer, LogLine, line_filter

MAX_KEYS = 32  # number keys offered for the chart (lines with ever new keys cannot grow it)
MAX_POINTS = 2000  # per board, the newest points of the chosen key


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
            points.append((seq, line.timestamp, value))

    def _rebuild_series(self) -> None:
        self.series.clear()
        if self.charting and self.chart_key is not None:
            for seq, line in self.shown:
                self._note_point(seq, line)
