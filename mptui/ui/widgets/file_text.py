"""The file viewer's body: a file's lines, each drawn only when it comes on screen, so a
500 KB file opens at once and scrolls freely (a Static drew every line first: a minute for a
large Python file). Code gets line numbers."""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class FileText(ScrollView, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"file-text--number"}
    DEFAULT_CSS = """
    FileText { width: 1fr; height: 1fr; }
    FileText > .file-text--number { color: $text-muted; }
    """

    def __init__(self, lines: list[Text], *, numbers: bool = False,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[Text] = []
        self.numbers = numbers
        self._gutter = 0
        self._strips: LRUCache[int, Strip] = LRUCache(1024)
        self.set_lines(lines)

    def set_lines(self, lines: list[Text]) -> None:
        """Show these lines (the same text highlighted, say) from the same place."""
        self.lines = lines
        self._gutter = len(str(len(lines))) + 3 if self.numbers else 0
        width = max((line.cell_len for line in lines), default=0)
        self.virtual_size = Size(self._gutter + width, len(lines))
        self._strips.clear()
        self.refresh()

    @property
    def plain(self) -> str:
        return "\n".join(line.plain for line in self.lines)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width, base = self.size.width, self.rich_style
        if index >= len(self.lines):
            return Strip.blank(width, base)
        strip = self._strips.get(index)
        if strip is None:
            strip = self._strips[index] = self._strip(index)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _strip(self, index: int) -> Strip:
        segments = list(self.lines[index].render(self.app.console))
        if self._gutter:
            number = f"{index + 1:>{self._gutter - 1}} "
            style = self.get_component_rich_style("file-text--number")
            segments.insert(0, Segment(number, style))
        return Strip(segments).apply_style(self.rich_style)
