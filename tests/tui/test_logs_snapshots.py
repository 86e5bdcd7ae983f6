"""Snapshot goldens of the Logs tab (top-level snapshots/test_logs_snapshots/) at 80x24 and
120x40. Deterministic: lines from a fixture (two boards with fixed names, fixed times shown in
UTC), not a live board; no boards in the list, so nothing is watched or connected."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from mptui.ui.screens.call_form import CallScreen

from .conftest import wait_until
from .logs_help import chart, fed, fixture_lines, open_logs, settled

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
SMALL = pytest.mark.parametrize("size", [(80, 24)], ids=["80x24"])


async def lines_in(pilot):
    tab = await open_logs(pilot)
    await fed(pilot, fixture_lines())
    return tab


@SIZES
def test_filter(snap_compare, make_app, utc, size):
    async def filtered(pilot) -> None:
        tab = await lines_in(pilot)
        tab.filter_input.value = r"/n=1\d$/"
        tab.focus_tab()
        await settled(pilot)

    assert snap_compare(make_app(virtual=False), terminal_size=size, run_before=filtered)


@SMALL
def test_pause(snap_compare, make_app, utc, size):
    async def paused(pilot) -> None:
        await lines_in(pilot)
        await pilot.press("p")
        await fed(pilot, fixture_lines(12, start=40))

    assert snap_compare(make_app(virtual=False), terminal_size=size, run_before=paused)


@SIZES
def test_chart(snap_compare, make_app, utc, size):
    async def charted(pilot) -> None:
        tab = await lines_in(pilot)
        await pilot.press("g")
        await wait_until(lambda: chart(tab).plotted, what="the chart")
        main = pilot.app.screen
        await wait_until(lambda: len(main.contents) == len(main.tabs), what="every tab made")
        tab.focus_tab()
        await settled(pilot)

    assert snap_compare(make_app(virtual=False), terminal_size=size, run_before=charted)


@SMALL
def test_call_form_with_an_error(snap_compare, make_app, utc, size):
    async def called(pilot) -> None:
        await lines_in(pilot)
        await pilot.press("C")
        await wait_until(lambda: isinstance(pilot.app.screen, CallScreen))
        form = pilot.app.screen
        form.query_one("#call-board", Input).value = "porch"
        form.query_one("#call-name", Input).value = "set_led"
        form.query_one("#call-args", Input).value = "on=true pin=2"
        await pilot.press("enter")
        await wait_until(lambda: form.result.startswith("✗"), what="the answer")
        form.query_one("#call-args", Input).cursor_blink = False
        await pilot.pause()

    assert snap_compare(make_app(virtual=False), terminal_size=size, run_before=called)
