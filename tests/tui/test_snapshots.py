"""Snapshot goldens (top-level snapshots/test_snapshots/) at 80x24 and 120x40. Deterministic:
fixed board names and paths, no clocks, a cursor that does not blink."""

from __future__ import annotations

import pytest

from mptui.ui.screens.help import HelpScreen
from mptui.ui.widgets.device_list import DeviceList
from mptui.ui.widgets.repl_terminal import ReplTerminal

from .conftest import wait_until

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


def _shown(app) -> str:
    terminal = app.focused
    return "\n".join(terminal.model.display()) if isinstance(terminal, ReplTerminal) else ""


async def _listed(pilot) -> None:
    """The board list filled and focused (Enter there opens the board: a key that comes
    before the focus goes nowhere)."""
    devices = pilot.app.screen.query_one(DeviceList)
    await wait_until(lambda: devices.option_count >= 1 and pilot.app.focused is devices,
                     what="the board list, focused")


async def _repl_after_6x7(pilot) -> None:
    app = pilot.app
    await _listed(pilot)
    await pilot.press("enter")
    await wait_until(lambda: _shown(app).rstrip().endswith(">>>"), what="the prompt")
    await pilot.press("6", "*", "7", "enter")
    await wait_until(lambda: _shown(app).rstrip().endswith("42\n>>>"), what="42")
    await wait_until(lambda: app.focused.pending == 0)
    await pilot.pause()


@SIZES
def test_no_boards(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=_listed)


@SIZES
def test_virtual_board_at_the_repl(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=_repl_after_6x7)


@SIZES
def test_a_board_that_went_away(snap_compare, make_app, usb_ports, size):
    usb_ports.plug("/dev/ttyACM0", description="Raspberry Pi Pico")

    async def unplugged(pilot) -> None:
        devices = pilot.app.screen.query_one(DeviceList)
        await wait_until(lambda: devices.option_count == 2, what="the USB board")
        usb_ports.unplug("/dev/ttyACM0")
        await wait_until(lambda: "gone" in str(devices.get_option_at_index(0).prompt))
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=unplugged)


@SIZES
def test_help_screen(snap_compare, make_app, size):
    async def help_open(pilot) -> None:
        await _listed(pilot)
        await pilot.press("f1")
        await wait_until(lambda: isinstance(pilot.app.screen, HelpScreen))
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=help_open)


@SIZES
def test_light_theme(snap_compare, make_app, config_file, size):
    config_file.write_text('theme = "mptui-light"\n')
    assert snap_compare(make_app(), terminal_size=size, run_before=_repl_after_6x7)
