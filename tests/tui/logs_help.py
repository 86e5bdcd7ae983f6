"""Helpers for the Logs tab's tests: fixed lines (two boards, numbers in them, a connection note
and a drop note, fixed times), the tab as the user sees it, and waits."""

from __future__ import annotations

from mptui.services.logs import DROP, STATUS, LogLine
from mptui.ui.widgets.log_chart import LogChart
from mptui.ui.widgets.logs_status import LogsStatus
from mptui.ui.widgets.logs_tab import LogsTab

from .conftest import wait_until

T0 = 1763721000.0  # 2025-11-21 10:30:00 UTC
BOARDS = ("kitchen", "garage")


def fixture_lines(count: int = 40, start: int = 0) -> list[LogLine]:
    """`count` lines from kitchen and garage in turn, half a second apart: `temp=... hum=...
    n=<i>` (garage's temp 5 degrees lower), a note that kitchen connected, and one that garage
    dropped lines."""
    lines = []
    for i in range(start, start + count):
        board = BOARDS[i % 2]
        temp = 20 + (i % 8) * 0.5 - (5 if board == "garage" else 0)
        lines.append(LogLine(board, T0 + i * 0.5, f"temp={temp:.1f} hum={50 + i % 5} n={i}"))
    if start == 0:
        lines.insert(1, LogLine("kitchen", T0 + 0.1, "connected (rio://10.0.0.7:2019, "
                                "agent 1.1)", STATUS))
        lines.insert(7, LogLine("garage", T0 + 2.6, "3 lines dropped: this listener fell "
                                "behind", DROP, 3))
    return lines


def logs_tab(app) -> LogsTab:
    return app.screen.query_one(LogsTab)


async def open_logs(pilot) -> LogsTab:
    await pilot.press("l")
    tab = logs_tab(pilot.app)
    await wait_until(lambda: tab.view.has_focus, what="the Logs tab")
    return tab


async def fed(pilot, lines: list[LogLine]) -> LogsTab:
    """The lines in the tab and on screen (the repaint done)."""
    tab = logs_tab(pilot.app)
    tab.add_lines(lines)
    await settled(pilot)
    return tab


async def settled(pilot) -> None:
    tab = logs_tab(pilot.app)
    await wait_until(lambda: not tab._pending and tab._repaint is None, what="the repaint")
    await pilot.pause()
    await pilot.pause()


def shown(tab: LogsTab) -> list[str]:
    """The texts of the lines shown (filter applied, not those held by a pause)."""
    return [line.text for _, line in tab.model.feed.shown]


def on_screen(tab: LogsTab) -> list[str]:
    """The view's rows as drawn."""
    view = tab.view
    return [view.render_line(y).text.rstrip()
            for y in range(view.scrollable_content_region.height)]


def status(tab: LogsTab) -> str:
    return str(tab.query_one(LogsStatus).render())


def chart(tab: LogsTab) -> LogChart:
    return tab.query_one(LogChart)
