"""The info panel: what the selected board is (services/info.py: firmware, machine, unique id,
CPU, heap, filesystem, .mpy, modules, link and round trip, agent and release), asked in one
round trip when the panel opens on a connected board, again on u; t measures the link
(services/speedtest.py) and shows the figures under the facts."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mptui.services.events import BoardInfo
from mptui.services.info import BoardFacts, board_facts
from mptui.services.speedtest import SpeedTest, speedtest
from mptui.ui.safe_text import printable
from mptui.ui.workers import work


class BoardInfoScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    BoardInfoScreen { align: center middle; }
    BoardInfoScreen > VerticalScroll {
        width: 100%; max-width: 110; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
        border-title-color: $primary; border-subtitle-color: $text-muted;
    }
    BoardInfoScreen #info-facts { width: 1fr; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="info.close"),
        Binding("u", "ask", "Ask again", id="info.refresh",
                tooltip="Ask the board again what it is"),
        Binding("t", "speedtest", "Speed test", id="info.speedtest",
                tooltip="Measure the link: each way, round trip, and what transfers use"),
    ]

    def __init__(self, manager, board: BoardInfo) -> None:
        super().__init__()
        self.manager = manager
        self.board = board
        self.facts: BoardFacts | None = None
        self.asked_at: float | None = None
        self.asking = False
        self.error = ""
        self.speed: SpeedTest | None = None
        self.measuring = False
        self.speed_error = ""

    def compose(self) -> ComposeResult:
        scroll = VerticalScroll()
        scroll.border_title = f"Info: {printable(self.board.name)}"
        scroll.border_subtitle = "u: ask again · t: speed test · Esc: close"
        with scroll:
            yield Static(self.render_facts(), id="info-facts")

    def on_mount(self) -> None:
        self.action_ask()

    def action_ask(self) -> None:
        if not self.asking and self.manager.session(self.board.key) is not None:
            self.ask(self.board.key)

    @work(group="info", exclusive=True)
    async def ask(self, key: str) -> None:
        self.asking, self.error = True, ""
        self.redraw()
        try:
            self.facts = await board_facts(self.manager.session(key))
            self.asked_at = time.time()
        except Exception as e:
            self.error = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise
        finally:
            self.asking = False
            self.redraw()

    def action_speedtest(self) -> None:
        if not self.measuring and self.manager.session(self.board.key) is not None:
            self.measure(self.board.key)

    @work(group="speedtest", exclusive=True)
    async def measure(self, key: str) -> None:
        self.measuring, self.speed_error = True, ""
        self.redraw()
        try:
            self.speed = await speedtest(self.manager.session(key))
        except Exception as e:
            self.speed_error = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise
        finally:
            self.measuring = False
            self.redraw()

    def redraw(self) -> None:
        self.query_one("#info-facts", Static).update(self.render_facts())

    def render_facts(self):
        name = printable(self.board.name)
        if self.facts is None:
            if self.asking:
                return Text(f"Asking {name} what it is…")
            if self.error:
                return Text(f"{name} did not answer: {printable(self.error)}", "red")
            return Text(f"{name} is not connected: c connects it, then this panel (n) says "
                        "what it is.")
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        for label, value in self.facts.rows():
            table.add_row(label, Text(printable(value)))
        parts: list = [table]
        if self.asked_at is not None:
            stamp = time.strftime("%H:%M:%S", time.localtime(self.asked_at))
            parts.insert(0, Text(f"as {name} said at {stamp}", "italic"))
        parts.extend(self.render_speed())
        return parts[0] if len(parts) == 1 else Group(*parts)

    def render_speed(self) -> list:
        if self.measuring:
            return [Text("Measuring the link…", "italic")]
        if self.speed_error:
            return [Text(f"speed test failed: {printable(self.speed_error)}", "red")]
        if self.speed is None:
            return []
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        for label, value in self.speed.rows()[1:]:  # (the link is in the facts above)
            table.add_row(label, Text(printable(value)))
        return [Text("speed test", "bold italic"), table]

    def action_close(self) -> None:
        self.dismiss(None)
