"""The footer: Textual's, compact, showing only the keys that fit whole. The focused widget's
keys come first; F1 (help) and the palette's key are always there; the keys that do not fit
are left out whole (F1 and the palette list them), never cut in the middle."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

ALWAYS = ("help", "app.help")  # F1: where every key is listed


class FitFooter(Footer):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, compact=True)
        self._width = 0

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
            self.call_after_refresh(self.recompose)


def _cells(widget) -> int:
    """A key's width in the compact footer: key, space, description, and the gap after it
    (the palette's key: a border before it instead)."""
    if not isinstance(widget, FooterKey):
        return 0
    text = widget.key_display + (f" {widget.description}" if widget.description else "")
    return len(text) + 1
