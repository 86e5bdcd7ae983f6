"""The lines of the Logs tab: a virtual list over the feed's shown lines. Only the rows on screen
are drawn (each line's strip cached by its number), so a repaint costs the same with ten lines
or ten thousand; the tab calls `lines_changed()` at a bounded rate, not once per line.

Following (the default) keeps the newest line in view; scrolling up stops it, End or
`follow(True)` brings it back. Control characters and terminal escapes from a board are shown as
� (or dropped, for colour codes): nothing a board prints reaches the terminal as a command.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from mptui.services.logs import DROP, OUT, LogLine, clock
from mptui.ui.models.logs import LogsModel
from mptui.ui.safe_text import fit, visible

BOARD_COLOURS = 6  # component classes log-view--board-0 .. -5, reused in turn
MAX_NAME = 16  # board names are padded to the longest, up to this

class LogView(ScrollView, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "log-view--time",
        "log-view--note",
        "log-view--drop",
        *(f"log-view--board-{i}" for i in range(BOARD_COLOURS)),
    }
    DEFAULT_CSS = """
    LogView { height: 1fr; background: $surface; scrollbar-gutter: stable; }
    LogView:focus { background-tint: $foreground 3%; }
    LogView > .log-view--time { color: $text-muted; }
    LogView > .log-view--note { color: $text-muted; text-style: italic; }
    LogView > .log-view--drop { color: $warning; text-style: bold; }
    LogView > .log-view--board-0 { color: $primary; text-style: bold; }
    LogView > .log-view--board-1 { color: $accent; text-style: bold; }
    LogView > .log-view--board-2 { color: $success; text-style: bold; }
    LogView > .log-view--board-3 { color: $secondary; text-style: bold; }
    LogView > .log-view--board-4 { color: $warning; text-style: bold; }
    LogView > .log-view--board-5 { color: $error; text-style: bold; }
    """

    @dataclass
    class FollowChanged(Message):
        view: LogView
        following: bool

        @property
        def control(self) -> LogView:
            return self.view

    def __init__(self, model: LogsModel, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model
        self.feed = model.feed
        self._strips: LRUCache[int, Strip] = LRUCache(1024)
        self._width = 0
        self._name_width = 0
        self._measured_upto = 0  # the last line number measured for the width
        self._trimmed = 0

    # -- what the tab calls -----------------------------------------------------------------

    def lines_changed(self, *, refiltered: bool = False) -> None:
        """The feed's shown lines changed: new ones at the end (and old ones gone from the
        top), or, `refiltered`, all of them."""
        feed = self.feed
        names = min(MAX_NAME, max((len(b) for b in feed.boards), default=0))
        if names != self._name_width:
            self._name_width = names
            self._strips.clear()
            refiltered = True
        if refiltered:
            self._width, self._measured_upto, self._trimmed = 0, 0, 0
        for seq, line in reversed(feed.shown):
            if seq <= self._measured_upto:
                break
            self._width = max(self._width, self._prefix_width + cell_len(visible(line.text)) + 3)
        self._measured_upto = feed.shown[-1][0] if feed.shown else 0
        trimmed, self._trimmed = feed.trimmed - self._trimmed, feed.trimmed
        self.virtual_size = Size(self._width, len(feed.shown))
        if self.model.following:
            self._to_end()
        elif trimmed > 0 and not refiltered:  # keep the same lines in view
            self.scroll_to(y=max(0, self.scroll_y - trimmed), animate=False, immediate=True)
        self.refresh()

    def follow(self, on: bool = True) -> None:
        if on:
            self._to_end()
        if on != self.model.following:
            self.model.following = on
            self.post_message(self.FollowChanged(self, on))

    def _to_end(self) -> None:
        # now (scrolling may not be allowed yet: the scrollbars follow the new size later), and
        # once more after the layout (a scrollbar that appears takes a row)
        self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
        self.scroll_end(animate=False, x_axis=False)

    def on_resize(self) -> None:
        """Smaller (the chart opened, the terminal shrank): the newest line stays in view."""
        if self.model.following:
            self._to_end()

    # -- scrolling by the user stops following -----------------------------------------------

    def action_scroll_up(self) -> None:
        self.follow(False)
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self.follow(False)
        super().action_page_up()

    def action_scroll_home(self) -> None:
        self.follow(False)
        super().action_scroll_home()

    def action_scroll_end(self) -> None:
        self.follow(True)

    def _on_mouse_scroll_up(self, event) -> None:
        if not (event.ctrl or event.shift):
            self.follow(False)
        super()._on_mouse_scroll_up(event)

    # -- drawing ----------------------------------------------------------------------------

    @property
    def _prefix_width(self) -> int:
        return len("12:34:56.789 ") + self._name_width + 3  # [name] and a space

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        base = self.rich_style
        shown = self.feed.shown
        if index >= len(shown):
            return Strip.blank(width, base)
        seq, line = shown[index]
        strip = self._strips.get(seq)
        if strip is None:
            strip = self._strips[seq] = self._strip(line, base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _strip(self, line: LogLine, base: Style) -> Strip:
        style = self.get_component_rich_style
        colour = self.feed.board_number(line.board) % BOARD_COLOURS
        name = fit(line.board, MAX_NAME)  # a long name shows its two ends
        pad = " " * (self._name_width - len(name) + 1)
        text = visible(line.text)
        if line.kind == OUT:
            body = Segment(text, base)
        else:
            body = Segment(f"-- {text}", base + style(
                "log-view--drop" if line.kind == DROP else "log-view--note"))
        segments = [
            Segment(clock(line.timestamp) + " ", base + style("log-view--time")),
            Segment(f"[{visible(name)}]", base + style(f"log-view--board-{colour}")),
            Segment(pad, base),
            body,
        ]
        return Strip(segments)

    def board_colour(self, board: str) -> Style:
        """The style a board's name is drawn in (the chart draws its series in it too)."""
        colour = self.feed.board_number(board) % BOARD_COLOURS
        return self.get_component_rich_style(f"log-view--board-{colour}")
