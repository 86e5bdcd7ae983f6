"""Log lines of boards, kept on the host: the line type, turning a board's output chunks into
lines, a bounded buffer with drop counters, and the numbers in a line (`temp=24.3 hum=61`)
for plotting. No I/O here; `mptui.services.remoteio` produces the lines."""

from __future__ import annotations

import json
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

OUT, DROP, STATUS = "out", "drop", "status"
MAX_LINE = 8192  # characters; a longer line without a newline is cut into pieces


@dataclass(frozen=True)
class LogLine:
    """One line of a board's output (`kind` "out"), a note that the board dropped `dropped`
    lines for this listener ("drop"), or a connection note ("status": connected, lost, ...).
    `timestamp` is the host's clock (time.time()) when the line arrived."""

    board: str
    timestamp: float
    text: str
    kind: str = OUT
    dropped: int = 0

    def numbers(self) -> dict[str, float]:
        return numbers(self.text) if self.kind == OUT else {}


class LineSplitter:
    """A board's output chunks in, whole lines out. `\\r\\n` ends a line as `\\n` does; a lone
    `\\r` (a progress line redrawn) keeps only what follows it, as a terminal shows it."""

    def __init__(self, board: str) -> None:
        self.board = board
        self.partial = ""

    def feed(self, text: str, now: float | None = None) -> list[LogLine]:
        now = time.time() if now is None else now
        *lines, self.partial = (self.partial + text).split("\n")
        if len(self.partial) > MAX_LINE:  # whole pieces out, the rest (1 to MAX_LINE) kept
            cut = (len(self.partial) - 1) // MAX_LINE * MAX_LINE
            lines.append(self.partial[:cut])
            self.partial = self.partial[cut:]
        return [LogLine(self.board, now, _cr(piece)) for line in lines for piece in _cut(line)]

    def flush(self, now: float | None = None) -> list[LogLine]:
        """The incomplete last line, if any (the board printed without a newline)."""
        if not self.partial:
            return []
        line, self.partial = _cr(self.partial), ""
        return [LogLine(self.board, time.time() if now is None else now, line)] if line else []


def _cut(line: str) -> list[str]:
    """A line in pieces of MAX_LINE characters at most (one piece, mostly)."""
    if len(line) <= MAX_LINE:
        return [line]
    return [line[i : i + MAX_LINE] for i in range(0, len(line), MAX_LINE)]


def _cr(line: str) -> str:
    line = line.rstrip("\r")
    return line.rsplit("\r", 1)[-1] if "\r" in line else line


_NUMBER = re.compile(
    # a key of 64 characters at most: unbounded, each start in "a-a-a-..." scanned to the
    # line's end (seconds for a long line)
    r"(?<![\w.])([A-Za-z_][\w.\-]{0,63})\s*[=:]\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"(?![\d.])"
)


def numbers(text: str) -> dict[str, float]:
    """`key=value` (or `key: value`) numbers in a line: "temp=24.3C hum=61" ->
    {"temp": 24.3, "hum": 61.0} (a unit may follow; "v=1.2.3" is no number). A key seen twice
    keeps its last value."""
    return {k: float(v) for k, v in _NUMBER.findall(text)}


class LogBuffer:
    """The newest `limit` lines of any number of boards. Counters: `evicted` (lines pushed out
    by the limit), `board_dropped` (lines each board reported lost before they reached us),
    `received` (per board)."""

    def __init__(self, limit: int = 10_000) -> None:
        if limit < 1:
            raise ValueError("a log buffer holds at least one line")
        self.lines: deque[LogLine] = deque(maxlen=limit)
        self.evicted = 0
        self.board_dropped: dict[str, int] = {}
        self.received: dict[str, int] = {}

    @property
    def limit(self) -> int:
        return self.lines.maxlen or 0

    def set_limit(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a log buffer holds at least one line")
        keep = list(self.lines)[-limit:]
        self.evicted += len(self.lines) - len(keep)
        self.lines = deque(keep, maxlen=limit)

    def append(self, line: LogLine) -> None:
        if len(self.lines) == self.lines.maxlen:
            self.evicted += 1
        self.lines.append(line)
        self.received[line.board] = self.received.get(line.board, 0) + 1
        if line.kind == DROP:
            self.board_dropped[line.board] = self.board_dropped.get(line.board, 0) + line.dropped

    def extend(self, lines: Iterable[LogLine]) -> None:
        for line in lines:
            self.append(line)

    def clear(self) -> None:
        self.lines.clear()

    def __len__(self) -> int:
        return len(self.lines)

    def __iter__(self) -> Iterator[LogLine]:
        return iter(self.lines)

    def matching(self, pattern: str = "", *, regex: bool = False,
                 boards: Iterable[str] | None = None, ignore_case: bool = True) -> list[LogLine]:
        """Lines whose text contains `pattern` (or matches it as a regular expression; a bad
        one raises re.error), of the given boards (default all)."""
        return [line for line in self.lines if line_filter(pattern, regex=regex, boards=boards,
                                                          ignore_case=ignore_case)(line)]

    def series(self, key: str, board: str | None = None) -> list[tuple[float, float]]:
        """(timestamp, value) of every `key=value` in the buffer, oldest first."""
        out = []
        for line in self.lines:
            if board is None or line.board == board:
                value = line.numbers().get(key)
                if value is not None:
                    out.append((line.timestamp, value))
        return out

    def keys(self, board: str | None = None) -> list[str]:
        """The number keys seen, in order of first appearance (what a chart can plot)."""
        seen: dict[str, None] = {}
        for line in self.lines:
            if board is None or line.board == board:
                seen.update(dict.fromkeys(line.numbers()))
        return list(seen)

    def save(self, path: str | os.PathLike[str], lines: Iterable[LogLine] | None = None) -> int:
        """Write lines (default: all held) as `format_line` text; returns how many."""
        chosen = list(self.lines if lines is None else lines)
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(format_line(line) + "\n" for line in chosen)
        return len(chosen)


def line_filter(pattern: str = "", *, regex: bool = False, boards: Iterable[str] | None = None,
                ignore_case: bool = True) -> Callable[[LogLine], bool]:
    """A predicate on LogLines (the Logs tab's filter); a bad regex raises re.error."""
    wanted = set(boards) if boards is not None else None
    if regex:
        rx = re.compile(pattern, re.IGNORECASE if ignore_case else 0)

        def text_ok(text: str) -> bool:
            return rx.search(text) is not None
    else:
        needle = pattern.lower() if ignore_case else pattern

        def text_ok(text: str) -> bool:
            return needle in (text.lower() if ignore_case else text)

    def keep(line: LogLine) -> bool:
        return (wanted is None or line.board in wanted) and (not pattern or text_ok(line.text))

    return keep


def clock(timestamp: float) -> str:
    """HH:MM:SS.mmm in local time."""
    t = time.localtime(timestamp)
    return f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{int(timestamp * 1000) % 1000:03d}"


def format_line(line: LogLine) -> str:
    """`12:34:56.789 [kitchen] temp=24.3`; notes as `-- ...`."""
    text = line.text if line.kind == OUT else f"-- {line.text}"
    return f"{clock(line.timestamp)} [{line.board}] {text}"


def json_line(line: LogLine) -> str:
    return json.dumps({"board": line.board, "time": round(line.timestamp, 3), "kind": line.kind,
                       "text": line.text, **({"dropped": line.dropped} if line.dropped else {})})
