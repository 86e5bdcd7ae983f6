"""The screen under the terminal model: pyte's screen with scrollback kept, changed lines known
by their absolute number, a fast path for plain ASCII, and bounds on what hostile output can
cost. No Textual here."""

from __future__ import annotations

import unicodedata
from collections import deque
from itertools import repeat
from typing import Any

import pyte
from pyte import charsets, modes
from pyte.screens import StaticDefaultDict, wcwidth

Row = dict  # column -> pyte Char (a StaticDefaultDict: missing columns are blank)
# A plain line of the history kept as its text until read: (text, {character: its Char}, the
# blank Char); a flood's lines mostly scroll out of the scrollback unread.
Lazy = tuple[str, dict, Any]
MAX_CELL = 8  # characters a cell holds at most (a letter and its combining marks)


class ScrollbackScreen(pyte.Screen):
    """A pyte screen that keeps the lines scrolled off its top, knows which lines changed by
    their absolute number (a scroll does not make every line look changed), and draws plain
    ASCII text several times faster than pyte does, with the same result."""

    def __init__(self, columns: int, lines: int, scrollback: int) -> None:
        self.history: deque[Row | Lazy] = deque(maxlen=scrollback)
        self.scrolled = 0  # lines ever pushed into history
        self.changed: set[int] = set()  # absolute lines changed before the last scroll
        self._cells: dict = {}  # attributes -> {character: Char}; Chars are immutable
        super().__init__(columns, lines)

    def index(self) -> None:
        bottom = self.lines - 1
        margins = self.margins
        if self.cursor.y != bottom or (margins and (margins.top or margins.bottom != bottom)):
            super().index()
            return
        dirty = self.dirty
        if dirty:
            self.changed.update([self.scrolled + y for y in dirty])
            dirty.clear()
        buffer = self.buffer
        self.history.append(buffer[0])
        for y in range(bottom):
            buffer[y] = buffer[y + 1]
        buffer.pop(bottom, None)
        self.scrolled += 1
        dirty.add(bottom)  # the other lines moved up unchanged

    def plain_mode(self) -> bool:
        """Whether `draw` takes its fast path for ASCII and the screen scrolls as a whole at
        its bottom line: what `scroll_lines` needs."""
        bottom = self.lines - 1
        margins = self.margins
        return (
            not self.charset
            and self.g0_charset is charsets.LAT1_MAP
            and modes.IRM not in self.mode
            and modes.DECAWM in self.mode
            and self.cursor.y == bottom
            and not (margins and (margins.top or margins.bottom != bottom))
        )

    def scroll_lines(self, texts: list[str]) -> None:
        """Draw `texts` joined by CR LF at the bottom line (plain_mode(), each text printable
        ASCII; the first goes on the cursor's line, wrapped by draw() if it must be, each other
        fits on a line), as draw() and linefeed() would, but moving the screen's
        rows up once for all of them rather than once a line (a flood: 100,000 lines); a line
        that goes straight into the history is kept as its text (`Lazy`), made into cells only
        if it is read."""
        bottom, lines = self.lines - 1, self.lines
        buffer, cursor, dirty, changed = self.buffer, self.cursor, self.dirty, self.changed
        if texts[0]:
            self.draw(texts[0])
        chars = self._cells.setdefault(cursor.attrs, {})  # as draw() makes them
        for ch in set("".join(texts)).difference(chars):
            chars[ch] = cursor.attrs._replace(data=ch)
        blank = self.default_char
        new = len(texts) - 1
        if dirty:  # index(), as above, without moving the rows yet
            changed.update([self.scrolled + y for y in dirty])
            dirty.clear()
        first = self.scrolled + bottom + 1  # the absolute line of texts[1]
        changed.update(range(first, first + new - 1))  # the last one is dirty (below)
        self.scrolled += new
        old = [buffer[y] for y in range(new, lines)]  # what stays on the screen, moved up
        cell = chars.__getitem__
        made = []
        for text in texts[max(1, len(texts) - lines):]:  # the lines left on the screen
            row: StaticDefaultDict[int, Any] = StaticDefaultDict(blank)
            row.update(enumerate(map(cell, text)))
            made.append(row)
        gone = [buffer[y] for y in range(min(new, lines))]  # the screen's lines that leave it
        self.history.extend(gone)
        if new > lines:  # lines that go straight through the screen into the history (but
            # for those that would only push each other out of it)
            end = len(texts) - lines
            start = max(1, end - (self.history.maxlen or 0))
            self.history.extend(zip(texts[start:end], repeat(chars), repeat(blank)))
        for y, row in enumerate(old + made):
            buffer[y] = row
        cursor.x = len(texts[-1])
        dirty.add(bottom)

    def draw(self, data: str) -> None:
        if (
            self.charset
            or self.g0_charset is not charsets.LAT1_MAP
            or modes.IRM in self.mode
            or not (data.isascii() and data.isprintable())
        ):
            self._draw_any(data)
            return
        cursor, columns = self.cursor, self.columns
        template = cursor.attrs
        chars = self._cells.get(template)
        if chars is None:
            chars = self._cells[template] = {}
        pos, n = 0, len(data)
        while pos < n:
            if cursor.x >= columns:
                if modes.DECAWM not in self.mode:
                    self._draw_any(data[pos:])
                    return
                self.dirty.add(cursor.y)
                self.carriage_return()
                self.linefeed()
            line = self.buffer[cursor.y]
            x = cursor.x
            chunk = data[pos : pos + columns - x]
            for i, ch in enumerate(chunk, x):
                cell = chars.get(ch)
                if cell is None:
                    cell = chars[ch] = template._replace(data=ch)
                line[i] = cell
            cursor.x = x + len(chunk)
            pos += len(chunk)
        self.dirty.add(cursor.y)

    def _draw_any(self, data: str) -> None:
        """pyte's draw, but a character that takes no cell and combines with none (a control,
        a format character) is skipped, where pyte drops the rest of `data`, and combining marks
        stop at MAX_CELL characters a cell (pyte's grow without end, each costing more)."""
        data = data.translate(self.g1_charset if self.charset else self.g0_charset)
        cursor, columns, mode = self.cursor, self.columns, self.mode
        for char in data:
            width = wcwidth(char)
            if width <= 0:
                if width == 0 and unicodedata.combining(char):
                    self._combine(char)
                continue
            if cursor.x >= columns:
                if modes.DECAWM in mode:
                    self.dirty.add(cursor.y)
                    self.carriage_return()
                    self.linefeed()
                else:
                    cursor.x = max(0, columns - width)
            if modes.IRM in mode:
                self.insert_characters(width)
            line = self.buffer[cursor.y]
            line[cursor.x] = cursor.attrs._replace(data=char)
            if width == 2 and cursor.x + 1 < columns:
                line[cursor.x + 1] = cursor.attrs._replace(data="")  # a wide character's stub
            cursor.x = min(cursor.x + width, columns)
        self.dirty.add(cursor.y)

    def _combine(self, mark: str) -> None:
        """A combining mark joins the character before the cursor (on the line above at
        the start of a line), as in pyte."""
        x, y = self.cursor.x, self.cursor.y
        if x:
            x -= 1
        elif y:
            x, y = self.columns - 1, y - 1
        else:
            return
        line = self.buffer[y]
        cell = line[x]
        joined = unicodedata.normalize("NFC", cell.data + mark)
        if len(joined) <= MAX_CELL:
            line[x] = cell._replace(data=joined)
            self.dirty.add(y)

    def tab(self) -> None:
        super().tab()
        self.cursor.x = min(self.cursor.x, self.columns - 1)  # pyte's stops outlive a resize

    def insert_characters(self, count: int | None = None) -> None:
        """ICH: pyte's moved the line's last cell one column past the screen's end."""
        count = count or 1
        y, columns = self.cursor.y, self.columns
        line = self.buffer[y]
        for x in range(columns - 1, self.cursor.x - 1, -1):
            cell = line.pop(x, None)
            if cell is not None and x + count < columns:
                line[x + count] = cell
        self.dirty.add(y)

    def alignment_display(self) -> None:
        """DECALN (the screen filled with E) a row at a time: pyte's, a cell at a time, took
        seconds for a few hundred of them on a large screen."""
        cells = dict.fromkeys(range(self.columns), self.default_char._replace(data="E"))
        for y in range(self.lines):
            self.buffer[y].update(cells)
        self.dirty.update(range(self.lines))

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        """Shrinking keeps the cursor's line: blank lines below it go first, then the top
        lines move into history (pyte would drop them)."""
        lines = lines or self.lines
        if columns and columns != self.columns:
            super().resize(self.lines, columns)
            self.cursor.x = min(self.cursor.x, columns)  # pyte leaves it past a narrower edge
        if lines == self.lines:
            return
        if lines < self.lines:
            below = self.lines - 1 - self.cursor.y
            drop = max(0, self.lines - lines - below)
            for y in range(drop):
                self.history.append(self.buffer[y])
            self.scrolled += drop
            rows = {y - drop: row for y, row in self.buffer.items() if drop <= y < drop + lines}
            self.buffer.clear()
            self.buffer.update(rows)
            self.cursor.y = max(0, self.cursor.y - drop)
        self.lines = lines
        self.set_margins()
        self.dirty.update(range(lines))


def cells_of(lazy: Lazy) -> Row:
    """A line of the history kept as its text, as cells."""
    text, chars, blank = lazy
    row: StaticDefaultDict[int, Any] = StaticDefaultDict(blank)
    row.update(enumerate(map(chars.__getitem__, text)))
    return row

