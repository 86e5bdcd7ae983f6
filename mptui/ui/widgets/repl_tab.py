"""The REPL tab: one terminal per board that has been connected, and a word for the others.

It connects a board for its terminal, sends what is typed to the DeviceManager's console, and
answers the terminal's requests: capture to a file (asking where), inject code or run a local
file (mpremote's Ctrl-J / Ctrl-K). Connection changes are said in the board's terminal.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable
from functools import partial
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.widgets import ContentSwitcher, Static

from mptui.board import BoardAccessDenied
from mptui.board.session import CONNECTING, DISCONNECTED, ERROR, RECONNECTING
from mptui.errors import MptuiError
from mptui.paths import data_dir
from mptui.services.events import BoardEvent, BoardInfo, BoardReset, BoardStateChanged
from mptui.ui.safe_text import printable
from mptui.ui.screens.prompt import PromptScreen
from mptui.ui.tab import TabContent
from mptui.ui.terminal.keys import encode_paste
from mptui.ui.widgets.repl_terminal import ReplTerminal
from mptui.ui.workers import work


def _dom_id(key: str) -> str:
    return "term-" + re.sub(r"[^A-Za-z0-9_-]", "_", key)


class ReplTab(TabContent, ContentSwitcher):
    DEFAULT_CSS = """
    ReplTab { width: 1fr; height: 1fr; }
    ReplTab > #repl-idle { width: 1fr; height: 1fr; padding: 1 2; color: $text-muted; }
    """

    def __init__(self, manager, *, id: str | None = None) -> None:
        super().__init__(id=id, initial="repl-idle")
        self.manager = manager
        self.scrollback = manager.config.repl.scrollback
        self.terminals: dict[str, ReplTerminal] = {}
        self.shown: ReplTerminal | None = None  # the selected board's terminal, if it has one
        self._told_offline: set[str] = set()
        self._inject_code: str | None = manager.config.repl.inject_code
        self._inject_file: str | None = manager.config.repl.inject_file

    def compose(self) -> ComposeResult:
        yield Static("", id="repl-idle", markup=False)  # names and errors from boards

    def terminal_for(self, key: str) -> tuple[ReplTerminal, Awaitable | None]:
        """The board's terminal, made on first use, and its mounting (None: mounted before).
        It takes output at once: there is no need to wait before connecting."""
        terminal = self.terminals.get(key)
        if terminal is not None:
            return terminal, None
        terminal = ReplTerminal(key, scrollback=self.scrollback, id=_dom_id(key))
        if self.size.width and self.size.height:  # so the first output has the right width
            terminal.model.resize(self.size.width, self.size.height)
        terminal.display = False
        self.terminals[key] = terminal
        return terminal, self.mount(terminal)

    async def connect(self, key: str) -> ReplTerminal | None:
        """Connect the board with its output in its terminal (also when connected already: an
        OTA push connects boards); None, with a notification, when it cannot be."""
        terminal, mounting = self.terminal_for(key)
        terminal.passthrough = self.app.global_keys()
        name = self.manager.board(key).name
        try:
            await self.manager.connect(key, console=terminal.receive)
        except BoardAccessDenied as e:
            self.app.notify(f"{name}: {e}", title="Access denied", severity="error", timeout=10)
            return None
        except MptuiError as e:
            self.app.notify(f"{name}: {e}", severity="error")
            return None
        finally:
            if mounting is not None:
                await mounting
        return terminal

    # -- what the main screen calls ---------------------------------------------------------

    def show_board(self, board: BoardInfo | None) -> None:
        """Show the board's terminal if it has one, else say what to do."""
        if board is not None and board.key in self.terminals:
            self.current = _dom_id(board.key)
            self.shown = self.terminals[board.key]
            return
        self.query_one("#repl-idle", Static).update(printable(self._advice(board), keep="\n"))
        self.current = "repl-idle"
        self.shown = None

    def boards_changed(self, event: BoardEvent) -> None:
        """Connection changes, said in the board's terminal."""
        terminal = self.terminals.get(event.board.key)
        if terminal is None:
            return
        board = event.board
        if isinstance(event, BoardStateChanged):
            if board.state == RECONNECTING:
                terminal.notice(f"[link lost: {event.detail or 'no reason given'}; reconnecting]")
            elif board.state == ERROR:
                terminal.notice(f"[{board.error or event.detail}]")
            elif board.state == DISCONNECTED and event.previous != CONNECTING:
                terminal.notice("[disconnected]")
        elif isinstance(event, BoardReset) and event.detail == "reconnected":
            terminal.notice("[reconnected]")

    def focus_tab(self) -> None:
        if self.shown is not None and self.shown.display:
            self.shown.focus()

    def palette_node(self) -> ReplTerminal | None:
        return self.shown if self.shown is not None and self.shown.display else None

    @staticmethod
    def _advice(board: BoardInfo | None) -> str:
        if board is None:
            return "No board selected. Add one with a (address), or pick one on the left."
        if board.agent_only:
            return (f"{board.name} is reached through its agent ({board.address}): it has no "
                    "REPL here. Enter streams its output in the Logs tab.")
        if board.state in (CONNECTING, RECONNECTING):
            return f"Connecting to {board.name}…"
        if board.state == ERROR:
            return f"{board.name}: {board.error}\n\nPress Enter to try again."
        if not board.present:
            return f"{board.name} went away (unplugged or switched off)."
        return f"{board.name} is not connected. Press Enter to connect and open its REPL."

    # -- the terminals' requests ------------------------------------------------------------

    @on(ReplTerminal.Typed)
    def send_keys(self, message: ReplTerminal.Typed) -> None:
        message.stop()
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
        self.manager.console.input(key, message.data)

    @on(ReplTerminal.CaptureRequested)
    def ask_capture_file(self, message: ReplTerminal.CaptureRequested) -> None:
        message.stop()
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
        message.stop()
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
            self._keep({"repl.inject_code": code})
            self.inject_code(key, code)

    def _remember_file(self, key: str, path: str | None) -> None:
        if path:
            self._inject_file = path
            self._keep({"repl.inject_file": path})
            self.inject_file(key, path)

    def _keep(self, values: dict[str, str]) -> None:
        """What was asked for is kept for the next time the app starts (the config file)."""
        keep = getattr(self.app, "remember", None)
        if keep is not None:
            keep(values)

    def inject_code(self, key: str, code: str) -> None:
        """Type code into the REPL: a line and Enter, or several lines in paste mode."""
        data = encode_paste(code.rstrip("\r\n"))
        self.manager.console.input(key, data if data.startswith(b"\x05") else data + b"\r")

    def inject_file(self, key: str, path: str) -> None:
        """Run a local file on the board with its output in the REPL (mpremote's Ctrl-K)."""
        self._run_file(key, Path(path).expanduser())

    @work(group="inject")
    async def _run_file(self, key: str, file: Path) -> None:
        try:
            source = await asyncio.to_thread(file.read_bytes)
        except OSError as e:
            self.app.notify(f"inject: {file}: {e.strerror or e}", severity="error")
            return
        terminal = self.terminals.get(key)
        if terminal:
            terminal.notice(f"[running {file}]")
        try:
            await self.manager.console.run(key, source)
        except MptuiError as e:
            self.app.notify(f"inject: {e}", severity="error")
