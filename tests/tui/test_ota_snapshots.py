"""Snapshot goldens of the OTA tab with boards (top-level snapshots/test_ota_snapshots/) at 80x24
and 120x40. Deterministic: fixed board names (config names), versions and sizes, results from
real pushes with a fixed time in the history, times shown in UTC."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from agentboards import KEY, app_files, make_project

from mptui.services.ota import push, push_fleet
from mptui.services.ota.history import History
from mptui.services.ota.project import Secrets
from mptui.ui.widgets.device_list import DeviceList

from .conftest import wait_until
from .ota_help import LoopThread, asked, ota_secrets, start_board, write_project

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
NAMES = ("kitchen", "garage", "porch")
AWAY = "ota://127.0.0.1:1"  # nothing listens there
PUSHED_AT = 1763721000.0  # 2025-11-21 10:30 UTC


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """Three agent boards, served from a thread (they outlive each test's loop): kitchen and
    garage on release 1.0, marked good; porch refused a push with a wrong password. Returns
    the boards and those three real results."""
    root = tmp_path_factory.mktemp("ota-snapshots")
    secrets = ota_secrets(root)
    thread = LoopThread()

    async def set_up():
        boards = await asyncio.gather(*(start_board(root / n, secrets) for n in NAMES))
        v1 = make_project(root, "1.0", app_files("1.0"), secrets)
        results = await push_fleet([b.address for b in boards[:2]], v1)
        wrong = Secrets(root / "wrong.toml", password="not it", signing_key=KEY)
        results.append(await push(boards[2].address, make_project(root, "1.0", app_files("1.0"),
                                                                   wrong)))
        for board in boards[:2]:
            await board.wait_for(lambda b=board: b.state().get("good"), what="1.0 marked good")
        return boards, results

    boards, results = thread.run(set_up())
    assert [r.ok for r in results] == [True, True, False], [r.error for r in results]
    yield boards, [dataclasses.replace(r, board=n) for r, n in zip(results, NAMES, strict=True)]

    async def tear_down():
        await asyncio.gather(*(b.session.close() for b in boards), return_exceptions=True)

    thread.run(tear_down())
    thread.stop()


@SIZES
def test_ota_tab_with_boards(snap_compare, make_app, isolated, config_file, fleet, utc,
                             monkeypatch, size):
    boards, results = fleet
    config_file.write_text("".join(
        f'[boards.{name}]\naddress = "ws://127.0.0.1:{8301 + i}"\nota = "127.0.0.1:{b.port}"\n'
        for i, (name, b) in enumerate(zip(NAMES, boards, strict=True))))
    project = write_project(isolated / "proj", "1.1", app_files("1.1"), [*NAMES, AWAY])
    monkeypatch.chdir(project)
    History().add(History.record(results, "1.0", False, project / "mptui.toml", when=PUSHED_AT))

    async def marked_one(pilot) -> None:
        devices = pilot.app.screen.query_one(DeviceList)
        await wait_until(lambda: devices.option_count == 4, what="the board list")
        await pilot.press("o")
        tab = pilot.app.screen.query_one("OtaTab")
        await asked(tab, *NAMES, AWAY)
        await pilot.press("down", "space")  # garage marked; the cursor on porch
        await asked(tab, *NAMES, AWAY)
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=marked_one)
