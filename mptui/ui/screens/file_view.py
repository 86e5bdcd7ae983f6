"""F3 in the Files tab: a file's contents, read-only. Python is syntax-highlighted, other text
shown as is, anything that is not UTF-8 text (or holds control characters) as a hex dump."""

from __future__ import annotations

import re
from typing import ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Label

from mptui.ui.safe_text import printable
from mptui.ui.units import size_text
from mptui.ui.widgets.file_text import FileText
from mptui.ui.workers import work

TEXT_LIMIT = 512 * 1024  # bytes of text shown; a file beyond is cut
HIGHLIGHT_AT_ONCE = 32 * 1024  # Python up to this is coloured before it shows; more, after
HIGHLIGHT_LIMIT = 128 * 1024  # ... up to this (pygments takes a second; more is left plain)
HEX_LIMIT = 64 * 1024  # bytes shown as hex
HEX_WIDTH = 16
PYTHON = (".py", ".pyi")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # C0 (but tab and line ends), DEL, C1


def is_text(data: bytes, cut: bool = False) -> bool:
    """UTF-8 text without control characters other than tabs and line ends (an escape sequence
    would reach the terminal), so a hex dump shows anything else (and never markup). `cut`: data is the start of
    a longer file and may end in the middle of a character."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        if not (cut and e.start >= len(data) - 3):
            return False
        text = data[: e.start].decode("utf-8")
    return CONTROL.search(text) is None


def hexdump(data: bytes) -> str:
    """'00000010  48 65 6c 6c 6f 0a 00 01  02 03 ...  |Hello...|' lines (78 cells each)."""
    lines = []
    for offset in range(0, len(data), HEX_WIDTH):
        row = data[offset : offset + HEX_WIDTH]
        left = " ".join(f"{b:02x}" for b in row[:8])
        right = " ".join(f"{b:02x}" for b in row[8:])
        shown = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        lines.append(f"{offset:08x}  {left:<23}  {right:<23}  |{shown}|")
    return "\n".join(lines)


def view_mode(name: str, data: bytes) -> str:
    """'python', 'text' or 'hex'."""
    if not is_text(data[:TEXT_LIMIT], cut=len(data) > TEXT_LIMIT):
        return "hex"
    return "python" if name.lower().endswith(PYTHON) else "text"


class FileViewScreen(Screen[None]):
    AUTO_FOCUS = "#view-text"
    DEFAULT_CSS = """
    FileViewScreen #view-title { width: 1fr; height: 1; background: $panel; padding: 0 1; }
    FileViewScreen #view-text { width: 1fr; height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f3", "close", "Close", id="view.close"),
    ]

    def __init__(self, title: str, name: str, data: bytes) -> None:
        super().__init__()
        self.title_text, self.name_text, self.data = title, name, data
        self.mode = view_mode(name, data)
        self.highlighted = False  # the Python colours are on (at once, or from a thread)

    def compose(self) -> ComposeResult:
        limit = HEX_LIMIT if self.mode == "hex" else TEXT_LIMIT
        cut = f", first {size_text(limit)} shown" if len(self.data) > limit else ""
        if self.mode == "python" and len(self.data) > HIGHLIGHT_LIMIT:
            cut += f", not coloured: over {size_text(HIGHLIGHT_LIMIT)}"
        yield Label(printable(f"{self.title_text} ({size_text(len(self.data))}, {self.mode}{cut})"),
                    id="view-title", markup=False)
        data = self.data[:limit]
        if self.mode == "hex":
            lines = hexdump(data).split("\n")
        else:
            lines = data.decode("utf-8", "replace").split("\n")
        plain = [Text(line) for line in lines]
        for line in plain:
            line.expand_tabs(4)
        if self.mode == "python" and len(data) <= HIGHLIGHT_AT_ONCE:
            plain, self.highlighted = self._highlight(data), True
        yield FileText(plain, numbers=self.mode == "python", id="view-text")
        yield Footer()

    def on_mount(self) -> None:
        if self.mode == "python" and not self.highlighted and len(self.data) <= HIGHLIGHT_LIMIT:
            self._highlight_later(self.data)

    def _highlight(self, data: bytes) -> list[Text]:
        theme = "monokai" if self.app.current_theme.dark else "default"
        return highlighted(data.decode("utf-8", "replace"), theme)

    @work(thread=True, exclusive=True)
    def _highlight_later(self, data: bytes) -> None:
        """Large files: shown plain at once, in colour when pygments is done (a second or
        more, off the event loop)."""
        lines = self._highlight(data)

        def show() -> None:
            self.query_one(FileText).set_lines(lines)
            self.highlighted = True

        self.app.call_from_thread(show)

    def action_close(self) -> None:
        self.dismiss(None)


def highlighted(text: str, theme: str) -> list[Text]:
    """Python source in colour, a Text a line."""
    syntax = Syntax(text, "python", theme=theme, background_color="default", tab_size=4)
    colours = syntax.highlight(text)
    colours.expand_tabs(4)
    return list(colours.split("\n", allow_blank=True))
