"""Text from a board or the network, made safe to draw. A terminal takes control characters
(C0, DEL, C1) as commands: an escape sequence in a file name could retitle the window, move the
cursor or, where the terminal allows it, set the clipboard. Every board-provided string the app
draws goes through here (and is never parsed as markup)."""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.text import Text
from textual.content import Content

CONTROLS = frozenset([*range(32), *range(127, 160)])
_SHOWN_AS = {c: "\ufffd" for c in CONTROLS}
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?")


def printable(text: str, keep: str = "") -> str:
    """`text` with each control character shown as �, but those in `keep` (say "\\n")."""
    if text.isprintable():
        return text
    table = {c: v for c, v in _SHOWN_AS.items() if chr(c) not in keep} if keep else _SHOWN_AS
    return text.translate(table)


def visible(text: str) -> str:
    """A board's output line as it may be drawn: escapes dropped (colour codes mostly), tabs
    expanded, other controls as �."""
    if text.isprintable():
        return text
    return _ESCAPES.sub("", text).expandtabs(4).translate(_SHOWN_AS)


def printable_text(text: Text, keep: str = "\n") -> Text:
    """A Rich Text made printable in place (its styles stay: each character keeps its cell)."""
    plain = text.plain
    if not plain.isprintable():
        text.plain = printable(plain, keep)
    return text


def fit(name: str, width: int) -> str:
    """`name` in at most `width` cells; a long one loses its middle ('longna…me.py')."""
    if cell_len(name) <= width:
        return name
    if width <= 1:
        return "…"[:width]
    tail = (width - 1) // 2
    head = width - 1 - tail
    return Content(name).truncate(head).plain + "…" + last_cells(name, tail)


def last_cells(text: str, width: int) -> str:
    out = ""
    for ch in reversed(text):
        if cell_len(ch + out) > width:
            break
        out = ch + out
    return out
