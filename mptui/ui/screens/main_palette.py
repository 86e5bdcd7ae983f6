"""The main screen's command palette: a REPL per board, the screen's and every tab's actions
(those that apply now), the config's macros (run on the selected board, their output in a
dialog). A mixin of MainScreen (ui/screens/main.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.markup import escape

from mptui.errors import MptuiError
from mptui.services.events import BoardInfo
from mptui.ui.keys import Group, key_help
from mptui.ui.safe_text import printable
from mptui.ui.workers import work

if TYPE_CHECKING:
    from textual.screen import Screen as _Screen

    from mptui.services.manager import DeviceManager
    from mptui.ui.app import MptuiApp
    from mptui.ui.screens.macro_output import MacroOutputScreen
    from mptui.ui.tab import Tab, TabContent
    from mptui.ui.widgets.device_list import DeviceList
else:
    _Screen = object  # a mixin: MainScreen is the Screen


class Palette(_Screen):
    manager: DeviceManager
    tabs: tuple[Tab, ...]
    contents: dict[str, TabContent]

    if TYPE_CHECKING:  # MainScreen's and BoardActions'
        @property
        def board(self) -> BoardInfo | None: ...
        @property
        def devices(self) -> DeviceList: ...
        def key_groups(self) -> list[Group]: ...
        async def _make_the_rest(self) -> None: ...
        def _bring(self, tab: str) -> None: ...
        def _select(self, key: str) -> None: ...
        def _open_store(self, board: BoardInfo) -> None: ...
        def open_board(self, key: str) -> object: ...

    def palette_commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        """(title, help, callback) for every action that applies here, and one per board."""
        for board in self.manager.boards():
            # the palette reads markup: a board's name and address are text
            yield (f"Open REPL on {escape(printable(board.name))}",
                   escape(printable(board.address)), partial(self._open_from_palette, board.key))
        yield from self._commands(self.key_groups(), self, self.app.run_action)
        selected = self.board
        if selected is not None and selected.connected:
            yield ("Boards: values on the board (store: put, show, list)",
                   escape(printable(selected.name)), partial(self._open_store, selected))
        app = cast("MptuiApp", self.app)
        if app.run_macro is not None:
            for name, macro in sorted(app.config.commands.items()):
                yield (f"Macro: {escape(printable(name))}", escape(printable(macro.summary)),
                       partial(self.run_macro, name))
        if len(self.contents) < len(self.tabs):  # made now, offered from the next keystroke
            self.call_later(self._make_the_rest)
        for tab in self.tabs:
            content = self.contents.get(tab.id)  # a tab not made yet: in a moment
            node = content.palette_node() if content is not None else None
            if node is not None and tab.keys:
                yield from self._commands([tab.key_groups()[0]], node,
                                          partial(self._tab_action, tab.id))

    def _commands(self, groups: list[Group], node,
                  run) -> Iterator[tuple[str, str, Callable[[], object]]]:
        title = groups[0][0]
        for entry in key_help(groups, cast("MptuiApp", self.app).keymap):
            action = entry.binding.action
            if node.check_action(action.partition("(")[0], ()) is False:
                continue
            keys = ", ".join(self.app.get_key_display(entry.binding.with_key(k))
                             for k in entry.keys)
            where = f"  ({entry.id})" if entry.id else ""
            # the palette reads markup: "[ota] boards" in a description is text
            yield (escape(f"{title}: {entry.description}"), escape(keys + where),
                   partial(run, action, node))

    def run_macro(self, name: str, words: list[str] | None = None) -> None:
        """A [commands] macro on the selected board (its session, as the tabs use it), its
        output in a dialog."""
        board = self.board
        if board is None:
            self.app.notify(f"{name}: no board selected", severity="warning")
            return
        from mptui.ui.screens.macro_output import MacroOutputScreen  # (not at start-up)

        screen = MacroOutputScreen(name, printable(board.name))
        self.app.push_screen(screen)
        self._macro(board.key, [name, *(words or [])], screen)

    @work(group="macro")
    async def _macro(self, key: str, words: list[str], screen: MacroOutputScreen) -> None:
        try:
            session = await self.manager.connect(key)
            app = cast("MptuiApp", self.app)
            assert app.run_macro is not None  # the palette offers macros only then
            code = await app.run_macro(words, app.config.commands, session, screen.write)
        except MptuiError as e:
            screen.write(f"mptui: {e.message}\n".encode())
            code = 1
        screen.finished(code)

    def _tab_action(self, tab: str, action: str, node) -> None:
        """A tab's action from the palette (offered once it is made): that tab comes to the
        front first."""
        self._bring(tab)
        self.call_after_refresh(self.app.run_action, action, node)

    def _open_from_palette(self, key: str) -> None:
        self.devices.select_board(key)
        self._select(key)
        self.open_board(key)
