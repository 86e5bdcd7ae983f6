"""Values on the board from the command palette (issue 13, item 2): NAME = VALUE puts a value
(a literal, parsed, never run), NAME shows it; the board's values are listed."""

from __future__ import annotations

import ast
import io

from rich.console import Console
from textual.widgets import Input

from mptui.ui.screens.store import StoreScreen
from mptui.ui.widgets.device_list import DeviceList

from .conftest import wait_until

TITLE = "Boards: values on the board (store: put, show, list)"


def drawn(screen) -> str:
    console = Console(width=200, file=io.StringIO())
    console.print(screen.query_one("#store-log").render())
    return console.file.getvalue()


async def submitted(pilot, screen, text: str) -> None:
    count = len(screen.lines)
    screen.query_one(Input).value = text
    await pilot.press("enter")
    await wait_until(lambda: len(screen.lines) > count and not screen.busy, 30, text)


async def test_put_show_list_from_the_palette(make_app, board_root, tmp_path):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        devices = app.screen.query_one(DeviceList)
        await wait_until(lambda: devices.option_count >= 1, what="the board list")
        devices.select_board("virtual")
        devices.focus()
        assert TITLE not in [c.title for c in app.get_system_commands(app.screen)]
        await pilot.press("c")
        await wait_until(lambda: app.manager.board("virtual").connected, 30, "connected")
        command = next(c for c in app.get_system_commands(app.screen) if c.title == TITLE)
        command.callback()
        await wait_until(lambda: isinstance(app.screen, StoreScreen)
                         and app.screen.lines, 30, "the board's values listed")
        screen = app.screen
        assert "no values yet" in drawn(screen)
        await submitted(pilot, screen, "cal = {'gain': 1.25, 'raw': b'\\x00\\x01', 'n': [1, None]}")
        session = app.manager.session("virtual")
        assert await session.eval("cal['raw'][1] + len(cal['n'])") == 3  # a value there
        await session.exec("cal['n'].append(3)")  # changed on the board: shown as it is now
        await submitted(pilot, screen, "cal")
        name, _, shown = str(screen.lines[-1]).partition(" = ")  # (in the board's dict order)
        assert name == "cal"
        assert ast.literal_eval(shown) == {"gain": 1.25, "raw": b"\x00\x01", "n": [1, None, 3]}
        assert "[1, None, 3]" in drawn(screen)
        marker = tmp_path / "ran"
        await submitted(pilot, screen, f"x = __import__('os').system('touch {marker}')")
        assert "not a plain Python value" in drawn(screen) and not marker.exists()
        await submitted(pilot, screen, "nothing")
        assert "nothing is not set on the board" in drawn(screen)
        await pilot.press("escape")
        assert not isinstance(app.screen, StoreScreen)
