"""The main screen's tabs come from one list: a new tab is one entry, and it gets its key
(remappable), its place in F1 and the palette, the selected board, and the focus."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Static, TabbedContent

from mptui.ui.screens.help import HelpScreen
from mptui.ui.tab import Tab, TabContent
from mptui.ui.tabs import TABS
from mptui.ui.widgets.device_list import DeviceList

from .conftest import wait_until

SIZE = (100, 30)


class DummyTab(TabContent, Static, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("z", "poke", "Poke", id="dummy.poke", tooltip="Poke the dummy tab"),
    ]

    def __init__(self, manager) -> None:
        super().__init__("a tab made in a test")
        self.pokes = 0
        self.boards: list[str | None] = []
        self.events = 0

    def show_board(self, board) -> None:
        self.boards.append(board.key if board else None)

    def boards_changed(self, event) -> None:
        self.events += 1

    def action_poke(self) -> None:
        self.pokes += 1


DUMMY = Tab("dummy", "Dummy", "y", DummyTab, (("Dummy", DummyTab),))


async def test_a_new_tab_is_one_entry_in_the_list(make_app, config_file):
    config_file.write_text('[keys]\n"view.dummy" = "Y"\n')  # its key, remapped by its id
    app = make_app(tabs=(*TABS, DUMMY))
    async with app.run_test(size=SIZE) as pilot:
        devices = app.screen.query_one(DeviceList)
        await wait_until(lambda: devices.option_count >= 1, what="the board list")
        tabs = app.screen.query_one(TabbedContent)
        assert tabs.get_tab("dummy").label.plain == "Dummy"
        # a tab other than the first is made once the first screen is up, and given the board
        await wait_until(lambda: app.screen.query(DummyTab), what="the tab made")
        dummy = app.screen.query_one(DummyTab)
        await wait_until(lambda: dummy.boards, what="the tab given the board")
        assert dummy.boards[-1] == "virtual"  # the selected board
        await pilot.press("y")
        assert tabs.active == "repl"  # remapped: y is no longer its key
        await pilot.press("Y")
        assert tabs.active == "dummy" and app.focused is dummy
        await pilot.press("z")
        assert dummy.pokes == 1

        await pilot.press("f1")
        await wait_until(lambda: isinstance(app.screen, HelpScreen))
        keys = {entry.id: entry.keys for entry in app.screen.keys}
        assert keys["view.dummy"] == ("Y",) and keys["dummy.poke"] == ("z",)
        await pilot.press("escape")

        await pilot.press("r")
        assert tabs.active == "repl"
        commands = {title: run for title, _, run in app.screen.palette_commands()}
        assert "Boards: Show the Dummy tab" in commands
        commands["Dummy: Poke the dummy tab"]()  # from another tab: it comes to the front
        await wait_until(lambda: dummy.pokes == 2, what="the palette's poke")
        assert tabs.active == "dummy"

        await pilot.press("c")  # board events reach every tab
        await app.manager.wait_state("virtual", "idle")
        await wait_until(lambda: dummy.events > 0)
