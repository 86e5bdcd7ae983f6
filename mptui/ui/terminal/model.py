"""The terminal model behind the REPL widget: a VT100/xterm screen (pyte) with scrollback.

No Textual here: feed it the board's bytes, read rows back. Lines are addressed by an
absolute number that never changes while the line exists: history lines first, then the
screen (`first_line` is the oldest line kept, `screen_top` the screen's first line).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import deque
from itertools import repeat
from typing import Any

import pyte
from pyte import charsets, modes
from pyte.screens import StaticDefaultDict, wcwidth

logger = logging.getLogger(__name__)

# Bytes shown as they are when hex display is on: printable ASCII and the controls that shape
# the text (backspace, tab, newline, carriage return, escape sequences).
_SHOWN = bytes([8, 9, 10, 13, 27, *range(32, 127)])
Row = dict  # column -> pyte Char (a StaticDefaultDict: missing columns are blank)
# A plain line of the history kept as its text until read: (text, {character: its Char}, the
# blank Char); a flood's lines mostly scroll out of the scrollback unread.
Lazy = tuple[str, dict, Any]
# Output that is only printable ASCII and line ends skips pyte's parser (a flood, mostly).
_PLAIN = re.compile(r"[\x20-\x7e\r\n]*\Z")
_LINE_ENDS = re.compile(r"(\r\n|\r|\n)")
# Bounds on what hostile output can cost: an escape sequence longer than this (a title never
# ended, a million-digit parameter) is dropped; a cell holds at most MAX_CELL characters (a
# letter and its combining marks). pyte already caps each parameter at 9999.
MAX_SEQUENCE = 4096
MAX_CELL = 8


def escape_non_printable(data: bytes) -> bytes:
    """Other bytes become their two hex digits in reverse video, as mpremote's
    --escape-non-printable shows them."""
    if not data.translate(None, _SHOWN):
        return data
    out = bytearray()
    for b in data:
        if b in _SHOWN:
            out.append(b)
        else:
            out += b"\x1b[7m%02x\x1b[27m" % b
    return bytes(out)


class _Screen(pyte.Screen):
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
        ASCII that fits on its line), as draw() and linefeed() would, but moving the screen's
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


def _made(lazy: Lazy) -> Row:
    """A line of the history kept as its text, as cells."""
    text, chars, blank = lazy
    row: StaticDefaultDict[int, Any] = StaticDefaultDict(blank)
    row.update(enumerate(map(chars.__getitem__, text)))
    return row


class _Stream(pyte.ByteStream):
    r"""pyte's byte stream, safe for any input: a sequence pyte fails on (a parameter it cannot
    read, such as `\x1b[\u00b9m`, one its screen method refuses, such as `\x1b[1;2A`) is
    dropped and parsing goes on with the next character, as a terminal ignores what it does not
    know; so is a sequence longer than MAX_SEQUENCE characters."""

    def __init__(self, screen: _Screen) -> None:
        super().__init__(screen)
        self.sequence = 0  # characters of the escape sequence being parsed

    # pyte's Stream.feed, with the above (bytes, as pyte's own ByteStream.feed takes)
    def feed(self, data: bytes) -> None:  # type: ignore[override]
        if self.listener is None:  # (attached at construction)
            return
        text = self.utf8_decoder.decode(data) if self.use_utf8 else data.decode("latin-1")
        draw = self.listener.draw
        match_text = self._text_pattern.match
        plain = self._taking_plain_text
        offset, length = 0, len(text)
        while offset < length:
            try:
                if plain:
                    match = match_text(text, offset)
                    if match:
                        start, offset = match.span()
                        draw(text[start:offset])
                        continue
                offset += 1
                plain = self._parser.send(text[offset - 1]) if self._parser else True
                if plain:
                    self.sequence = 0
                else:
                    self.sequence += 1
                    if self.sequence > MAX_SEQUENCE:
                        self._restart()
                        plain = True
            except Exception:  # whatever pyte raises on, it must go on
                logger.debug("the terminal parser failed; restarted", exc_info=True)
                self._restart()
                plain = True
        self._taking_plain_text = plain

    def _restart(self) -> None:
        self._initialize_parser()
        self.sequence = 0


class TerminalModel:
    def __init__(self, columns: int = 80, lines: int = 24, scrollback: int = 5000) -> None:
        self.screen = _Screen(columns, lines, scrollback)
        self.stream = _Stream(self.screen)
        self.hex = False  # show non-printable bytes as hex
        self.fed = 0  # bytes fed so far

    # -- input ------------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        self.fed += len(data)
        if self.hex:
            data = escape_non_printable(data)
        stream = self.stream
        if (
            data.isascii()
            and getattr(stream, "_taking_plain_text", False)  # not inside an escape sequence
            and not stream.utf8_decoder.getstate()[0]
        ):
            text = data.decode("ascii")
            if _PLAIN.match(text):
                self._feed_plain(text)
                return
        stream.feed(data)

    def _feed_plain(self, text: str) -> None:
        screen = self.screen
        if text[:1] == "\n":  # a CR LF cut in two by the chunks it came in
            screen.linefeed()
            text = text[1:]
        if text[-1:] == "\r":
            self._feed_lines(text[:-1])
            screen.carriage_return()
        else:
            self._feed_lines(text)

    def _feed_lines(self, text: str) -> None:
        screen = self.screen
        parts = _LINE_ENDS.split(text)
        texts = parts[::2]
        if (
            len(texts) > 2
            and text.count("\r") == text.count("\n") == len(texts) - 1  # CR LF ends only
            and screen.plain_mode()
            and screen.cursor.x + len(texts[0]) <= screen.columns
            and max(map(len, texts)) <= screen.columns
        ):
            screen.scroll_lines(texts)
            return
        for part in parts:
            if part == "\r\n":
                screen.carriage_return()
                screen.linefeed()
            elif part == "\r":
                screen.carriage_return()
            elif part == "\n":
                screen.linefeed()
            elif part:
                screen.draw(part)

    def notice(self, text: str, sgr: str = "2;33") -> None:
        """A line of mptui's own (a reset, a reconnect), styled apart from board output."""
        start = "\r\n" if self.screen.cursor.x else ""
        self.stream.feed(f"{start}\x1b[{sgr}m{text}\x1b[0m\r\n".encode())

    def resize(self, columns: int, lines: int) -> None:
        self.screen.resize(max(1, lines), max(1, columns))

    # -- reading ----------------------------------------------------------------------------

    @property
    def scrollback(self) -> int:
        return self.screen.history.maxlen or 0

    @property
    def columns(self) -> int:
        return self.screen.columns

    @property
    def lines(self) -> int:
        return self.screen.lines

    @property
    def screen_top(self) -> int:
        """The absolute number of the screen's first line."""
        return self.screen.scrolled

    @property
    def first_line(self) -> int:
        """The absolute number of the oldest line still kept."""
        return self.screen.scrolled - len(self.screen.history)

    def row(self, line: int) -> Row:
        """The cells of an absolute line (blank outside what is kept)."""
        top = self.screen.scrolled
        if line >= top:
            return self.screen.buffer[line - top]
        index = line - self.first_line
        if index < 0:
            return {}
        row = self.screen.history[index]
        return _made(row) if isinstance(row, tuple) else row

    def text(self, line: int) -> str:
        row = self.row(line)
        default = self.screen.default_char
        if not row:
            return ""
        width = max(row) + 1
        return "".join(row.get(x, default).data for x in range(width)).rstrip()

    def display(self) -> list[str]:
        """The screen as text, one string per line (trailing blanks removed)."""
        return [self.text(self.screen_top + y) for y in range(self.lines)]

    def take_changed(self) -> set[int]:
        """Absolute lines changed since the last call."""
        screen = self.screen
        changed = screen.changed
        changed.update(screen.scrolled + y for y in screen.dirty)
        screen.changed = set()
        screen.dirty.clear()
        return changed

    @property
    def cursor(self) -> tuple[int, int]:
        return self.screen.cursor.x, self.screen.cursor.y

    @property
    def cursor_hidden(self) -> bool:
        return self.screen.cursor.hidden

    def text_between(self, start: tuple[int, int], end: tuple[int, int]) -> str:
        """The text from (line, column) to (line, column), end included, lines joined by \\n."""
        (l0, c0), (l1, c1) = sorted((start, end))
        parts = []
        for line in range(max(l0, self.first_line), l1 + 1):
            text = self.text(line)
            lo = c0 if line == l0 else 0
            hi = c1 + 1 if line == l1 else len(text)
            parts.append(text[lo:hi])
        return "\n".join(parts)

