"""The selected board's plain values (services/store.py), from the command palette: the globals
that hold them are listed; `NAME = VALUE` puts one (VALUE a Python literal, parsed here, never
run), `NAME` shows one."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from mptui.errors import MptuiError
from mptui.services import store
from mptui.services.events import BoardInfo
from mptui.ui.safe_text import printable
from mptui.ui.workers import work


class StoreScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    StoreScreen { align: center middle; }
    StoreScreen > Vertical {
        width: 100%; max-width: 100; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
        border-title-color: $primary; border-subtitle-color: $text-muted;
    }
    StoreScreen #store-hint { width: 1fr; color: $text-muted; }
    StoreScreen #store-scroll { height: auto; max-height: 20; border-top: solid $panel; }
    StoreScreen #store-log { width: 1fr; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="store.close"),
    ]

    def __init__(self, manager, board: BoardInfo) -> None:
        super().__init__()
        self.manager = manager
        self.board = board
        self.lines: list[Text] = []
        self.busy = False

    def compose(self) -> ComposeResult:
        box = Vertical()
        box.border_title = f"Values on {printable(self.board.name)}"
        box.border_subtitle = "Enter: put or show · Esc: close"
        with box:
            yield Label("NAME = VALUE puts a value (a Python literal: 42, 'text', b'\\x00', "
                        "[1, 2], {'k': None}); NAME shows one", id="store-hint", markup=False)
            yield Input(placeholder="gain = 1.25", id="store-input")
            with VerticalScroll(id="store-scroll"):
                yield Static("", id="store-log")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self.run_store("ls", "")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text or self.busy:
            return
        name, sep, value = text.partition("=")
        if sep and not value.startswith("="):
            self.run_store("put", name.strip(), value)
        else:
            self.run_store("get", text)
        event.input.value = ""

    @work(exclusive=True, group="store")
    async def run_store(self, action: str, name: str, value: str = "") -> None:
        session = self.manager.session(self.board.key)
        self.busy = True
        try:
            if session is None:
                raise MptuiError(f"{self.board.name} is not connected")
            if action == "ls":
                found = await store.names(session)
                self._say(", ".join(f"{n} ({t})" for n, t in found) or "no values yet",
                          "italic")
            elif action == "put":
                parsed = store.parse_value(value)
                await store.put(session, name, parsed)
                self._say(f"{name} = {parsed!r}", "green")
            else:
                self._say(f"{name} = {await store.get(session, name)!r}")
        except MptuiError as e:
            self._say(e.message, "red")
        finally:
            self.busy = False

    def _say(self, line: str, style: str = "") -> None:
        self.lines.append(Text(printable(line), style))
        self.query_one("#store-log", Static).update(Text("\n").join(self.lines[-200:]))

    def action_close(self) -> None:
        self.dismiss(None)
