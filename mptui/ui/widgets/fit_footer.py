"""The footer: Textual's, compact, showing only the keys that fit whole. The focused widget's
keys come first; F1 (help) and the palette's key are always there; the keys that do not fit
are left out whole (F1 and the palette list them), never cut in the middle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.screen import Screen

ALWAYS = ("help", "app.help")  # F1: where every key is listed


class FitFooter(Footer):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, compact=True)
        self._width = 0
        self._recompose_due = False

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        self._width = room = self.size.width or self.app.size.width
        keys = [w for w in widgets if isinstance(w, FooterKey)
                and not w.has_class("-command-palette")]
        for widget in widgets:  # what is always shown takes its room first
            if widget not in keys or widget.action in ALWAYS:
                room -= _cells(widget)
        shown = []
        for widget in keys:
            if widget.action in ALWAYS:
                shown.append(widget)
            elif _cells(widget) <= room:
                shown.append(widget)
                room -= _cells(widget)
        yield from (w for w in widgets if w not in keys or w in shown)

    def on_resize(self) -> None:
        if self.size.width != self._width:
            self._recompose_soon()

    def bindings_changed(self, screen: Screen) -> None:
        """Textual's, but the changes that come together (focus, state, the screen's keys: a
        handful at start-up) make one new footer, not one each (~10 ms each, in a row)."""
        self._bindings_ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self._recompose_soon()

    def _recompose_soon(self) -> None:
        if not self._recompose_due:
            self._recompose_due = True
            self.call_after_refresh(self._recompose_now)

    async def _recompose_now(self) -> None:
        self._recompose_due = False
        await self.recompose()


def _cells(widget) -> int:
    """A key's width in the compact footer: key, space, description, and the gap after it
    (the palette's key: a border before it instead)."""
    if not isinstance(widget, FooterKey):
        return 0
    text = widget.key_display + (f" {widget.description}" if widget.description else "")
    return len(text) + 1
