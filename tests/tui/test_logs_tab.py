"""The Logs tab driven with Pilot: a virtual board running the real agent, heard announcing
itself on loopback, listed and streamed live; a board without the agent watched at its REPL
(beside the REPL terminal); filter, pause, save, clear, follow, the chart and the line limit on
fixed lines; calls from the command palette's form against the real agent."""

from __future__ import annotations

import asyncio
import re

import pytest
from agentboards import free_port
from rioboards import start_rio_board
from textual.command import CommandList, CommandPalette
from textual.widgets import Input, TabbedContent

from mptui.services.logs import format_line
from mptui.services.ota.install import agent_version
from mptui.ui.screens.call_form import CallScreen
from mptui.ui.screens.help import HelpScreen
from mptui.ui.screens.prompt import PromptScreen
from mptui.ui.widgets.device_list import DeviceList
from mptui.ui.widgets.logs_status import LogsStatus
from mptui.ui.widgets.repl_terminal import ReplTerminal

from .conftest import wait_until
from .logs_help import (
    chart,
    fed,
    fixture_lines,
    logs_tab,
    on_screen,
    open_logs,
    settled,
    shown,
    status,
)

SIZE = (120, 40)


@pytest.fixture
async def rio_boards(isolated):
    """async rio_boards(name, **agent settings) -> a virtual board running the real agent with
    RemoteIO (tests/remoteio/rioboards.py), stopped after the test."""
    started = []

    async def start(name: str, **agent):
        board = await start_rio_board(isolated / "rio" / name, **agent)
        started.append(board)
        return board

    yield start
    await asyncio.gather(*(b.close() for b in started), return_exceptions=True)


async def test_an_announced_board_is_listed_and_its_lines_come_live(make_app, config_file,
                                                                     rio_boards):
    port = free_port()
    board = await rio_boards("kitchen", announce="127.0.0.1", announce_port=port,
                             announce_every=0.3)
    config_file.write_text(f'[network]\nannounce_port = {port}\nannounce_bind = "127.0.0.1"\n')
    app = make_app(network=True)
    async with app.run_test(size=SIZE) as pilot:
        devices = app.screen.query_one(DeviceList)
        await wait_until(lambda: board.address in devices.boards, what="the announcement")
        info = devices.boards[board.address]
        assert (info.name, info.kind, info.label) == ("kitchen", "network", f"agent {agent_version()}")
        assert "kitchen" in str(devices.get_option(board.address).prompt)

        devices.select_board(board.address)
        await pilot.press("enter")  # chosen: it has no REPL, its lines come in the Logs tab
        tab = logs_tab(app)
        assert app.screen.query_one(TabbedContent).active == "logs"
        assert tab.model.watching == {board.address: "kitchen"}
        assert app.screen.check_action("connect", ()) is False
        await wait_until(lambda: any(t.startswith("connected") for t in shown(tab)))

        await board.call("start", {"lines": 500, "rate": 1000, "tag": "tick"})
        await wait_until(lambda: "tick done" in shown(tab), what="the last line")
        ticks = [t for t in shown(tab) if t.startswith("tick")]
        assert ticks == [f"tick {i}" for i in range(500)] + ["tick done"]  # in order, all
        assert tab.repaints < len(ticks)  # in batches
        await settled(pilot)
        assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} \[kitchen\] tick done", on_screen(tab)[-1])
        assert "● kitchen" in str(tab.query_one("#logs-boards").render())


async def test_a_board_without_the_agent_is_watched_at_its_repl(make_app, board_root):
    (board_root / "main.py").write_text(
        "import time\nfor i in range(100000):\n    print('tick', i)\n    time.sleep_ms(20)\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        devices = app.screen.query_one(DeviceList)
        await wait_until(lambda: "virtual" in devices.boards)
        await pilot.press("enter")  # the REPL first: its terminal is the console's sink
        terminal = app.screen.terminal("virtual")
        await wait_until(lambda: "tick" in "\n".join(terminal.model.display()))
        devices.focus()
        tab = await open_logs(pilot)  # shown for the first time: the selected board is watched
        assert tab.model.watching == {"virtual": "virtual"}
        await wait_until(lambda: sum(t.startswith("tick") for t in shown(tab)) >= 5,
                         what="ticks in the Logs tab")
        assert "watching the REPL output of virtual" in shown(tab)
        last = [t for t in shown(tab) if t.startswith("tick")][-1]
        # both get the board's output: the terminal too
        await wait_until(lambda: last in "\n".join(terminal.model.display()), what=last)
        numbers = [int(t.split()[1]) for t in shown(tab) if t.startswith("tick ")]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))

        await pilot.press("w")  # stop watching it
        await wait_until(lambda: shown(tab)[-1] == "stopped watching")
        count = len(shown(tab))
        await wait_until(lambda: last not in "\n".join(terminal.model.display()[-3:]))
        assert len(shown(tab)) == count and isinstance(terminal, ReplTerminal)


