"""The info panel (n): the selected board's facts as the board gives them; a board not
connected says how to connect; snapshots at 80x24 and 120x40 (issue 13)."""

from __future__ import annotations

import binascii
import io

import pytest
from rich.console import Console

from mptui.ui.screens.board_info import BoardInfoScreen
from mptui.ui.widgets.device_list import DeviceList

from .conftest import wait_until


async def connected_and_opened(pilot) -> BoardInfoScreen:
    app = pilot.app
    devices = app.screen.query_one(DeviceList)
    await wait_until(lambda: devices.option_count >= 1, what="the board list")
    devices.select_board("virtual")
    devices.focus()
    await pilot.press("c")
    await wait_until(lambda: app.manager.board("virtual").connected, 30, "connected")
    await pilot.press("n")
    await wait_until(lambda: isinstance(app.screen, BoardInfoScreen), what="the info panel")
    screen = app.screen
    await wait_until(lambda: screen.facts is not None, 30, "the board's answers")
    await pilot.pause()
    return screen


def shown(screen) -> str:
    """The panel's text, as drawn."""
    console = Console(width=200, file=io.StringIO())
    console.print(screen.render_facts())
    return console.file.getvalue()


async def test_the_panel_shows_the_boards_own_answers(make_app, board_root):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await connected_and_opened(pilot)
        session = app.manager.session("virtual")
        uid = binascii.hexlify(await session.eval("__import__('machine').unique_id()")).decode()
        machine = await session.eval("__import__('sys').implementation._machine")
        text = shown(screen)
        assert uid in text and machine in text and "json" in text
        assert screen.facts.unique_id == uid
        await pilot.press("u")  # asked again: one more answer, the same board
        await wait_until(lambda: not screen.asking, 30, "the second answer")
        assert screen.facts.unique_id == uid
        await pilot.press("escape")
        assert not isinstance(app.screen, BoardInfoScreen)


async def test_a_board_not_connected_says_how(make_app, board_root):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        devices = app.screen.query_one(DeviceList)
        await wait_until(lambda: devices.option_count >= 1, what="the board list")
        devices.select_board("virtual")
        devices.focus()
        await pilot.press("n")
        await wait_until(lambda: isinstance(app.screen, BoardInfoScreen), what="the panel")
        assert "is not connected: c connects it" in shown(app.screen)
        assert app.manager.session("virtual") is None  # nothing was opened for it


async def _frozen(pilot) -> None:
    """The panel on the virtual board, the values that change between runs fixed."""
    screen = await connected_and_opened(pilot)
    facts = screen.facts
    facts.heap_free, facts.heap_total = 2_000_000, 2_072_832
    facts.fs_size, facts.fs_free = 2 * 2**20, 1_400_000
    facts.round_trip = 0.0004
    screen.asked_at = 1763721000.0  # 2025-11-21 10:30 UTC
    screen.redraw()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_info_panel_snapshot(snap_compare, make_app, board_root, utc, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=_frozen)


async def test_t_measures_the_link_into_the_panel(make_app, board_root):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await connected_and_opened(pilot)
        assert screen.speed is None and "host -> board" not in shown(screen)
        await pilot.press("t")
        await wait_until(lambda: screen.speed is not None and not screen.measuring, 60,
                         "the speed test")
        text = shown(screen)
        assert "host -> board" in text and "raw-paste window" in text and "transfers" in text
        assert screen.speed.up > 0 and screen.speed.raw_paste_window == 128
        assert screen.facts is not None and screen.facts.machine in text  # the facts stay
