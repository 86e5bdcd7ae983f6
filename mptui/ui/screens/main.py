"""The main screen: boards on the left, the tabs (`mptui.ui.tabs.TABS`), a status line.

It routes: DeviceManager events (as ManagerEvent messages) go to the board list and every tab,
the board list's selection to the status line and the tabs; the board actions (connect, reset,
...) become DeviceManager calls. Every tab is wired alike (`mptui.ui.tab`): widgets never talk
to each other or to a board.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import TabbedContent, TabPane

from mptui.board.session import DISCONNECTED, ERROR
from mptui.services.events import BoardInfo, BoardRemoved
from mptui.services.manager import DeviceManager
from mptui.ui.keys import Group
from mptui.ui.messages import ManagerEvent
from mptui.ui.quiet import when_quiet
from mptui.ui.screens.board_actions import BoardActions
from mptui.ui.screens.main_palette import Palette
from mptui.ui.screens.prompt import PromptScreen
from mptui.ui.tab import Tab, TabContent
from mptui.ui.widgets.device_list import DeviceList
from mptui.ui.widgets.fit_footer import FitFooter
from mptui.ui.widgets.repl_tab import ReplTab
from mptui.ui.widgets.repl_terminal import ReplTerminal
from mptui.ui.widgets.status_line import StatusLine
from mptui.ui.workers import work

REST_AFTER = 0.5  # seconds after the first screen until the other tabs are made (once quiet)
REST_EVERY = 0.05  # and between two of them (each blocks the loop while it is made)



class MainScreen(BoardActions, Palette, Screen):
    BINDING_GROUP_TITLE = "Boards"
    DEFAULT_CSS = """
    MainScreen #body { height: 1fr; }
    MainScreen #tabs { width: 1fr; height: 1fr; }
    MainScreen TabPane { padding: 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "connect", "Connect", id="board.connect",
                tooltip="Connect to the selected board"),
        Binding("d", "disconnect", "Disconnect", id="board.disconnect",
                tooltip="Disconnect the selected board"),
        Binding("a", "add_board", "Add", id="board.add",
                tooltip="Add a board by address: a bridge, a network board, a serial port"),
        Binding("delete", "remove_board", "Remove", show=False, id="board.remove",
                tooltip="Take a board added by hand, or one that is gone, off the list"),
        Binding("b", "scan_ble", "Scan BLE", show=False, id="board.scan-ble",
                tooltip="Scan for Bluetooth LE boards (a few seconds)"),
        Binding("s", "soft_reset", "Soft reset", id="board.soft-reset",
                tooltip="Soft reset, as Ctrl-C then Ctrl-D at the REPL"),
        Binding("ctrl+r", "hard_reset", "Hard reset", show=False, id="board.hard-reset",
                tooltip="Hard reset (machine.reset())"),
        Binding("e", "run_marked", "Run on marked", show=False, id="board.run-marked",
                tooltip="Run code on every marked board at once (space marks a board)"),
        Binding("n", "board_info", "Info", show=False, id="board.info",
                tooltip="What the selected board is: firmware, memory, modules, link"),
    ]  # and a key per tab (view.<id>), from the tab list

    def __init__(self, manager: DeviceManager, tabs: Iterable[Tab], *,
                 device: str | None = None) -> None:
        super().__init__()
        self.manager = manager
        self.tabs = tuple(tabs)
        self.device = device
        self.selected: str | None = None
        self.contents: dict[str, TabContent] = {}  # tab id -> its widget, once mounted
        self._mounting: dict[str, asyncio.Task[None]] = {}  # tab id -> its widget being mounted
        self._unsubscribe: Callable[[], None] | None = None
        self._bindings_for: tuple | None = None  # the board state the footer was made for
        self._shown_before = False  # (the screen's first resume: its styles are fresh)
        for tab in self.tabs:  # the tabs' keys: bindings of this screen, as if in BINDINGS
            self._bindings.key_to_bindings.setdefault(tab.key, []).append(tab.binding)

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            yield DeviceList(id="devices")
            with TabbedContent(id="tabs", initial=self.tabs[0].id if self.tabs else ""):
                for n, tab in enumerate(self.tabs):
                    with TabPane(tab.title, id=tab.id):
                        if n == 0:  # the first screen; the others are made when first shown
                            content = self.contents[tab.id] = self._make(tab)
                            yield content
        yield StatusLine(id="status")
        yield FitFooter()

    def _make(self, tab: Tab) -> Any:
        content = tab.build(self.manager)
        assert isinstance(content, TabContent) and isinstance(content, Widget)  # ui/tab.py
        return content

    async def content(self, tab_id: str) -> TabContent:
        """A tab's widget, made and mounted now if it was not yet (its modules imported).
        It joins `contents` (what board changes are told to) only once its parts are there."""
        if tab_id not in self.contents:
            if tab_id not in self._mounting:
                self._mounting[tab_id] = asyncio.create_task(self._mount_tab(tab_id))
            await asyncio.shield(self._mounting[tab_id])
        return self.contents[tab_id]

    async def _mount_tab(self, tab_id: str) -> None:
        tab = next(t for t in self.tabs if t.id == tab_id)
        content = self._make(tab)
        await self.query_one(f"TabPane#{tab_id}", TabPane).mount(content)
        self.contents[tab_id] = content
        if self.app.is_running:  # (else the app quit as it was made)
            content.show_board(self.board)

    async def _make_the_rest(self) -> None:
        """The tabs not shown yet, one at a time once the first screen is up (the palette and
        a board with no REPL look for every tab's actions)."""
        if self.app._exit or not self.app.is_running:  # closing: nothing to make
            return
        missing = [tab.id for tab in self.tabs if tab.id not in self.contents]
        if missing:
            await self.content(missing[0])
            self.set_timer(REST_EVERY, partial(when_quiet, self, self._make_the_rest))

    @on(TabbedContent.TabActivated)
    async def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id:  # shown by a click on its title: made now if it was not yet
            await self.content(event.pane.id)

    # -- wiring -----------------------------------------------------------------------------

    @property
    def devices(self) -> DeviceList:
        return self.query_one(DeviceList)

    @property
    def repl(self) -> ReplTab:
        return self.query_one(ReplTab)

    @property
    def board(self) -> BoardInfo | None:
        """The selected board."""
        try:
            return self.manager.board(self.selected) if self.selected else None
        except KeyError:
            return None

    def terminal(self, key: str | None = None) -> ReplTerminal | None:
        return self.repl.terminals.get(key or self.selected or "")

    async def on_mount(self) -> None:
        self._unsubscribe = self.manager.subscribe(
            lambda event: self.post_message(ManagerEvent(event))
        )
        self.manager.ask_password = self.ask_password
        for board in self.manager.boards():
            self.devices.update_board(board)
        self.devices.focus()
        if self.device:
            self.open_address(self.device)
        elif self.devices.selected_key:
            self._select(self.devices.selected_key)
        self.set_timer(REST_AFTER, partial(when_quiet, self, self._make_the_rest))

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """Shown the first time, just made: every node was styled as it was mounted, and
        styling them all again (Textual's default on a resume) costs ~10 ms before the prompt.
        (Called before Screen's own handler, which reads the flag.)"""
        if not self._shown_before:
            self._shown_before = True
            event.refresh_styles = False

    def on_resize(self) -> None:
        self.devices.fit_width(self.size.width)

    def on_unmount(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        if self.manager.ask_password == self.ask_password:
            self.manager.ask_password = None

    async def ask_password(self, board: BoardInfo) -> str | None:
        """The manager asks when a WebREPL board wants a password nobody gave: a masked
        prompt; None when the user escapes it."""
        answer: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

        def answered(password: str | None) -> None:
            if not answer.done():
                answer.set_result(password)

        self.app.push_screen(
            PromptScreen(f"WebREPL password for {board.name}:", hint=board.address, secret=True),
            answered,
        )
        return await answer

    def open_address(self, address: str) -> None:
        """Open a board named on the command line (added by hand if no source lists it)."""
        board = self.add_board(address, self.manager.find(address))
        if board is not None:
            self.open_board(board.key)

    # -- manager events ---------------------------------------------------------------------

    def on_manager_event(self, message: ManagerEvent) -> None:
        event = message.event
        if isinstance(event, BoardRemoved):
            self.devices.remove_board(event.board.key)
        else:
            self.devices.update_board(event.board)
        for content in self.contents.values():
            content.boards_changed(event)
        if event.board.key == self.selected:
            self._show_board()
        if self._binding_state() != self._bindings_for:
            self.refresh_bindings()  # the footer is rebuilt: not at every busy/idle flip

    def _binding_state(self) -> tuple | None:
        """What check_action looks at, for the selected board."""
        board = self.board
        if board is None:
            return None
        return board.present, board.kind, board.connected, board.state in (DISCONNECTED, ERROR)

    def refresh_bindings(self) -> None:
        self._bindings_for = self._binding_state()
        super().refresh_bindings()

    # -- selection --------------------------------------------------------------------------

    def on_device_list_board_highlighted(self, message: DeviceList.BoardHighlighted) -> None:
        self._select(message.key)

    def on_device_list_board_chosen(self, message: DeviceList.BoardChosen) -> None:
        self._select(message.key)
        front = self.query_one(TabbedContent).active
        if not (front in self.contents and self.contents[front].board_chosen(message.key)):
            self.open_board(message.key)

    def _select(self, key: str) -> None:
        self.selected = key
        self._show_board()
        self.refresh_bindings()

    def _show_board(self) -> None:
        """The selected board (or its new state) to the status line and every tab."""
        board = self.board
        terminal = self.terminal()
        flags = []
        if terminal and terminal.capturing and terminal.capture_path:
            flags.append(f"capturing to {terminal.capture_path.name}")
        if terminal and terminal.hex:
            flags.append("hex")
        self.query_one(StatusLine).show(board, flags)
        for content in self.contents.values():
            content.show_board(board)
        if self.repl.shown is None and self.focused is None:
            self.devices.focus()

    # -- connecting -------------------------------------------------------------------------

    @work(group="connect")
    async def open_board(self, key: str) -> None:
        """Connect if needed, then show the board's REPL with the focus in it. A board with no
        REPL (reached only through its agent) goes to the first tab that takes it (Logs)."""
        board = self.manager.find(key)  # (the entry may have joined its board's meanwhile)
        if board is None:
            return
        key = board.key
        if board.agent_only:
            for tab in self.tabs:
                tab_id = tab.id
                if (await self.content(tab_id)).board_chosen(key):
                    self.query_one(TabbedContent).active = tab_id
                    return
            return
        terminal = await self.repl.connect(key)
        if terminal is None:
            return
        if key == self.selected:
            self.query_one(TabbedContent).active = "repl"
            self._show_board()
            terminal.focus()

    # -- actions (the board's: ui/screens/board_actions.py) ---------------------------------

    async def action_show_tab(self, tab: str) -> None:
        await self.content(tab)
        self._bring(tab)

    def _bring(self, tab: str) -> None:
        """A tab that is made to the front, the focus in it."""
        self.query_one(TabbedContent).active = tab
        self.contents[tab].focus_tab()

    # -- the terminal's messages that reach the screen --------------------------------------

    @on(ReplTerminal.FocusReleased)
    def leave_terminal(self) -> None:
        self.devices.focus()

    @on(ReplTerminal.ModeChanged)
    def terminal_mode_changed(self) -> None:
        self._show_board()

    # -- the command palette (ui/screens/main_palette.py) ------------------------------------

    def key_groups(self) -> list[Group]:
        """The screen's own bindings, its tabs' keys with them."""
        return [("Boards", MainScreen), ("Boards", [tab.binding for tab in self.tabs])]
