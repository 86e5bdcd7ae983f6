"""Nothing is cut (issue 21, item 4): every tab at 80x24, 120x36 and 160x50 with long board
names, long addresses and long file names (goldens in snapshots/test_fit_snapshots/). Each was
looked at: the status line, the footers, the board list, the panes' names and the OTA lines
are whole, or shortened on purpose with … where the whole is shown elsewhere.

Deterministic: fixed names and sizes under a temporary home, frozen free space and watch
clock (as tests/tui/test_files_snapshots.py), a fixed push time in the OTA history shown in
UTC, fixed log lines; the addresses are on 127.x.x.x, where nothing listens (refused at once:
no network, no waiting)."""

from __future__ import annotations

import pytest

from mptui.board.session import IDLE
from mptui.services.boardfs import BoardFSAdapter
from mptui.services.localfs import LocalFS
from mptui.services.logs import LogLine
from mptui.services.ota import PushResult
from mptui.services.ota.history import History
from mptui.ui.widgets import watch_panel
from mptui.ui.widgets.device_list import DeviceList

from .conftest import wait_until
from .filehelp import go_to, listed, make_tree, open_files
from .logs_help import T0, fed, open_logs, settled
from .ota_help import asked, write_project

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 36), (160, 50)],
                                ids=["80x24", "120x36", "160x50"])
LONG = "kitchen-sensor-node-upstairs"
BRIDGE = "socket://127.0.0.1:2218"
PUSHED_AT = 1763721000.0  # 2025-11-21 10:30 UTC
PROJECT = {
    "main.py": "print('hello')\n",
    "sensor_calibration_table_for_the_greenhouse_north.py": "T = 1\n" * 400,
    "lib/a_rather_long_module_name_for_the_wifi_setup.py": "W = 1\n",
}
BOARD = {"boot.py": "# boot\n", "main.py": "print('old')\n",
         "measurements_from_the_greenhouse_2025_11_21.csv": "t,v\n" * 3000,
         "lib/util.py": "X = 1\n"}


@pytest.fixture
def world(isolated, config_file, project, board_root, monkeypatch, utc):
    """Long names everywhere: a config board, the project's files and OTA release, the
    board's files, a push in the history."""
    async def local_df(self, path):
        return 500 * 2**30, 123 * 2**30

    async def board_df(self, path):
        return 2 * 2**20, 1_400_000

    monkeypatch.setattr(LocalFS, "df", local_df)
    monkeypatch.setattr(BoardFSAdapter, "df", board_df)
    monkeypatch.setattr(watch_panel, "clock_text", lambda seconds: "12:00:00")
    config_file.write_text(f'[boards."{LONG}"]\naddress = "ws://127.100.200.250:8266"\n'
                           'ota = "127.100.200.250:2018"\n')
    write_project(project, "0.2.0", {"main.py": b"print('0.2.0')\n"}, [LONG, "virtual"])
    make_tree(project, PROJECT)
    make_tree(board_root, BOARD)
    ok = PushResult("virtual", True, "0.2.0", files=1, bytes=15, seconds=0.2)
    History().add(History.record([ok], "0.2.0", False, project / "mptui.toml", when=PUSHED_AT))


async def listed_with_a_bridge(pilot) -> DeviceList:
    """The board list: the config's board, a bridge added by hand, the virtual board."""
    app = pilot.app
    devices = app.screen.query_one(DeviceList)
    await wait_until(lambda: devices.option_count == 2, what="the board list")
    board = app.manager.add(BRIDGE)
    devices.update_board(board)
    await wait_until(lambda: devices.option_count == 3, what="the bridge listed")
    devices.select_board("virtual")
    await pilot.pause()
    return devices


async def repl(pilot) -> None:
    app = pilot.app
    devices = await listed_with_a_bridge(pilot)
    await pilot.press("enter")
    await wait_until(lambda: (app.screen.terminal("virtual") is not None and app.screen.terminal(
        "virtual").model.display()[-1].startswith(">>>")) or any(
        line.startswith(">>>") for line in app.screen.terminal("virtual").model.display()),
        what="the prompt")
    await pilot.press("6", "*", "7", "enter")
    terminal = app.screen.terminal("virtual")
    await wait_until(lambda: "42" in terminal.model.display(), what="42")
    await pilot.press("ctrl+right_square_bracket")  # the board list's keys in the footer
    await wait_until(lambda: devices.has_focus and terminal.pending == 0)
    await pilot.pause()


async def files(pilot) -> None:
    await listed_with_a_bridge(pilot)
    app = pilot.app
    tab = await open_files(app, pilot)
    await app.manager.wait_state("virtual", IDLE)
    await wait_until(lambda: listed(tab.local_pane) and listed(tab.board_pane))
    await go_to(pilot, tab.local_pane, "sensor_calibration_table_for_the_greenhouse_north.py")
    await pilot.pause()
    await pilot.pause()


async def ota(pilot) -> None:
    await listed_with_a_bridge(pilot)
    await pilot.press("o")
    tab = pilot.app.screen.query_one("OtaTab")
    await wait_until(lambda: "virtual" in tab.fleet.boards, what="the OTA list")
    await asked(tab, LONG)
    tab.focus_tab()
    tab.table.move_to("virtual")  # its last push in the lines under the table
    await pilot.pause()
    await pilot.pause()


async def logs(pilot) -> None:
    await listed_with_a_bridge(pilot)
    tab = await open_logs(pilot)
    await wait_until(lambda: "virtual" in tab.model.watching)  # the selected board, at first
    await tab.unwatch("virtual").wait()  # its lines come at their time: not in a golden
    await settled(pilot)
    await pilot.press("ctrl+l")
    await fed(pilot, [
        LogLine(LONG, T0 + i * 0.5, f"temperature_in_the_greenhouse_north={20 + i % 5}.5 "
                f"humidity={50 + i} reading number {i} of the morning run, all well")
        for i in range(30)])
    tab.focus_tab()
    await settled(pilot)


@SIZES
@pytest.mark.parametrize("scene", [repl, files, ota, logs], ids=lambda f: f.__name__)
def test_every_tab_fits(snap_compare, make_app, world, size, scene):
    assert snap_compare(make_app(), terminal_size=size, run_before=scene)
