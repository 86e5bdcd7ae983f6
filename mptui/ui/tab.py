"""What a tab of the main screen is: a widget that answers TabContent, and a Tab entry that
names it, its key and its keys. The list of tabs is `mptui.ui.tabs.TABS`.

The main screen mounts each tab's widget in a TabPane and, for every tab alike:
- gives it the board selected in the list (and that board's new states): `show_board()`;
- tells it of every board event (added, removed, state, reset): `boards_changed()`;
- brings it to the front on its key (binding id `view.<id>`) and moves the focus into it:
  `focus_tab()`;
- offers its actions (the bindings of `palette_node()`, as F1 lists them under its first key
  group) in the command palette, bringing the tab to the front before one runs;
- offers it a board chosen in the list (Enter) while it is in front, and, for a board that has
  no REPL, to each tab in turn: `board_chosen()`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.binding import Binding
from textual.dom import DOMNode
from textual.widget import Widget

from mptui.services.events import BoardEvent, BoardInfo

KeyGroup = tuple[str, type]  # (title in F1 and the palette, the widget class with the bindings)


class TabContent:
    """A tab's widget (a mixin, listed before the widget class). Every method has a default:
    a tab overrides what it needs."""

    def show_board(self, board: BoardInfo | None) -> None:
        """The board selected in the list, or its new state (None: no board selected)."""

    def boards_changed(self, event: BoardEvent) -> None:
        """Any board changed: added, updated, removed, a new state, a reset."""

    def focus_tab(self) -> None:
        """The tab came to the front by its key: the focus goes where work starts."""
        if isinstance(self, Widget):
            self.focus()

    def palette_node(self) -> DOMNode | None:
        """The node whose actions the palette offers now (None: none now)."""
        return self if isinstance(self, DOMNode) else None

    def board_chosen(self, key: str) -> bool:
        """A board was chosen for this tab (Enter in the list while the tab is in front; or a
        board with no REPL). True when the tab took it; else its REPL opens."""
        return False


def resolve(where: object) -> Any:
    """A class named "package.module:Class" (imported now), or the class itself."""
    if not isinstance(where, str):
        return where
    module, _, name = where.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Tab:
    """One tab of the main screen. Its widget and key classes may be named as
    "package.module:Class": a tab's modules are imported when it is first shown (or F1, the
    palette or a keymap ask for its keys), not at start-up."""

    id: str  # the TabPane's id, and the binding id's tail: view.<id>
    title: str
    key: str  # the key that brings it to the front (remappable in [keys] by view.<id>)
    make: Callable[..., Widget] | str  # make(manager) -> the tab's widget (a TabContent)
    keys: tuple[tuple[str, type | str], ...] = ()  # its bindings for F1; the first group's in
    # the palette
    help: str = ""  # what its key does, in F1 (default: "Show the <title> tab")

    def build(self, manager) -> Widget:
        """The tab's widget (its module imported now if it was named)."""
        return resolve(self.make)(manager)

    def key_groups(self) -> tuple[KeyGroup, ...]:
        return tuple((title, resolve(cls)) for title, cls in self.keys)

    @property
    def binding(self) -> Binding:
        return Binding(self.key, f"show_tab({self.id!r})", self.title, show=False,
                       id=f"view.{self.id}", tooltip=self.help or f"Show the {self.title} tab")
