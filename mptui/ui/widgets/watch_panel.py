"""Watch mode in the Files tab: runs the engine's Watcher for a pair of folders and lists what
it does (uploads, deletions, resets, errors) as it happens."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker

from mptui.errors import MptuiError
from mptui.services.sync import Syncer
from mptui.services.watch import AFTER_NONE, AFTER_RESET, AFTER_RUN, Watcher, WatchEvent
from mptui.ui.safe_text import printable
from mptui.ui.units import error_text, size_text
from mptui.ui.workers import work

KEEP = 200  # events kept on screen
AFTER_LABELS = {AFTER_NONE: "nothing", AFTER_RESET: "soft reset", AFTER_RUN: "run main.py"}
CHANGES = ("uploaded", "made", "deleted")  # events that change what the board pane shows
_STYLES = {"error": "$error", "warning": "$warning", "uploaded": "$success", "deleted": "$accent"}


def clock_text(seconds: float) -> str:
    """An event's time of day, as listed."""
    return time.strftime("%H:%M:%S", time.localtime(seconds))


def event_text(event: WatchEvent) -> str:
    path, detail = event.path, event.detail
    if event.kind == "synced":
        return f"synced: {detail}"
    if event.kind == "watching":
        return "watching for saves"
    if event.kind == "uploaded":
        return f"uploaded {path} ({size_text(event.size)})"
    if event.kind == "kept":
        return f"kept {path} on the board (deletes are not mirrored)"
    if event.kind == "reset":
        return "soft reset"
    if event.kind == "run":
        return f"ran {path}"
    if event.kind in ("warning", "error"):
        return f"{event.kind}: {detail}"
    return " ".join(x for x in (event.kind, path, detail) if x)


class WatchPanel(VerticalScroll, can_focus=False):
    """Hidden until `start()`; posts Changed when the board's files change and Stopped when
    the watch ends (stopped, or the board went away)."""

    DEFAULT_CSS = """
    WatchPanel {
        height: 7;
        border: round $accent;
        border-title-color: $accent;
        border-subtitle-color: $text-muted;
        display: none;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    WatchPanel.-active { display: block; }
    WatchPanel #watch-events { width: 1fr; height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    @dataclass
    class Changed(Message):
        """Something was uploaded, made or deleted on the board."""

        panel: WatchPanel
        event: WatchEvent

    @dataclass
    class Stopped(Message):
        panel: WatchPanel
        reason: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: deque[Content] = deque(maxlen=KEEP)
        self.events: list[WatchEvent] = []  # this watch's, for whoever asks (tests, bug reports)
        self._worker: Worker | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="watch-events")

    @property
    def watching(self) -> bool:
        return self._worker is not None and not self._worker.is_finished

    def start(self, syncer: Syncer, console, after: str, title: str) -> None:
        """Sync the pair once, then upload every save (see mptui.services.watch)."""
        self.stop()
        self.lines.clear()
        self.events = []
        self.border_title = Content(printable(f"Watching {title}"))
        self.border_subtitle = f"after upload: {AFTER_LABELS[after]} · w stops"
        self.add_class("-active")
        watcher = Watcher(syncer, console=console, after=after, on_event=self.add)
        self._worker = self._run(watcher)

    def stop(self) -> None:
        if self.watching:
            self._worker.cancel()

    def add(self, event: WatchEvent) -> None:
        self.events.append(event)
        style = _STYLES.get(event.kind, "")
        self.lines.append(Content.assemble(
            Content.styled(clock_text(event.time), "$text-muted"), " ",
            Content.styled(printable(event_text(event)), style),
        ))
        self.query_one("#watch-events", Static).update(Content("\n").join(self.lines))
        self.scroll_end(animate=False)
        if event.kind in CHANGES:
            self.post_message(self.Changed(self, event))

    @work(group="files-watch")
    async def _run(self, watcher: Watcher) -> None:
        reason = "stopped"
        try:
            await watcher.run()
        except asyncio.CancelledError:
            raise
        except (OSError, MptuiError, RuntimeError) as e:
            reason = error_text(e)
            self.add(WatchEvent("error", detail=f"watch stopped: {reason}"))
        finally:
            self.border_subtitle = "stopped · w watches again"
            self.post_message(self.Stopped(self, reason))

    def hide(self) -> None:
        self.remove_class("-active")
