"""The terminal model behind the REPL widget: a VT100/xterm screen (pyte) with scrollback.

No Textual here: feed it the board's bytes, read rows back. Lines are addressed by an
absolute number that never changes while the line exists: history lines first, then the
screen (`first_line` is the oldest line kept, `screen_top` the screen's first line). The
screen is in screen.py, the parser that feeds it in stream.py.
"""

from __future__ import annotations

import re

from mptui.ui.terminal.screen import Row, ScrollbackScreen, cells_of
from mptui.ui.terminal.stream import SafeByteStream

# Bytes shown as they are when hex display is on: printable ASCII and the controls that shape
# the text (backspace, tab, newline, carriage return, escape sequences).
_SHOWN = bytes([8, 9, 10, 13, 27, *range(32, 127)])
# Output that is only printable ASCII and line ends skips pyte's parser (a flood, mostly).
_PLAIN = re.compile(r"[\x20-\x7e\r\n]*\Z")
_LINE_ENDS = re.compile(r"(\r\n|\r|\n)")


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


class TerminalModel:
    def __init__(self, columns: int = 80, lines: int = 24, scrollback: int = 5000) -> None:
        self.screen = ScrollbackScreen(columns, lines, scrollback)
        self.stream = SafeByteStream(self.screen)
        self.hex = False  # show non-printable bytes as hex
        self.fed = 0  # bytes fed so far

    # -- input ------------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        self.fed += len(data)
        if self.hex:
            data = escape_non_printable(data)
        if data.isascii() and self.between_sequences:
            text = data.decode("ascii")
            if _PLAIN.match(text):
                self._feed_plain(text)
                return
        self.stream.feed(data)

    @property
    def between_sequences(self) -> bool:
        """No escape sequence nor UTF-8 character begun and unfinished: plain text takes the
        fast path."""
        stream = self.stream
        return getattr(stream, "_taking_plain_text", False) and not stream.utf8_decoder.getstate()[0]

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
        crlf = text.count("\r\n")
        if crlf > 1 and text.count("\r") == crlf == text.count("\n"):  # CR LF ends only
            texts = text.split("\r\n")
            ahead = screen.lines - 1 - screen.cursor.y  # lines until the bottom one: one at a
            if 0 < ahead < len(texts) - 2:  # time, the rest in one go (once the cursor is there)
                self._feed_parts([part for t in texts[:ahead] for part in (t, "\r\n")])
                texts = texts[ahead:]
            columns = screen.columns
            if screen.plain_mode():  # (the line begun is drawn, wrapped if it must be, at the
                if max(map(len, texts)) > columns:  # bottom) a line longer than the screen is
                    texts = [texts[0], *(  # the rows it wraps into (plain_mode(): DECAWM on)
                        t[i : i + columns] for t in texts[1:] for i in range(0, len(t) or 1, columns)
                    )]
                screen.scroll_lines(texts)
                return
            text = "\r\n".join(texts)
        self._feed_parts(_LINE_ENDS.split(text))

    def _feed_parts(self, parts: list[str]) -> None:
        """Texts and line ends (as _LINE_ENDS splits them), one at a time."""
        screen = self.screen
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
        return cells_of(row) if isinstance(row, tuple) else row

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

