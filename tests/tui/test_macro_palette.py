"""[commands] macros in the app's command palette: listed there, run on the selected board's
session, their output shown in a dialog (the real virtual board)."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette
from textual.widgets import Input

from mptui.cli import COMMANDS, build_parser
from mptui.commands.chain import app_runner
from mptui.config import load_config
from mptui.ui.app import MptuiApp
from mptui.ui.screens.macro_output import MacroOutputScreen

from .conftest import wait_until

CONFIG = """\
[commands]
answer = "exec 'a=6' + eval 'a*{times}'"
boom = "exec 'print(1)' + exec '1/0' + exec 'print(2)'"
shell = "repl"
pause = "exec 'print(1)' + sleep 0.01 + resume + exec 'print(2)'"
[commands.led]
run = "exec 'print({pin!r}, {value})'"
help = "switch an LED"
defaults = { value = "1", pin = "LED" }
"""


def make(make_manager, config_file) -> MptuiApp:
    config_file.write_text(CONFIG)
    manager = make_manager()
    assert manager.config.commands, load_config().error
    return MptuiApp(manager.config, manager, run_macro=app_runner(build_parser, COMMANDS))


async def run_from_palette(app, pilot, text: str) -> MacroOutputScreen:
    await pilot.press("f12")
    await wait_until(lambda: isinstance(app.screen, CommandPalette), what="the palette")
    app.screen.query_one(Input).value = f"Macro: {text}"
    hits = app.screen.query_one(CommandList)
    await wait_until(lambda: hits.option_count and str(
        hits.get_option_at_index(0).prompt).startswith(f"Macro: {text}\n"), what="the macro")
    await pilot.press("enter")
    await wait_until(lambda: isinstance(app.screen, MacroOutputScreen), what="the output")
    screen = app.screen
    await wait_until(lambda: screen.exit_code is not None, timeout=30, what="the macro's end")
    return screen


async def test_a_macro_runs_from_the_palette_and_shows_its_output(make_manager, config_file):
    app = make(make_manager, config_file)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(lambda: app.screen.board is not None, what="a board selected")
        screen = await run_from_palette(app, pilot, "led")
        assert (screen.exit_code, screen.text) == (0, "LED 1\n")
        await pilot.press("escape")
        await wait_until(lambda: not isinstance(app.screen, MacroOutputScreen))
        # the commands of a chain share the board's session: a variable lives on
        await app.manager.session("virtual").exec("a = 0")
        app.screen.run_macro("answer", ["7"])
        await wait_until(lambda: isinstance(app.screen, MacroOutputScreen))
        screen = app.screen
        await wait_until(lambda: screen.exit_code is not None, timeout=30)
        assert (screen.exit_code, screen.text) == (0, "42\n")
        assert await app.manager.session("virtual").eval("a") == 6
        await pilot.press("escape")
        screen = await run_from_palette(app, pilot, "pause")  # the chain's own commands too
        assert (screen.exit_code, screen.text) == (0, "1\n2\n")


async def test_a_failing_macro_stops_with_the_error_shown(make_manager, config_file):
    app = make(make_manager, config_file)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(lambda: app.screen.board is not None, what="a board selected")
        screen = await run_from_palette(app, pilot, "boom")
        assert screen.exit_code == 1
        assert screen.text.startswith("1\nTraceback")
        assert "ZeroDivisionError" in screen.text and "\n2\n" not in screen.text
        await pilot.press("escape")
        screen = await run_from_palette(app, pilot, "answer")  # {times} has no default
        assert screen.exit_code == 2
        assert screen.text == "mptui: answer: missing times (usage: mptui answer times)\n"
        await pilot.press("escape")
        screen = await run_from_palette(app, pilot, "shell")
        assert screen.exit_code == 2 and "repl is not run from the palette" in screen.text
