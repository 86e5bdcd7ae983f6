"""A terminal row as styled text: pyte's cells become rich Segments, one per run of cells that
look alike (their styles made once and kept). No Textual here."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style

from mptui.ui.terminal.screen import Row

_ANSI = {
    "black": "black",
    "red": "red",
    "green": "green",
    "brown": "yellow",
    "blue": "blue",
    "magenta": "magenta",
    "cyan": "cyan",
    "white": "white",
}


def color(name: str) -> str | None:
    """pyte's colour name as rich's: 'brown' -> 'yellow', 'brightred' -> 'bright_red', a hex
    colour with its '#'; None for the default."""
    if name == "default":
        return None
    if name in _ANSI:
        return _ANSI[name]
    if name.startswith("bright") and name[6:] in _ANSI:
        return "bright_" + _ANSI[name[6:]]
    return "#" + name if len(name) == 6 else None


class RowPainter:
    def __init__(self) -> None:
        self._styles: dict[tuple, Style] = {}

    def clear(self) -> None:
        """Forget the styles made (the theme changed)."""
        self._styles.clear()

    def segments(self, row: Row, default) -> list[Segment]:
        """The row's cells as segments; `default` stands for a column it does not hold."""
        if not row:
            return []
        segments = []
        text: list[str] = []
        attrs = None
        for x in range(max(row) + 1):
            char = row.get(x, default)
            a = char[1:]
            if a != attrs:
                if text:
                    segments.append(Segment("".join(text), self.style(attrs)))
                text, attrs = [], a
            text.append(char.data)
        if text:
            segments.append(Segment("".join(text), self.style(attrs)))
        return segments

    def style(self, attrs) -> Style:
        style = self._styles.get(attrs)
        if style is None:
            fg, bg, bold, italics, underscore, strike, reverse, _blink = attrs
            style = self._styles[attrs] = Style(
                color=color(fg),
                bgcolor=color(bg),
                bold=bold or None,
                italic=italics or None,
                underline=underscore or None,
                strike=strike or None,
                reverse=reverse or None,
            )
        return style
