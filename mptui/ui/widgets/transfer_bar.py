"""The Files tab's progress line for a transfer: what is being copied, a bar, bytes/s."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Label, ProgressBar

from mptui.services.transfer import TransferProgress
from mptui.ui.safe_text import printable
from mptui.ui.units import rate_text

REDRAW = 0.1  # seconds: progress comes much more often than it is worth drawing


class TransferBar(Vertical):
    """Hidden until `start()`; `show()` takes the engine's TransferProgress (drawn at most
    every REDRAW seconds, and at the end); `stop()` hides."""

    DEFAULT_CSS = """
    TransferBar { height: 2; padding: 0 1; background: $panel; display: none; }
    TransferBar.-active { display: block; }
    TransferBar #transfer-what { width: 1fr; height: 1; }
    TransferBar Horizontal { height: 1; }
    TransferBar ProgressBar { width: 1fr; }
    TransferBar ProgressBar Bar { width: 1fr; }
    TransferBar #transfer-rate { width: auto; color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = ""
        self.last: TransferProgress | None = None
        self._drawn: TransferProgress | None = None
        self._drawn_at = 0.0
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Label("", id="transfer-what", markup=False)
        with Horizontal():
            yield ProgressBar(show_eta=False, id="transfer-progress")
            yield Label("", id="transfer-rate", markup=False)

    @property
    def active(self) -> bool:
        return self.has_class("-active")

    def start(self, title: str) -> None:
        self.title, self.last, self._drawn = title, None, None
        self.query_one("#transfer-what", Label).update(printable(f"{title}…"))
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one("#transfer-rate", Label).update("  Esc cancels")
        self.add_class("-active")
        if self._timer is None:
            self._timer = self.set_interval(REDRAW, self._catch_up)

    def show(self, progress: TransferProgress) -> None:
        self.last = progress
        if time.monotonic() - self._drawn_at >= REDRAW or progress.done >= progress.total:
            self._draw(progress)

    def _catch_up(self) -> None:
        if self.last is not None and self.last is not self._drawn:
            self._draw(self.last)

    def _draw(self, progress: TransferProgress) -> None:
        self._drawn, self._drawn_at = progress, time.monotonic()
        name = progress.path.replace("\\", "/").rsplit("/", 1)[-1]
        count = min(progress.files_done + 1, progress.files_total)
        self.query_one("#transfer-what", Label).update(
            printable(f"{self.title} {count}/{progress.files_total}: {name}")
        )
        total = max(progress.total, 1)
        self.query_one(ProgressBar).update(
            total=total, progress=progress.done if progress.total else total
        )
        self.query_one("#transfer-rate", Label).update(
            f"  {rate_text(progress.rate)} · Esc cancels"
        )

    def stop(self) -> None:
        self.remove_class("-active")
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
