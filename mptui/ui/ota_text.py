"""Words and marks for the OTA tab, its history and its notices (one place for all three):
phases, results, errors in plain words, sizes, times, a progress bar."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual.color import Color, ColorParseError

from mptui.services.ota import PushEvent, PushResult

# The phases a push shows, in order, as the user reads them.
TRAIL = ("verify", "transfer", "commit", "reboot", "online")
PHASE_WORDS = {
    "connect": "connecting",
    "install": "installing the agent",
    "verify": "verifying",
    "transfer": "sending",
    "commit": "committing",
    "reboot": "rebooting",
    "online": "coming back",
    "done": "done",
    "failed": "failed",
}
TRAIL_WORDS = {"online": "back online"}
# Error kinds in a few words, for the table; the full sentence (ota.links.KINDS and the board's
# detail) is in the detail lines and the history.
SHORT = {
    "denied": "wrong password",
    "password": "needs a password",
    "signature": "bad signature",
    "hash": "bad file hash",
    "space": "board full",
    "unreachable": "unreachable",
    "busy": "busy updating",
    "no-agent": "no agent",
    "timeout": "no answer",
    "rolledback": "rolled back",
    "project": "release error",
    "protected": "protected path",
    "manifest": "bad manifest",
    "proto": "protocol error",
    "state": "refused",
    "cancelled": "cancelled",
    "downgrade": "older version",
    "replay": "old release",
    "backoff": "wait (passwords)",
    "toomany": "too many clients",
}


@dataclass(frozen=True)
class Styles:
    """Rich styles from the theme's OTA variables."""

    ok: str = "green"
    failed: str = "red"
    busy: str = "yellow"
    mark: str = "bold"
    muted: str = "dim"

    @classmethod
    def from_app(cls, app) -> Styles:
        colors = app.theme_variables or app.get_css_variables()

        def color(name: str, fallback: str) -> str:
            try:
                return Color.parse(colors[name]).hex6
            except (KeyError, ColorParseError):
                return fallback

        return cls(color("ota-ok", cls.ok), color("ota-failed", cls.failed),
                   color("ota-busy", cls.busy), f"bold {color('accent', '')}".strip())


def size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def when(ts: float, now: float | None = None) -> str:
    """Short: the time for today, else the day ('Mar 14')."""
    day = time.localtime(ts)
    today = time.localtime(time.time() if now is None else now)
    if day[:3] == today[:3]:
        return time.strftime("%H:%M", day)
    return time.strftime("%b %d", day)


def stamp(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def kind_words(kind: str, error: str = "") -> str:
    """A few words for an error: its kind's, else the plain part of the message."""
    if kind in SHORT:
        return SHORT[kind]
    return error.partition(": ")[0] if error else kind or "failed"


def result_words(result: PushResult) -> str:
    if result.ok:
        return "up to date" if result.up_to_date else f"{result.version} running"
    return kind_words(result.error_kind, result.error)


def result_text(result: PushResult, styles: Styles, full: bool = False) -> Text:
    """'✓ 1.1 running' / '✗ wrong password'; `full`: with what was sent, or the whole error."""
    if result.ok:
        words = result_words(result)
        if full and not result.up_to_date:
            words += f" ({plural(result.files, 'file')}, {size(result.bytes)} sent)"
        return Text.assemble(("✓ ", styles.ok), words)
    return Text.assemble(("✗ ", styles.failed), result.error if full else result_words(result))


def progress_words(event: PushEvent) -> str:
    """The phase in a word, with files and percent while sending."""
    if event.phase == "transfer" and event.bytes_total:
        percent = 100 * event.bytes_done // event.bytes_total
        return f"sending {event.files_done}/{event.files_total} {percent}%"
    if event.phase == "install" and event.files_total:
        return f"installing the agent {event.files_done}/{event.files_total}"
    return PHASE_WORDS.get(event.phase, event.phase) + ("" if event.phase == "done" else "…")


def bar(fraction: float, width: int, styles: Styles) -> Text:
    fraction = min(max(fraction, 0.0), 1.0)
    done = round(fraction * width)
    return Text.assemble(("━" * done, styles.busy), ("━" * (width - done), styles.muted))


def trail(phases: list[str], event: PushEvent | None, styles: Styles) -> Text:
    """✓ verify ✓ transfer 3/7 files, 12.0/40.0 KB ━━━━── ▸ commit · reboot · back online"""
    failed = bool(phases) and phases[-1] == "failed"
    finished = bool(phases) and phases[-1] == "done"
    reached = [p for p in phases if p in TRAIL]
    current = None if (failed or finished) else (reached[-1] if reached else None)
    out = Text()
    for phase in TRAIL:
        if out:
            out.append(" ")
        label = TRAIL_WORDS.get(phase, phase)
        if phase == current:
            out.append("▸ " + label, styles.busy)
        elif phase in reached:
            if failed and phase == reached[-1]:
                out.append("✗ " + label, styles.failed)
            else:
                out.append("✓ " + label, styles.ok)
        else:
            out.append("· " + label, styles.muted)
        if phase == "transfer" and phase in reached and event is not None and event.files_total:
            out.append(f" {event.files_done}/{plural(event.files_total, 'file')}, "
                       f"{size(event.bytes_done)}/{size(event.bytes_total)}")
            if phase == current:
                out.append(" ")
                out.append_text(bar(event.bytes_done / max(event.bytes_total, 1), 8, styles))
    if failed and not reached:
        out = Text.assemble(("✗ connect ", styles.failed), out)
    return out
