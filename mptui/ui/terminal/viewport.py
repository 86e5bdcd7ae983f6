"""What part of the terminal is in view, and what is selected. No Textual here.

The view is the live screen, or `back` lines above it (the scrollback): new output keeps the
same lines in view while scrolled back. The mouse selection runs between two (line, column)
points in the model's absolute line numbers, so it stays on its text as output scrolls.
"""

from __future__ import annotations

from mptui.ui.terminal.model import TerminalModel

Point = tuple[int, int]  # (absolute line, column)


class Viewport:
    def __init__(self, model: TerminalModel) -> None:
        self.model = model
        self.back = 0  # lines scrolled back from the live screen
        self.select_from: Point | None = None
        self.select_to: Point | None = None

    # -- scrolling --------------------------------------------------------------------------

    @property
    def max_back(self) -> int:
        return self.model.screen_top - self.model.first_line

    @property
    def top(self) -> int:
        """The absolute number of the first line in view."""
        return self.model.screen_top - self.back

    def scroll_to(self, back: int) -> bool:
        """Scroll to `back` lines above the screen (bounded); True if the view moved."""
        back = max(0, min(back, self.max_back))
        moved, self.back = back != self.back, back
        return moved

    def output_grew(self, lines: int) -> None:
        """The screen moved down `lines`: while scrolled back, the same lines stay in view."""
        if self.back:
            self.back = min(self.back + lines, self.max_back)

    def fit(self) -> None:
        """After a resize: no further back than the scrollback holds."""
        self.back = min(self.back, self.max_back)

    # -- the selection ----------------------------------------------------------------------

    def select_start(self, x: int, y: int) -> None:
        self.select_from, self.select_to = (self.top + y, x), None

    def select_drag(self, x: int, y: int, height: int) -> bool:
        """The selection's other end (y bounded to the view); False with no selection."""
        if self.select_from is None:
            return False
        self.select_to = (self.top + max(0, min(y, height - 1)), max(0, x))
        return True

    def clear_selection(self) -> bool:
        """True if a selection was shown."""
        shown = self.select_to is not None
        self.select_from = self.select_to = None
        return shown

    def selected_columns(self, line: int, width: int) -> tuple[int, int] | None:
        """The first and last selected column of a line (None: none of it is selected)."""
        if self.select_from is None or self.select_to is None:
            return None
        (l0, c0), (l1, c1) = sorted((self.select_from, self.select_to))
        if not l0 <= line <= l1:
            return None
        return (c0 if line == l0 else 0, c1 if line == l1 else width - 1)

    def text(self, height: int) -> str:
        """What a copy takes: the selection, else the lines in view."""
        if self.select_from and self.select_to:
            return self.model.text_between(self.select_from, self.select_to)
        top = self.top
        return "\n".join(self.model.text(top + y) for y in range(height)).rstrip()
