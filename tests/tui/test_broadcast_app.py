"""Run on marked boards in the app: space marks boards in the board list, e opens the screen,
the code runs on every marked board at once, each row has its state, time and error; a board
lost midway is reported and the others end (issue 13). Snapshots at 80x24 and 120x40."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Static

from mptui.services.broadcast import DONE, ENDED, FAILED, LOST
from mptui.ui.screens.broadcast import BroadcastScreen
from mptui.ui.widgets.device_list import DeviceList

from .conftest import wait_until

# one line, as typed; what each board does depends on the files on its own `/`
CODE = ("import os; f = os.listdir('/'); print('I am', open('/name').read()); "
        "assert 'raise' not in f, 'bad board'; print('ready') if 'hang' in f else None; "
        "exec('while 1:\\n pass') if 'hang' in f else None")
NAMES = ["a", "b", "c", "d", "e"]


def make_boards(isolated, odd: dict[str, str]) -> None:
    for name in NAMES:
        root = isolated / "boards" / name
        root.mkdir(parents=True)
        (root / "name").write_text(name)
        if name in odd:
            (root / odd[name]).write_text("")


async def marked_and_opened(pilot) -> BroadcastScreen:
    """The five boards added, each marked with space in the board list, then r."""
    app = pilot.app
    devices = app.screen.query_one(DeviceList)
    for name in NAMES:
        devices.update_board(app.manager.add(f"virtual:{name}"))
    await wait_until(lambda: devices.option_count == 6, what="the boards listed")
    devices.focus()
    for name in NAMES:
        devices.select_board(f"virtual:{name}")
        await pilot.press("space")
    assert devices.marked_keys() == [f"virtual:{n}" for n in NAMES]
    await pilot.press("asterisk")  # every board marked (the default one too), then none
    assert set(devices.marked_keys()) == {"virtual", *(f"virtual:{n}" for n in NAMES)}
    await pilot.press("asterisk")
    assert devices.marked_keys() == []
    for name in NAMES:
        devices.select_board(f"virtual:{name}")
        await pilot.press("space")
    assert "◆ virtual:a" in str(devices.get_option("virtual:a").prompt)
    await pilot.press("e")
    await wait_until(lambda: isinstance(app.screen, BroadcastScreen), what="the run screen")
    return app.screen


async def ran(pilot, screen: BroadcastScreen, code: str = CODE) -> None:
    screen.query_one(Input).value = code
    screen.query_one(Input).focus()
    await pilot.press("enter")


def cells(screen: BroadcastScreen, key: str) -> list[str]:
    return [str(c) for c in screen.query_one(DataTable).get_row(key)]


async def test_run_on_marked_boards_one_raising_one_lost(make_app, isolated):
    make_boards(isolated, {"c": "raise", "d": "hang"})
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await marked_and_opened(pilot)
        await ran(pilot, screen)
        d = "virtual:d"
        await wait_until(lambda: b"ready" in screen.runs[d].output, 30, "board d running")
        app.manager.session(d).transport.board.power_cycle()  # board d loses its power
        await wait_until(lambda: all(r.state in ENDED for r in screen.runs.values()), 30,
                         "every board done")
        await pilot.pause()
        for name in ("a", "b", "e"):
            row = cells(screen, f"virtual:{name}")
            assert row[0] == f"virtual:{name}" and row[1] == DONE
            assert row[2].endswith(" s") and row[3] == f"I am {name}"
        assert cells(screen, "virtual:c")[1:2] == [FAILED]
        assert cells(screen, "virtual:c")[3] == "AssertionError: bad board"
        assert cells(screen, d)[1] == LOST and "virtual" in cells(screen, d)[3]
        # the failing board's whole output and traceback under the table
        table = screen.query_one(DataTable)
        table.focus()
        table.move_cursor(row=2)
        await pilot.pause()
        shown = str(screen.query_one("#broadcast-output", Static).render())
        assert "I am c" in shown and "Traceback (most recent call last):" in shown
        assert "AssertionError: bad board" in shown
        # the boards are left at their REPL: the same screen runs again
        await ran(pilot, screen, "print(open('/name').read() * 2)")
        await wait_until(lambda: all(r.state in ENDED for r in screen.runs.values())
                         and screen.runs["virtual:a"].output, 30, "the second run")
        await pilot.pause()
        assert cells(screen, "virtual:a")[3] == "aa" and cells(screen, "virtual:c")[1] == DONE
        await pilot.press("escape")
        assert not isinstance(app.screen, BroadcastScreen)


async def _finished(pilot) -> None:
    """A run over five boards (c raising), its times frozen, board c's output shown."""
    screen = await marked_and_opened(pilot)
    await ran(pilot, screen)
    await wait_until(lambda: all(r.state in ENDED for r in screen.runs.values())
                     and screen.runs["virtual:a"].started, 30, "every board done")
    for i, run in enumerate(screen.runs.values()):
        run.started, run.ended = 100.0, 100.0 + 0.05 * (i + 1)
    screen._changed(*screen.runs.values())
    table = screen.query_one(DataTable)
    table.focus()
    table.move_cursor(row=2)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_run_on_marked_boards_snapshot(snap_compare, make_app, isolated, size):
    make_boards(isolated, {"c": "raise"})
    assert snap_compare(make_app(), terminal_size=size, run_before=_finished)


async def test_escape_stops_a_run_then_closes(make_app, isolated):
    make_boards(isolated, {"a": "hang", "b": "hang"})
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await marked_and_opened(pilot)
        await ran(pilot, screen)
        await wait_until(lambda: all(b"ready" in r.output for r in screen.runs.values()
                                     if r.name in ("virtual:a", "virtual:b")), 30, "a, b loop")
        await pilot.press("escape")  # Ctrl-C to the boards still running; the screen stays
        await wait_until(lambda: all(r.state in ENDED for r in screen.runs.values()), 30,
                         "every board stopped")
        await pilot.pause()
        assert isinstance(app.screen, BroadcastScreen)
        for key in ("virtual:a", "virtual:b"):
            assert screen.runs[key].state == FAILED
            assert screen.runs[key].error.startswith("KeyboardInterrupt")
        assert await app.manager.session("virtual:a").eval("6*7") == 42  # at its REPL again
        await pilot.press("escape")
        assert not isinstance(app.screen, BroadcastScreen)
