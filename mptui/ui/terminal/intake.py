"""Board output into the terminal model without stalling the app: bytes are kept as they come
and parsed a frame at a time within a time budget, in chunks sized so that a chunk stays within
it (plain text, cheap to parse, in large chunks, and as it comes once a flood piles it up); a
flood faster than parsing skips what would scroll out of the scrollback anyway.

No Textual here: the widget calls `parse_frame()` once per frame while `pending`.
"""

from __future__ import annotations

import re
import time

from mptui.ui.terminal.model import TerminalModel

PARSE_BUDGET = 0.012  # seconds of parsing per frame; the rest is for input and drawing
CHUNK = 2048  # bytes parsed between budget checks; fewer while a chunk costs more than the
MIN_CHUNK = 128  # budget (a stream of costly sequences), so a frame stays within it
# Plain text (printable ASCII and line ends: a flood) costs little a byte on the model's fast
# path and a chunk a lot more (the screen's rows made anew): up to this much goes in one chunk.
PLAIN_CHUNK = 32768
EAGER = 8192  # bytes waiting from which plain text is parsed as it comes (not at the frame)
_NOT_PLAIN = re.compile(rb"[^\x20-\x7e\r\n]")
# A flood faster than the terminal can parse: once the backlog would take longer than this to
# parse, lines too old to stay even in the scrollback are skipped unparsed (the screen and the
# scrollback then hold the same lines as if all had been parsed, but for the oldest, which
# give way to a notice of what was skipped), then, if that is not enough (long lines, costly
# escape sequences), the oldest bytes: the screen stays current.
LAG_LIMIT = 0.1


class Intake:
    def __init__(self, model: TerminalModel) -> None:
        self.model = model
        self.received = 0  # bytes received from the board
        self.skipped = 0  # bytes skipped to catch up with a flood
        self.backlog = bytearray()
        self._parse_rate = 1e6  # bytes/s, measured while output streams in
        self._chunk = CHUNK

    @property
    def pending(self) -> int:
        """Bytes received and not yet parsed."""
        return len(self.backlog)

    def receive(self, data: bytes) -> None:
        self.received += len(data)
        self.backlog += data
        if len(self.backlog) >= EAGER:  # a flood: its plain text parsed as it comes, so that
            self._parse_plain()  # a frame (the one that shows its end) finds little to do

    def _parse_plain(self) -> None:
        """Parse up to PLAIN_CHUNK bytes if they are plain text (~1 ms). One chunk a read at
        most: a flood faster than that leaves the rest for catch_up()."""
        backlog, model = self.backlog, self.model
        if model.between_sequences and not _NOT_PLAIN.search(backlog, 0, PLAIN_CHUNK):
            chunk = bytes(backlog[:PLAIN_CHUNK])
            del backlog[:PLAIN_CHUNK]
            model.feed(chunk)

    def parse_frame(self) -> None:
        """Parse for at most PARSE_BUDGET (after catching up with a flood)."""
        start = now = time.monotonic()
        self.catch_up()
        parsed = 0
        backlog, model = self.backlog, self.model
        while backlog and now - start < PARSE_BUDGET:
            size = self._chunk
            if model.between_sequences:  # plain text, as much as PLAIN_CHUNK, in one piece
                odd = _NOT_PLAIN.search(backlog, 0, PLAIN_CHUNK)
                size = max(size, PLAIN_CHUNK if odd is None else odd.start())
            chunk = bytes(backlog[:size])
            del backlog[:size]
            model.feed(chunk)
            parsed += len(chunk)
            before, now = now, time.monotonic()
            if size == self._chunk:
                self._fit_chunk(now - before)
        spent = now - start
        if self.backlog and parsed and spent > 0:  # the budget ran out first: a true rate
            self._parse_rate = 0.7 * self._parse_rate + 0.3 * parsed / spent

    def parse_all(self) -> None:
        """Parse everything now (before a notice, a resize, a mode change)."""
        self.catch_up()
        if self.backlog:
            self.model.feed(bytes(self.backlog))
            self.backlog.clear()

    def catch_up(self) -> None:
        """When the backlog would take longer than LAG_LIMIT to parse, drop its lines that
        would scroll out of the scrollback anyway (and those the notice that says so needs);
        and if what is left would still take longer (long lines, costly escape sequences), its
        oldest bytes."""
        backlog = self.backlog
        keep = int(self._parse_rate * LAG_LIMIT)
        if len(backlog) <= keep:
            return
        model = self.model
        room = -(-len(_notice(len(backlog))) // max(1, model.columns))  # its rows, at most
        cut = len(backlog)
        for _ in range(max(1, model.scrollback + model.lines - room)):
            cut = backlog.rfind(b"\n", 0, cut)
            if cut < 0:
                break  # all of it would still be kept
        skipped = max(cut + 1, len(backlog) - max(keep, CHUNK))
        del backlog[:skipped]
        self.skipped += skipped
        model.notice(_notice(skipped))

    def _fit_chunk(self, took: float) -> None:
        if took > PARSE_BUDGET:
            self._chunk = max(MIN_CHUNK, self._chunk // 2)
        elif took < PARSE_BUDGET / 8:
            self._chunk = min(CHUNK, self._chunk * 2)


def _notice(skipped: int) -> str:
    return (f"[mptui: {skipped // 1024} KB of output went by faster than shown. "
            "Capture (F2) keeps everything.]")