async def test_filter_by_text_and_regex(make_app):
    app = make_app(virtual=False)
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_logs(pilot)
        await fed(pilot, fixture_lines())
        assert len(shown(tab)) == 42
        tab.filter_input.value = "N=1"  # any case
        await pilot.pause()
        assert [t.split()[-1] for t in shown(tab)] == ["n=1", *(f"n={i}" for i in range(10, 20))]
        assert on_screen(tab)[0].endswith("[garage]  temp=15.5 hum=51 n=1")
        tab.filter_input.value = r"/n=\d*[05]$/"
        await pilot.pause()
        assert [t.split()[-1] for t in shown(tab)] == [f"n={i}" for i in range(0, 40, 5)]
        await fed(pilot, fixture_lines(10, start=40))  # new lines pass the filter too
        assert [t.split()[-1] for t in shown(tab)][-2:] == ["n=40", "n=45"]
        before = shown(tab)
        tab.filter_input.value = "/temp=(/"
        await pilot.pause()
        assert shown(tab) == before  # a bad regex leaves the filter as it was
        assert "bad regular expression" in status(tab)
        assert tab.filter_input.has_class("-invalid")
        tab.filter_input.value = ""
        await pilot.pause()
        assert len(shown(tab)) == 52 and "bad regular" not in status(tab)


async def test_pause_keeps_lines_and_resume_shows_them_all(make_app):
    app = make_app(virtual=False)
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_logs(pilot)
        await fed(pilot, fixture_lines())
        screen_before = on_screen(tab)
        await pilot.press("p")
        await fed(pilot, fixture_lines(30, start=40))
        assert len(shown(tab)) == 42 and on_screen(tab) == screen_before
        assert "paused, 30 new lines held" in status(tab)
        await pilot.press("p")
        await settled(pilot)
        assert [t.split()[-1] for t in shown(tab)][-30:] == [f"n={i}" for i in range(40, 70)]
        assert on_screen(tab)[-1].endswith("n=69") and "following" in status(tab)


async def test_save_writes_the_lines_that_pass_the_filter(make_app, isolated):
    app = make_app(virtual=False)
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_logs(pilot)
        await fed(pilot, fixture_lines())
        tab.filter_input.value = r"/n=\d*[13579]$/"  # odd lines: garage's
        tab.focus_tab()
        await pilot.press("p")
        await fed(pilot, fixture_lines(4, start=40))  # held by the pause: saved too
        await pilot.press("ctrl+s")
        await wait_until(lambda: isinstance(app.screen, PromptScreen))
        assert app.screen.query_one(Input).value.endswith(".log")
        target = isolated / "saved.log"
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_until(target.exists, what="the file")
        expected = [format_line(line) for line in tab.model.feed.buffer
                    if line.kind == "out" and int(line.text.split("=")[-1]) % 2]
        await wait_until(lambda: target.read_text().splitlines() == expected)
        assert len(expected) == 20 + 2  # 20 of the first lines, 2 held by the pause
        assert expected[-1].endswith("[garage] temp=16.5 hum=53 n=43")


async def test_clear_and_follow(make_app):
    app = make_app(virtual=False)
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_logs(pilot)
        await fed(pilot, fixture_lines(200))
        assert on_screen(tab)[-1].endswith("n=199")
        await pilot.press("up", "up", "up")
        assert not tab.model.following and "not following" in status(tab)
        top = tab.view.scroll_y
        await fed(pilot, fixture_lines(20, start=200))
        assert tab.view.scroll_y == top  # the lines read stay in view
        await pilot.press("end")
        await settled(pilot)
        assert tab.model.following and on_screen(tab)[-1].endswith("n=219")
        await pilot.press("ctrl+l")
        await settled(pilot)
        assert shown(tab) == [] and len(tab.model.feed.buffer) == 0
        await fed(pilot, fixture_lines(2, start=220))
        assert shown(tab) == ["temp=22.0 hum=50 n=220", "temp=17.5 hum=51 n=221"]


