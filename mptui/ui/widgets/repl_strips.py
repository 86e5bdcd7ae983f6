"""The REPL terminal's lines as painted Strips, each kept until its line changes or the width
or styles do (a flood repaints the whole screen every frame); which lines need repainting after
output; a strip restyled in part (selection, cursor) or with a bar over its end. Not a widget:
ReplTerminal (repl_terminal.py) paints with it."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from mptui.ui.terminal.model import TerminalModel
from mptui.ui.terminal.paint import RowPainter


class LineStrips:
    def __init__(self, model: TerminalModel) -> None:
        self.model = model
        self._strips: dict[int, Strip] = {}  # line -> its strip, as painted (build)
        self.width = 0  # the width and the style the strips were made for
        self.base: Style | None = None
        self._painter = RowPainter()
        self.cursor: tuple[int, int] | None = None  # (column, line) last painted
        self._seen_top = 0

    def take_changed(self) -> tuple[set[int], int]:
        """The lines to repaint since the last call (those changed, their strips forgotten, and
        the cursor's old and new line), and how many lines the screen moved down."""
        model = self.model
        changed = model.take_changed()
        strips = self._strips
        if len(changed) > len(strips):  # a flood: thousands of lines, a screenful of strips
            for line in [line for line in strips if line in changed]:
                del strips[line]
        else:
            for line in changed:
                strips.pop(line, None)
        x, y = model.cursor
        cursor = (x, model.screen_top + y)
        if cursor != self.cursor:
            if self.cursor is not None:
                changed.add(self.cursor[1])
            changed.add(cursor[1])
            self.cursor = cursor
        grew = model.screen_top - self._seen_top
        self._seen_top = model.screen_top
        if len(self._strips) > 4 * (model.lines + 500):
            self._strips = {k: v for k, v in self._strips.items() if k >= model.first_line}
            if len(self._strips) > 4 * (model.lines + 500):
                self._strips.clear()
        return changed, grew

    def resized(self) -> None:
        """The model was resized: every strip is made anew, the changes so far are dropped
        (the whole view repaints)."""
        self._strips.clear()
        self._seen_top = self.model.screen_top
        self.model.take_changed()

    def fit(self, width: int, base: Style) -> None:
        """Strips of this width in this style from now on."""
        self._strips.clear()
        self.width, self.base = width, base

    def styles_changed(self) -> None:
        self._strips.clear()
        self.base = None
        self._painter.clear()

    def get(self, line: int) -> Strip:
        strip = self._strips.get(line)
        if strip is None:
            strip = self._strips[line] = self.build(line)
        return strip

    def build(self, line: int) -> Strip:
        """A line as painted: the width, in the style (kept until the width or the styles
        change: a flood repaints the whole screen every frame)."""
        segments = self._painter.segments(self.model.row(line), self.model.screen.default_char)
        width, base = self.width, self.base
        if base is not None and all(text.isascii() for text, _, _ in segments):
            # one cell a character: the same strip made at once (a Strip costs ~10 objects, and
            # a flood makes a screenful of them a frame)
            cells: list[Segment] = []
            used = 0
            for text, style, _ in segments:
                text = text[: width - used]
                if text:
                    cells.append(Segment(text, base + style))
                    used += len(text)
            if used < width:
                cells.append(Segment(" " * (width - used), base))
            return Strip(cells, width)
        strip = Strip(segments).extend_cell_length(width).crop(0, width)
        return strip if base is None else strip.apply_style(base)


def restyle(strip: Strip, start: int, end: int, style: Style, width: int) -> Strip:
    """The strip with cells start..end (end excluded) in `style`, over their own style."""
    length = max(end, strip.cell_length)
    strip = strip.extend_cell_length(length)
    middle = strip.crop(start, end)
    middle = Strip([Segment(text, (s or Style()) + style) for text, s, _ in middle])
    return Strip.join([strip.crop(0, start), middle, strip.crop(end, length)])


def with_bar(strip: Strip, text: str, style: Style, width: int, base: Style) -> Strip:
    """The strip with `text` in `style` over its right end (a bar), `width` wide, over `base`."""
    bar_strip = Strip([Segment(text[:width], style)])
    keep = max(0, width - bar_strip.cell_length)
    strip = Strip.join([strip.extend_cell_length(keep).crop(0, keep), bar_strip])
    return strip.extend_cell_length(width).crop(0, width).apply_style(base)
