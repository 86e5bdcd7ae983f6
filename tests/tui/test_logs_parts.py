"""The Logs tab's parts without the UI: the feed (filter, pause, limit, series), what is drawn of a
board's text, the DeviceManager's console taps and agent-only boards, the config's [logs] and
[network], and calls by board name."""

from __future__ import annotations

import pytest

from mptui.board import BoardError
from mptui.board.session import DISCONNECTED, IDLE
from mptui.config import load_config
from mptui.services.events import BoardInfo
from mptui.services.log_sources import agent_target, call_board
from mptui.services.logs import LogLine
from mptui.services.remoteio import parse_call_args
from mptui.transports import AddressError
from mptui.ui.models.logs import MAX_KEYS, FilterError, LogFeed, parse_filter
from mptui.ui.safe_text import visible

from .conftest import wait_until
from .logs_help import T0, fixture_lines


def texts(feed: LogFeed) -> list[str]:
    return [line.text for _, line in feed.shown]


def numbered(count: int, start: int = 0) -> list[LogLine]:
    return [LogLine("b", T0 + i, f"line {i}") for i in range(start, start + count)]


def test_a_pause_holds_lines_and_a_resume_shows_those_still_kept():
    feed = LogFeed(10)
    feed.add(numbered(4))
    feed.pause()
    feed.add(numbered(3, start=4))
    assert texts(feed) == [f"line {i}" for i in range(4)] and feed.held == 3
    feed.resume()
    assert texts(feed) == [f"line {i}" for i in range(7)] and feed.held == 0
    feed.pause()
    feed.add(numbered(25, start=7))  # more than the limit while paused: the oldest go
    assert texts(feed) == []  # what was shown is no longer kept
    feed.resume()
    assert texts(feed) == [f"line {i}" for i in range(22, 32)]
    assert feed.buffer.evicted == 22


def test_the_filter_applies_to_kept_lines_and_to_new_ones():
    feed = LogFeed(100)
    feed.add(fixture_lines(10))
    feed.set_filter("HUM=5")
    assert len(texts(feed)) == 10
    feed.set_filter(r"/n=[2-4]$/")
    assert texts(feed) == ["temp=21.0 hum=52 n=2", "temp=16.5 hum=53 n=3",
                           "temp=22.0 hum=54 n=4"]
    feed.add(fixture_lines(20, start=10))
    assert [t.split()[-1] for t in texts(feed)] == ["n=2", "n=3", "n=4"]
    with pytest.raises(FilterError, match="bad regular expression"):
        feed.set_filter("/[/")
    assert feed.filter_text == r"/n=[2-4]$/"
    assert parse_filter("/") == ("/", False) and parse_filter("//") == ("", True)


def test_shown_lines_and_series_drop_what_the_limit_drops():
    feed = LogFeed(6)
    feed.start_chart()
    feed.choose_key("temp")
    feed.add(fixture_lines(4))  # 6 lines with the two notes (the drop note last)
    assert list(feed.keys) == ["temp", "hum", "n"]
    assert [v for _, _, v in feed.series["kitchen"]] == [20.0, 21.0]
    feed.add(fixture_lines(4, start=4))
    assert [line.text.split()[-1] for _, line in feed.shown] == [
        "n=3", "behind", *(f"n={i}" for i in range(4, 8))]
    assert [v for _, _, v in feed.series["garage"]] == [16.5, 17.5, 18.5]
    assert [v for _, _, v in feed.series["kitchen"]] == [22.0, 23.0]
    assert feed.trimmed == 4
    feed.clear()
    assert (texts(feed), feed.series, feed.keys) == ([], {}, {})


def test_number_keys_are_capped():
    feed = LogFeed(1000)
    feed.add(LogLine("b", T0, f"k{i}={i}") for i in range(MAX_KEYS + 10))
    assert len(feed.start_chart()) == MAX_KEYS


def test_what_is_drawn_of_a_boards_text():
    assert visible("temp=24.3 ° ok") == "temp=24.3 ° ok"
    assert visible("\x1b[31mred\x1b[0m\tx") == "red x"
    assert visible("a\x07b\x1b]0;title\x07c\x9bd\x00") == "a\ufffdbc\ufffdd\ufffd"


def test_call_arguments_are_split_as_a_shell_does():
    assert parse_call_args('on=true name="the kitchen" n=3 s=x') == {
        "on": True, "name": "the kitchen", "n": 3, "s": "x"}
    with pytest.raises(ValueError):
        parse_call_args('name="open')
    with pytest.raises(ValueError, match="given twice"):
        parse_call_args("a=1 a=2")


