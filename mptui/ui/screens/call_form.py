"""A small form to call a function on a board through its agent (RemoteIO): the board, the
function's name, its arguments as key=value. Enter calls; the result (as JSON) or the error is
shown under the form, which stays open for the next call; Escape closes it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Static

from mptui.services.remoteio import RemoteIOError
from mptui.ui.safe_text import visible
from mptui.ui.workers import work

Caller = Callable[[str, str, str], Awaitable[Any]]  # (board, name, "k=v ...") -> result
MAX_RESULT = 2000  # characters of a result shown
TRACEBACK_LINES = 6


class CallScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    CallScreen { align: center middle; }
    CallScreen > Vertical {
        width: 76; max-width: 95%; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    CallScreen #call-title { text-style: bold; margin-bottom: 1; }
    CallScreen Grid { grid-size: 2; grid-columns: 11 1fr; grid-rows: 1; grid-gutter: 1 0;
                      height: auto; }
    CallScreen Input { background: $panel; }
    CallScreen Input:focus { background: $primary 35%; }
    CallScreen .call-hint { color: $text-muted; margin-top: 1; }
    CallScreen #call-result { margin-top: 1; height: auto; max-height: 12; }
    CallScreen #call-result.-ok { color: $success; }
    CallScreen #call-result.-error { color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="dialog.cancel"),
    ]

    def __init__(self, boards: list[str], board: str, caller: Caller) -> None:
        super().__init__()
        self.boards = boards
        self.board = board
        self.caller = caller
        self.result: str = ""  # the last result or error, as shown

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Call a function on a board (RemoteIO)", id="call-title")
            with Grid():
                yield Label("Board")
                yield Input(self.board, placeholder="a board with its agent, or rio://HOST",
                            suggester=SuggestFromList(self.boards, case_sensitive=False),
                            id="call-board", compact=True)
                yield Label("Function")
                yield Input(placeholder="ping, version, free_mem, uptime_ms, stats, or the app's",
                            id="call-name", compact=True)
                yield Label("Arguments")
                yield Input(placeholder='key=value ... (JSON values: true, 3, "a b")',
                            id="call-args", compact=True)
            yield Label("Enter calls · Escape closes", classes="call-hint")
            yield Static("", id="call-result")

    def on_mount(self) -> None:
        self.query_one("#call-name" if self.board else "#call-board", Input).focus()

    def value(self, name: str) -> str:
        return self.query_one(f"#call-{name}", Input).value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.call()

    @work(group="call", exclusive=True)
    async def call(self) -> None:
        board, name = self.value("board").strip(), self.value("name").strip()
        self._show(f"calling {name or '?'} on {board or '?'}…", "")
        try:
            result = await self.caller(board, name, self.value("args"))
        except RemoteIOError as e:
            lines = [f"✗ {e}"]
            if e.traceback:
                lines += e.traceback.rstrip().splitlines()[-TRACEBACK_LINES:]
            self._show("\n".join(lines), "-error")
            return
        except ValueError as e:
            self._show(f"✗ {e}", "-error")
            return
        text = json.dumps(result)
        if len(text) > MAX_RESULT:
            text = text[:MAX_RESULT] + "…"
        self._show(f"✓ {name} → {text}", "-ok")

    def _show(self, text: str, outcome: str) -> None:
        self.result = text
        result = self.query_one("#call-result", Static)
        result.set_classes(outcome)
        result.update(Content("\n".join(visible(line) for line in text.split("\n"))))

    def action_close(self) -> None:
        self.dismiss(None)
