"""Board clocks: set from this computer's (services/rtc.py), on connect for boards whose config
says `set_rtc = true` (the app's manager and the command line alike), and `mptui rtc` on
several boards or --all. Each board's boot.py winds its clock back to 2001 first, so a clock
that reads this year was set by mptui."""

from __future__ import annotations

import time

import pytest
from helpers import run_cli

from mptui.config import load_config
from mptui.errors import UsageError
from mptui.services import rtc
from mptui.services.boards import Resolver
from mptui.services.manager import DeviceManager

BOOT = "import machine\nmachine.RTC().datetime((2001, 2, 3, 5, 4, 5, 6, 0))\n"
WOUND_BACK = "2001-02-03 04:05:"


def boards(data, *names):
    for name in names:
        root = data / "boards" / name
        root.mkdir(parents=True)
        (root / "boot.py").write_text(BOOT)


def config(path, **entries):
    path.write_text("".join(
        f'[boards.{name}]\naddress = "virtual:{name}"\nset_rtc = {"true" if on else "false"}\n'
        for name, on in entries.items()))


async def test_set_and_read(session):
    when = time.mktime((2024, 5, 6, 7, 8, 9, 0, 0, -1))
    await rtc.set_clock(session, when)
    assert (await rtc.read_clock(session)).startswith("2024-05-06 07:08:")
    assert rtc.host_datetime(when)[3] == 0  # a Monday: RTC weekdays count from Monday 0


async def test_the_manager_sets_the_clock_on_connect_when_the_config_says(isolated_env):
    boards(isolated_env / "data", "on", "off")
    config(isolated_env / "config.toml", on=True, off=False)
    async with DeviceManager(load_config(), usb=False, ble=False, network=False,
                             virtual=False) as manager:
        on = await manager.connect(manager.find("on").key)
        off = await manager.connect(manager.find("off").key)
        year = time.strftime("%Y")
        assert (await rtc.read_clock(on)).startswith(year + "-")
        assert (await rtc.read_clock(off)).startswith(WOUND_BACK)


def test_cli_rtc_on_several_boards_and_all(isolated_env):
    data = isolated_env / "data"
    boards(data, "a", "b")
    r = run_cli("rtc", "-d", "virtual:a", "-d", "virtual:b")
    assert r.returncode == 0, r.stderr
    assert [line.split(None, 1)[1][:17] for line in r.stdout.decode().splitlines()] == [
        WOUND_BACK, WOUND_BACK]
    r = run_cli("rtc", "--set", "-d", "virtual:a", "-d", "virtual:b")
    year = time.strftime("%Y")
    lines = r.stdout.decode().splitlines()
    assert [line.split()[0] for line in lines] == ["[virtual:a]", "[virtual:b]"]
    assert all(line.split()[1].startswith(year + "-") for line in lines)
    boards(data, "k1", "k2")
    config(isolated_env / "config.toml", k1=True, k2=False)
    r = run_cli("rtc", "--all")  # k1's clock set as it connects, k2's as its boot.py left it
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines[0].startswith("[k1] " + year) and lines[1].startswith("[k2] " + WOUND_BACK)
    r = run_cli("-d", "k1", "rtc")  # one board from the command line: set on connect too
    assert r.stdout.decode().startswith(year)


def test_set_rtc_must_be_a_boolean(isolated_env):
    (isolated_env / "config.toml").write_text(
        '[boards.x]\naddress = "virtual:x"\nset_rtc = "yes"\n')
    with pytest.raises(UsageError, match="set_rtc is true or false"):
        Resolver(load_config()).resolve("x")