def test_agent_only_boards_are_listed_without_a_repl():
    board = BoardInfo("rio://10.0.0.7:2019", "kitchen", "rio://10.0.0.7:2019", "network",
                      description="agent 1.1, release 2.0")
    assert board.agent_only and board.label == "agent 1.1, release 2.0"
    assert BoardInfo("ota://h", "h", "ota://h", "manual", present=False).label == "gone"
    assert not BoardInfo("virtual", "virtual", "virtual", "virtual").agent_only


async def test_the_manager_taps_a_boards_console_beside_its_sink(make_manager, board_root):
    (board_root / "main.py").write_text("print('from main')\n")
    async with make_manager() as manager:
        sink, tap = bytearray(), bytearray()
        untap = manager.console.tap("virtual", tap.extend)
        await manager.connect("virtual", console=sink.extend)
        manager.console.input("virtual", b"print(6*7)\r")
        await wait_until(lambda: b"42\r\n>>> " in tap and b"42\r\n>>> " in sink)
        assert bytes(tap) == bytes(sink)
        await manager.disconnect("virtual")  # taps stay across connections
        await manager.connect("virtual", console=sink.extend)
        manager.console.input("virtual", b"print(7*8)\r")
        await wait_until(lambda: b"56\r\n>>> " in tap)
        untap()
        manager.console.input("virtual", b"print(8*9)\r")
        await wait_until(lambda: b"72\r\n" in sink)
        assert b"72" not in tap


async def test_an_agent_only_board_cannot_be_connected(make_manager):
    async with make_manager() as manager:
        board = manager.add("rio://127.0.0.1:2019/", name="kitchen")
        assert (board.key, board.address) == ("rio://127.0.0.1:2019", "rio://127.0.0.1:2019/")
        assert manager.find("kitchen") == board and manager.add(board.key) == board
        with pytest.raises(BoardError, match="reached through its agent"):
            await manager.connect(board.key)
        assert manager.board(board.key).state == DISCONNECTED  # not an error: it is not one
        assert manager.add("ota://10.0.0.7:2018").key == "ota://10.0.0.7:2018"
        with pytest.raises(AddressError, match="bad port in device address .rio:"):
            manager.add("rio://host:99999")


async def test_calls_need_an_agent(make_manager, config_file):
    config_file.write_text('[boards.porch]\naddress = "socket://10.0.0.9:23"\n'
                           'rio = "10.0.0.9:2019"\n')
    async with make_manager() as manager:
        porch = manager.find("porch")
        target = agent_target(porch, manager.resolver)
        assert (target.host, target.port) == ("10.0.0.9", 2019)
        assert agent_target(manager.find("virtual"), manager.resolver) is None
        with pytest.raises(ValueError, match="virtual has no agent to call"):
            await call_board(manager, "virtual", "ping")
        with pytest.raises(ValueError, match="which board"):
            await call_board(manager, " ", "ping")
        assert manager.board("virtual").state == DISCONNECTED


def test_the_config_sets_the_line_limit_and_where_announcements_are_heard(config_file):
    assert (load_config().logs.lines, load_config().network.announce_port) == (10_000, 2020)
    config_file.write_text('[logs]\nlines = 500\n[network]\nannounce_port = 0\n'
                           'announce_bind = "127.0.0.1"\n')
    config = load_config()
    assert (config.logs.lines, config.network.announce_port, config.network.announce_bind) == (
        500, 0, "127.0.0.1")
    config_file.write_text("[logs]\nlines = 0\n")
    assert load_config().error.endswith(
        "line 2: [logs] 'lines' must be a number of lines (1 or more)")
    config_file.write_text("[network]\nannounce_port = true\n")
    assert "'announce_port' must be a UDP port" in load_config().error


async def test_no_announcements_are_heard_when_the_config_says_so(make_manager, config_file):
    config_file.write_text("[network]\nannounce_port = 0\n")
    async with make_manager(network=True) as manager:
        assert "network" not in manager._tasks
    config_file.write_text('[network]\nannounce_bind = "127.0.0.1"\nannounce_port = 2999\n')
    async with make_manager(network=True) as manager:
        source = next(s for s in manager._sources if s.name == "network")
        assert (source.port, source.bind) == (2999, "127.0.0.1")
        assert manager.board("virtual").state in (DISCONNECTED, IDLE)
