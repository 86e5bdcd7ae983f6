"""Helpers for the tests of the running app: what the REPL shows, opening it, the
notifications, what the screen paints, choosing a theme from the command palette."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette
from textual.notifications import Notify
from textual.widgets import Input

from mptui.ui.widgets.repl_terminal import ReplTerminal
from mptui.ui.widgets.status_line import StatusLine

from .conftest import wait_until

SIZE = (100, 30)


def shown(terminal: ReplTerminal) -> str:
    """What the terminal shows now."""
    return "\n".join(terminal.model.display())


async def open_repl(app, pilot) -> ReplTerminal:
    """Enter on the selected board: connect, REPL focused, prompt shown."""
    await pilot.press("enter")
    await wait_until(lambda: isinstance(app.focused, ReplTerminal), what="the REPL focused")
    terminal = app.focused
    await wait_until(lambda: shown(terminal).rstrip().endswith(">>>"), what="the prompt")
    return terminal


def status(app) -> str:
    return str(app.screen.query_one(StatusLine).render())


def notices(messages) -> list[str]:
    return [m.notification.message for m in messages if isinstance(m, Notify)]


def painted(app) -> str:
    """Every cell the app would send to the terminal now, all widgets of the screen on top
    (notifications included)."""
    from textual.geometry import Region

    parts = []
    for widget in app.screen.walk_children(with_self=True):
        width, height = widget.outer_size
        if widget.display and width and height:
            strips = widget.render_lines(Region(0, 0, width, height))
            parts.extend(segment.text for strip in strips for segment in strip)
    return "".join(parts)


async def pick_theme(app, pilot, name: str) -> None:
    """F9 (the themes in the command palette), then the theme `name`."""
    await pilot.press("f9")
    await wait_until(lambda: isinstance(app.screen, CommandPalette))
    app.screen.query_one(Input).value = name
    await wait_until(lambda: app.screen.query_one(CommandList).option_count > 0)
    await pilot.press("down", "enter")
