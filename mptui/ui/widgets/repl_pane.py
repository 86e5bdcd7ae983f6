"""The REPL tab: one terminal per board that has been connected, and a word for the others."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable

from textual.app import ComposeResult
from textual.widgets import ContentSwitcher, Static

from mptui.board.session import CONNECTING, ERROR, RECONNECTING
from mptui.services.events import BoardInfo
from mptui.ui.safe_text import printable
from mptui.ui.widgets.repl_terminal import ReplTerminal


def _dom_id(key: str) -> str:
    return "term-" + re.sub(r"[^A-Za-z0-9_-]", "_", key)


class ReplPane(ContentSwitcher):
    DEFAULT_CSS = """
    ReplPane { width: 1fr; height: 1fr; }
    ReplPane > #repl-idle { width: 1fr; height: 1fr; padding: 1 2; color: $text-muted; }
    """

    def __init__(self, scrollback: int = 5000, *, id: str | None = None) -> None:
        super().__init__(id=id, initial="repl-idle")
        self.scrollback = scrollback
        self.terminals: dict[str, ReplTerminal] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="repl-idle", markup=False)  # names and errors from boards

    def terminal_for(self, key: str) -> tuple[ReplTerminal, Awaitable]:
        """The board's terminal, made on first use, and an awaitable for its mounting (it takes
        output at once: there is no need to wait before connecting)."""
        terminal = self.terminals.get(key)
        if terminal is not None:
            return terminal, asyncio.sleep(0)
        terminal = ReplTerminal(key, scrollback=self.scrollback, id=_dom_id(key))
        if self.size.width and self.size.height:  # so the first output has the right width
            terminal.model.resize(self.size.width, self.size.height)
        terminal.display = False
        self.terminals[key] = terminal
        return terminal, self.mount(terminal)

    def show_board(self, board: BoardInfo | None) -> ReplTerminal | None:
        """Show the board's terminal if it has one, else say what to do."""
        if board is not None and board.key in self.terminals:
            self.current = _dom_id(board.key)
            return self.terminals[board.key]
        self.query_one("#repl-idle", Static).update(printable(self._advice(board), keep="\n"))
        self.current = "repl-idle"
        return None

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