async def test_the_chart_shows_a_series_for_the_chosen_key(make_app):
    app = make_app(virtual=False)
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_logs(pilot)
        await fed(pilot, fixture_lines())
        await pilot.press("g")
        plot = chart(tab)
        await wait_until(lambda: plot.display and plot.plotted, what="the chart")
        assert plot.keys == ["temp", "hum", "n"] and plot.key == "temp"
        assert set(plot.plotted) == {"kitchen", "garage"}
        assert [v for _, v in plot.plotted["kitchen"]][:4] == [20.0, 21.0, 22.0, 23.0]
        assert [v for _, v in plot.plotted["garage"]][:2] == [15.5, 16.5]
        plot.select.value = "hum"  # another key
        await wait_until(lambda: [v for _, v in plot.plotted["kitchen"]][:3] == [50, 52, 54])
        drawn = str(plot.query_one("#chart-plot").render())
        assert "kitchen" in drawn and "garage" in drawn  # the legend, one series per board
        await fed(pilot, fixture_lines(4, start=40))  # live: new points join
        await wait_until(lambda: plot.plotted["garage"][-1][1] == 53, what="the new points")
        await pilot.press("g")
        assert not plot.display


async def test_the_line_limit_comes_from_the_config(make_app, config_file):
    config_file.write_text("[logs]\nlines = 50\n")
    app = make_app(virtual=False)
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_logs(pilot)
        await fed(pilot, fixture_lines(120))
        assert len(tab.model.feed.buffer) == 50 and len(shown(tab)) == 50
        assert shown(tab)[-1].endswith("n=119") and shown(tab)[0].endswith("n=70")
        assert "3 dropped by boards · 72 pushed out · 50 shown of 50 (keeps 50)" in status(tab)
        # narrower: a shorter wording that still fits, not the long one cut
        await pilot.resize_terminal(80, 24)
        await wait_until(lambda: "/" in status(tab), what="the short status")
        assert status(tab) == "following · 3 dropped · 72 pushed out · 50/50 shown"
        assert len(status(tab)) <= tab.query_one(LogsStatus).content_size.width


async def test_a_call_from_the_palette_shows_its_result_or_its_error(make_app, rio_boards):
    board = await rio_boards("kitchen")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.manager.add(board.address, name="kitchen")  # as `a` does: an agent address
        await pilot.press("ctrl+p")
        await wait_until(lambda: isinstance(app.screen, CommandPalette))
        app.screen.query_one(Input).value = "call a function"
        await wait_until(lambda: app.screen.query_one(CommandList).option_count > 0)
        await pilot.press("down", "enter")
        await wait_until(lambda: isinstance(app.screen, CallScreen), what="the form")
        form = app.screen
        assert form.value("board") == "kitchen"

        async def call(name: str, args: str = "", board_name: str = "kitchen") -> str:
            form.query_one("#call-board", Input).value = board_name
            form.query_one("#call-name", Input).value = name
            form.query_one("#call-args", Input).value = args
            form.result = ""
            form.query_one("#call-name", Input).focus()
            await pilot.press("enter")
            await wait_until(lambda: form.result.startswith(("✓", "✗")), what=f"{name}'s answer")
            return form.result

        assert await call("add", "a=2 b=3") == "✓ add → 5"
        assert await call("add", 'a="kit" b="chen"') == '✓ add → "kitchen"'
        assert await call("nope") == "✗ unknown handler: nope"
        failed = await call("fail", 'why="no luck"')
        assert failed.startswith("✗ ValueError: no luck\nTraceback")
        assert (await call("add", "a=")).startswith("✗ ")  # "" is a string: str + int raises
        assert await call("add", "=2") == ("✗ '=2': arguments are KEY=VALUE, KEY a name "
                                          "(letters, digits, _)")
        assert (await call("ping", board_name="virtual")).startswith(
            "✗ virtual has no agent to call")
        await pilot.press("escape")
        assert not isinstance(app.screen, CallScreen)


async def test_logs_keys_are_in_help_and_the_palette(make_app):
    app = make_app(virtual=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_logs(pilot)
        await pilot.press("f1")
        await wait_until(lambda: isinstance(app.screen, HelpScreen))
        ids = {entry.id for entry in app.screen.keys}
        assert {"logs.filter", "logs.pause", "logs.follow", "logs.chart", "logs.clear",
                "logs.save", "logs.call", "logs.watch"} <= ids
        await pilot.press("escape")
        titles = [title for title, _, _ in app.screen.palette_commands()]
        assert "Logs: Call a function on a board (RemoteIO), with key=value arguments" in titles
        assert "Logs: Pause the view (lines still come in and are kept); again: resume" in titles
