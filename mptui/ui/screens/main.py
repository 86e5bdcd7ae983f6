"""The main screen: boards on the left, the REPL / Files / OTA / Logs tabs, a status line.

It routes: DeviceManager events (as ManagerEvent messages) go to the widgets, the widgets'
messages become DeviceManager calls. Widgets never talk to each other or to a board.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane

from mptui.board import BoardAccessDenied
from mptui.board.session import CONNECTING, DISCONNECTED, ERROR, RECONNECTING
from mptui.errors import MptuiError
from mptui.paths import data_dir
from mptui.services.events import (
    BoardInfo,
    BoardRemoved,
    BoardReset,
    BoardStateChanged,
)
from mptui.services.manager import DeviceManager
from mptui.transports import AddressError, TransportError
from mptui.transports.address import FORMS
from mptui.ui.keys import key_help
from mptui.ui.messages import ManagerEvent
from mptui.ui.safe_text import printable
from mptui.ui.screens.prompt import PromptScreen
from mptui.ui.terminal.keys import encode_paste
from mptui.ui.widgets.device_list import DeviceList
from mptui.ui.widgets.files_tab import FilesTab
from mptui.ui.widgets.logs_tab import LogsTab
from mptui.ui.widgets.ota_tab import OtaTab
from mptui.ui.widgets.repl_pane import ReplPane
from mptui.ui.widgets.repl_terminal import ReplTerminal
from mptui.ui.widgets.status_line import StatusLine
from mptui.ui.workers import work

TABS = ("repl", "files", "ota", "logs")


class MainScreen(Screen):
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
        Binding("r", "show_tab('repl')", "REPL", show=False, id="view.repl",
                tooltip="Show the REPL tab, focus in the terminal"),
        Binding("f", "show_tab('files')", "Files", show=False, id="view.files",
                tooltip="Show the Files tab"),
        Binding("o", "show_tab('ota')", "OTA", show=False, id="view.ota",
                tooltip="Show the OTA tab"),
        Binding("l", "show_tab('logs')", "Logs", show=False, id="view.logs",
                tooltip="Show the Logs tab"),
    ]

    def __init__(self, manager: DeviceManager, *, device: str | None = None) -> None:
        super().__init__()
        self.manager = manager
        self.device = device
        self.selected: str | None = None
        self._unsubscribe = None
        self._told_offline: set[str] = set()
        self._bindings_for: tuple | None = None  # the board state the footer was made for
        self._inject_code: str | None = manager.config.repl.inject_code
        self._inject_file: str | None = manager.config.repl.inject_file

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            yield DeviceList(id="devices")
            with TabbedContent(id="tabs", initial="repl"):
                with TabPane("REPL", id="repl"):
                    yield ReplPane(self.manager.config.repl.scrollback, id="repl-pane")
                with TabPane("Files", id="files"):
                    yield FilesTab(self.manager, id="files-tab")
                with TabPane("OTA", id="ota"):
                    yield OtaTab(self.manager, id="ota-tab")
                with TabPane("Logs", id="logs"):
                    yield LogsTab(self.manager, id="logs-tab")
        yield StatusLine(id="status")
        yield Footer()

    # -- wiring -----------------------------------------------------------------------------

    @property
    def devices(self) -> DeviceList:
        return self.query_one(DeviceList)

    @property
    def repl_pane(self) -> ReplPane:
        return self.query_one(ReplPane)

    @property
    def board(self) -> BoardInfo | None:
        """The selected board."""
        try:
            return self.manager.board(self.selected) if self.selected else None
        except KeyError:
            return None

    def terminal(self, key: str | None = None) -> ReplTerminal | None:
        return self.repl_pane.terminals.get(key or self.selected or "")

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
        board = self.manager.find(address)
        try:
            board = board or self.manager.add(address)
        except AddressError as e:
            self.app.notify(str(e), severity="error", timeout=10)
            return
        self.devices.update_board(board)
        self.devices.select_board(board.key)
        self._select(board.key)
        self.open_board(board.key)

    # -- manager events ---------------------------------------------------------------------

    def on_manager_event(self, message: ManagerEvent) -> None:
        event = message.event
        key = event.board.key
        if isinstance(event, BoardRemoved):
            self.devices.remove_board(key)
        else:
            self.devices.update_board(event.board)
        self.query_one(OtaTab).boards_changed()
        terminal = self.terminal(key)
        if terminal is not None:
            if isinstance(event, BoardStateChanged):
                self._state_notice(terminal, event)
            elif isinstance(event, BoardReset) and event.detail == "reconnected":
                terminal.notice("[reconnected]")
        if key == self.selected:
            self._show_selected()
            self._tabs_show_board()
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

    @staticmethod
    def _state_notice(terminal: ReplTerminal, event: BoardStateChanged) -> None:
        if event.board.state == RECONNECTING:
            terminal.notice(f"[link lost: {event.detail or 'no reason given'}; reconnecting]")
        elif event.board.state == ERROR:
            terminal.notice(f"[{event.board.error or event.detail}]")
        elif event.board.state == DISCONNECTED and event.previous != CONNECTING:
            terminal.notice("[disconnected]")

    # -- selection --------------------------------------------------------------------------

    def on_device_list_board_highlighted(self, message: DeviceList.BoardHighlighted) -> None:
        self._select(message.key)

    def on_device_list_board_chosen(self, message: DeviceList.BoardChosen) -> None:
        self._select(message.key)
        if self.query_one(TabbedContent).active == "logs":
            self.watch_logs(message.key)  # chosen for the Logs tab: its lines come there
        else:
            self.open_board(message.key)

    def watch_logs(self, key: str) -> None:
        """Stream the board's lines in the Logs tab (also what opening a board reached only
        through its agent does: it has no REPL)."""
        self.query_one(TabbedContent).active = "logs"
        self.query_one(LogsTab).watch(key)

    def _select(self, key: str) -> None:
        self.selected = key
        self._show_selected()
        self._tabs_show_board()
        self.refresh_bindings()

    def _tabs_show_board(self) -> None:
        """The selected board (or its new state) to the tabs that show one."""
        for tab in (FilesTab, OtaTab, LogsTab):
            self.query_one(tab).show_board(self.board)

    def _show_selected(self) -> None:
        board = self.board
        terminal = self.terminal()
        flags = []
        if terminal and terminal.capturing:
            flags.append(f"capturing to {terminal.capture_path.name}")
        if terminal and terminal.hex:
            flags.append("hex")
        self.query_one(StatusLine).show(board, flags)
        shown = self.repl_pane.show_board(board)
        if shown is None and self.focused is None:
            self.devices.focus()

    # -- connecting -------------------------------------------------------------------------

    @work(group="connect")
    async def open_board(self, key: str) -> None:
        """Connect if needed, then show the board's REPL with the focus in it (the Logs tab
        for a board reached only through its agent)."""
        if self.manager.board(key).agent_only:
            self.watch_logs(key)
            return
        terminal = await self._connect(key)
        if terminal is None:
            return
        if key == self.selected:
            self.query_one(TabbedContent).active = "repl"
            self._show_selected()
            terminal.focus()

    async def _connect(self, key: str) -> ReplTerminal | None:
        terminal, mounted = self.repl_pane.terminal_for(key)
        terminal.passthrough = self.app.global_keys()
        name = self.manager.board(key).name
        try:
            # also when connected already (an OTA push connects boards): the output comes here
            await self.manager.connect(key, console=terminal.receive)
        except BoardAccessDenied as e:
            self.app.notify(
                f"{name}: {e}", title="Access denied", severity="error", timeout=10
            )
            return None
        except MptuiError as e:
            self.app.notify(f"{name}: {e}", severity="error")
            return None
        finally:
            await mounted
        return terminal

    # -- actions ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        board = self.board
        if action == "connect":
            return board is not None and board.present and not board.agent_only and (
                board.state in (DISCONNECTED, ERROR))
        if action == "disconnect":
            return board is not None and board.state not in (DISCONNECTED, ERROR)
        if action in ("soft_reset", "hard_reset"):
            return board is not None and board.connected
        if action == "remove_board":
            return board is not None and (board.kind == "manual" or not board.present)
        if action == "scan_ble":
            return self.manager.ble is not None
        return True

    @work(group="connect")
    async def action_connect(self) -> None:
        if self.selected:
            await self._connect(self.selected)
            self._show_selected()

    @work(group="connect")
    async def action_disconnect(self) -> None:
        if self.selected:
            await self.manager.disconnect(self.selected)

    def action_add_board(self) -> None:
        def added(address: str | None) -> None:
            if not address:
                return
            try:
                board = self.manager.add(address)
            except AddressError as e:
                self.app.notify(str(e), severity="error", timeout=10)
                return
            self.devices.update_board(board)
            self.devices.select_board(board.key)
            self._select(board.key)

        self.app.push_screen(
            PromptScreen("Board address:", hint="e.g. " + ", ".join(FORMS[:4])), added
        )

    @work(group="scan", exclusive=True)
    async def action_scan_ble(self) -> None:
        self.app.notify("Scanning for Bluetooth LE boards…", timeout=3)
        try:
            found = await self.manager.scan_ble()
        except TransportError as e:
            self.app.notify(str(e), title="BLE scan", severity="error", timeout=10)
            return
        if not found:
            self.app.notify("No Bluetooth LE boards found", title="BLE scan")
            return
        names = ", ".join(b.name if b.rssi is None else f"{b.name} ({b.rssi} dBm)" for b in found)
        self.app.notify(f"Found {names}", title="BLE scan")

    @work(group="connect")
    async def action_remove_board(self) -> None:
        board = self.board
        if board and not await self.manager.remove(board.key):
            self.app.notify(f"{board.name} is still found by discovery; it stays on the list")

    def action_soft_reset(self) -> None:
        if self.selected:
            self.manager.reboot(self.selected)

    @work(group="reset")
    async def action_hard_reset(self) -> None:
        key = self.selected
        if not key:
            return
        terminal = self.terminal(key)
        if terminal:
            terminal.notice("[hard reset]")
        try:
            await self.manager.hard_reset(key)
        except MptuiError as e:
            self.app.notify(f"hard reset: {e}", severity="error")

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        terminal = self.terminal()
        if tab == "repl" and terminal and terminal.display:
            terminal.focus()
        elif tab == "ota":
            self.query_one(OtaTab).focus_table()
        elif tab == "files":
            self.query_one(FilesTab).focus_pane()
        elif tab == "logs":
            self.query_one(LogsTab).focus_lines()

    # -- the terminal's requests ------------------------------------------------------------

    @on(ReplTerminal.Typed)
    def send_keys(self, message: ReplTerminal.Typed) -> None:
        key = message.terminal.board_key
        if self.manager.session(key) is None or self.manager.board(key).state in (
            DISCONNECTED,
            ERROR,
        ):
            if key not in self._told_offline:  # once, not at every key
                self._told_offline.add(key)
                message.terminal.notice("[not connected: c connects, from the board list]")
            return
        self._told_offline.discard(key)
        self.manager.console_input(key, message.data)

    @on(ReplTerminal.FocusReleased)
    def leave_terminal(self) -> None:
        self.devices.focus()

    @on(ReplTerminal.ModeChanged)
    def terminal_mode_changed(self) -> None:
        self._show_selected()

    @on(ReplTerminal.CaptureRequested)
    def ask_capture_file(self, message: ReplTerminal.CaptureRequested) -> None:
        terminal = message.terminal
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in terminal.board_key)
        default = data_dir() / "captures" / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.log"

        def chosen(path: str | None) -> None:
            if not path:
                return
            try:
                terminal.start_capture(Path(path).expanduser())
            except OSError as e:
                self.app.notify(f"capture: {path}: {e.strerror or e}", severity="error")

        self.app.push_screen(PromptScreen("Capture the board's output to:", str(default)), chosen)

    @on(ReplTerminal.InjectRequested)
    def inject(self, message: ReplTerminal.InjectRequested) -> None:
        key = message.terminal.board_key
        if message.kind == "code":
            if self._inject_code:
                self.inject_code(key, self._inject_code)
            else:
                self.app.push_screen(
                    PromptScreen("Code to type into the REPL (Ctrl-J types it again):"),
                    partial(self._remember_code, key),
                )
        elif self._inject_file:
            self.inject_file(key, self._inject_file)
        else:
            self.app.push_screen(
                PromptScreen("File to run on the board (Ctrl-K runs it again):"),
                partial(self._remember_file, key),
            )

    def _remember_code(self, key: str, code: str | None) -> None:
        if code:
            self._inject_code = code
            self.inject_code(key, code)

    def _remember_file(self, key: str, path: str | None) -> None:
        if path:
            self._inject_file = path
            self.inject_file(key, path)

    def inject_code(self, key: str, code: str) -> None:
        """Type code into the REPL: a line and Enter, or several lines in paste mode."""
        data = encode_paste(code.rstrip("\r\n"))
        self.manager.console_input(key, data if data.startswith(b"\x05") else data + b"\r")

    @work(group="inject")
    async def inject_file(self, key: str, path: str) -> None:
        """Run a local file on the board with its output in the REPL (mpremote's Ctrl-K)."""
        file = Path(path).expanduser()
        try:
            source = file.read_bytes()
        except OSError as e:
            self.app.notify(f"inject: {file}: {e.strerror or e}", severity="error")
            return
        terminal = self.terminal(key)
        if terminal:
            terminal.notice(f"[running {file}]")
        try:
            await self.manager.run_in_repl(key, source)
        except MptuiError as e:
            self.app.notify(f"inject: {e}", severity="error")

    # -- the command palette ----------------------------------------------------------------

    def palette_commands(self) -> Iterator[tuple[str, str, object]]:
        """(title, help, callback) for every action that applies here, and one per board."""
        keymap = self.app.keymap
        for board in self.manager.boards():
            # the palette reads markup: a board's name and address are text
            yield (f"Open REPL on {escape(printable(board.name))}",
                   escape(printable(board.address)), partial(self._open_from_palette, board.key))
        files, logs = self.query_one(FilesTab), self.query_one(LogsTab)
        groups: list[tuple[str, type, object]] = [("Boards", MainScreen, self),
                                                  ("Files", FilesTab, files)]
        terminal = self.terminal()
        if terminal is not None and terminal.display:
            groups.append(("REPL", ReplTerminal, terminal))
        groups.append(("OTA", OtaTab, self.query_one(OtaTab)))
        groups.append(("Logs", LogsTab, logs))
        for title, cls, node in groups:
            for entry in key_help([(title, cls)], keymap):
                action = entry.binding.action
                if node.check_action(action.partition("(")[0], ()) is False:
                    continue
                keys = ", ".join(self.app.get_key_display(entry.binding.with_key(k))
                                 for k in entry.keys)
                run = partial(self.app.run_action, action, node)
                if node is files or node is logs:
                    run = partial(self._tab_action, "files" if node is files else "logs",
                                  action, node)
                yield (f"{title}: {entry.description}", f"{keys}  ({entry.id})", run)

    def _tab_action(self, tab: str, action: str, node) -> None:
        """A tab's action from the palette: that tab comes to the front first."""
        self.action_show_tab(tab)
        self.call_after_refresh(self.app.run_action, action, node)

    def _open_from_palette(self, key: str) -> None:
        self.devices.select_board(key)
        self._select(key)
        self.open_board(key)
