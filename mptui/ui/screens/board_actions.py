"""The board actions of the main screen (connect, disconnect, add, scan, remove, reset, run on
marked boards, info): each a DeviceManager call or a screen of its own. A mixin of MainScreen
(ui/screens/main.py), which has the selection, the board list and the REPL tab they use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mptui.board.session import DISCONNECTED, ERROR
from mptui.errors import MptuiError
from mptui.services.events import BoardInfo
from mptui.transports import AddressError, TransportError
from mptui.transports.address import FORMS
from mptui.ui.screens.prompt import PromptScreen
from mptui.ui.workers import work

if TYPE_CHECKING:
    from textual.screen import Screen as _Screen

    from mptui.services.manager import DeviceManager
    from mptui.ui.widgets.device_list import DeviceList
    from mptui.ui.widgets.repl_tab import ReplTab
    from mptui.ui.widgets.repl_terminal import ReplTerminal
else:
    _Screen = object  # a mixin: MainScreen is the Screen


class BoardActions(_Screen):
    manager: DeviceManager
    selected: str | None

    if TYPE_CHECKING:  # MainScreen's
        @property
        def board(self) -> BoardInfo | None: ...
        @property
        def devices(self) -> DeviceList: ...
        @property
        def repl(self) -> ReplTab: ...
        def terminal(self, key: str | None = None) -> ReplTerminal | None: ...
        def _select(self, key: str) -> None: ...
        def _show_board(self) -> None: ...

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
        if self.selected:  # the user's choice: the cursor stays on it as other boards come
            self.devices.select_board(self.selected)
            await self.repl.connect(self.selected)
            self._show_board()

    @work(group="connect")
    async def action_disconnect(self) -> None:
        if self.selected:
            await self.manager.disconnect(self.selected)

    def action_add_board(self) -> None:
        def added(address: str | None) -> None:
            if address:
                self.add_board(address)

        self.app.push_screen(
            PromptScreen("Board address:", hint="e.g. " + ", ".join(FORMS[:4])), added
        )

    def add_board(self, address: str, board: BoardInfo | None = None) -> BoardInfo | None:
        """`board` (the one found at `address`), else the board at `address` added by hand,
        selected; None, and an error said, for an address that is not one."""
        try:
            board = board or self.manager.add(address)
        except AddressError as e:
            self.app.notify(str(e), severity="error", timeout=10)
            return None
        self.devices.update_board(board)
        self.devices.select_board(board.key)
        self._select(board.key)
        return board

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
            self.manager.console.reboot(self.selected)

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

    def action_run_marked(self) -> None:
        """The run-on-marked-boards screen: the marked boards, else the selected one."""
        from mptui.ui.screens.broadcast import BroadcastScreen

        keys = [k for k in self.devices.marked_keys() if not self.manager.board(k).agent_only]
        if not keys and self.board is not None and not self.board.agent_only:
            keys = [self.board.key]
        if keys:
            self.app.push_screen(BroadcastScreen(self.manager, keys))

    def _open_store(self, board: BoardInfo) -> None:
        from mptui.ui.screens.store import StoreScreen

        self.app.push_screen(StoreScreen(self.manager, board))

    def action_board_info(self) -> None:
        from mptui.ui.screens.board_info import BoardInfoScreen

        if self.board is not None and not self.board.agent_only:
            self.app.push_screen(BoardInfoScreen(self.manager, self.board))
