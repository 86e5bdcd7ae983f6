"""The Logs tab's model without the UI (no textual here): the filter and its problem, pause and
follow, the boards watched and the lines their stream brings (a real virtual board's REPL),
which boards a call or "watch all" takes, saving. The feed's own rules (limit, series) are in
test_logs_parts.py."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from mptui.board.session import IDLE
from mptui.services.logs import OUT, STATUS, LogLine
from mptui.ui.models.logs import LogsModel

from .conftest import wait_until

T0 = 1763721000.0


def lines(*texts: str, board: str = "kitchen") -> list[LogLine]:
    return [LogLine(board, T0 + i, text) for i, text in enumerate(texts)]


def shown(model: LogsModel) -> list[str]:
    return [line.text for _, line in model.feed.shown]


def test_a_bad_filter_is_a_problem_and_the_lines_stay_as_they_were():
    model = LogsModel()
    model.feed.add(lines("temp=20", "hum=50", "temp=21"))
    assert model.set_filter("temp") and shown(model) == ["temp=20", "temp=21"]
    assert not model.set_filter("/[/")
    assert model.problem.startswith("bad regular expression")
    assert shown(model) == ["temp=20", "temp=21"]  # the filter as it was
    assert model.set_filter("/hum=5\\d/") and model.problem == ""
    assert shown(model) == ["hum=50"]


def test_pause_holds_new_lines_until_resumed_and_the_view_follows_by_default():
    model = LogsModel()
    assert model.following and not model.feed.paused
    model.feed.add(lines("a"))
    assert model.toggle_pause() is False  # paused
    model.feed.add(lines("b", "c"))
    assert shown(model) == ["a"] and model.feed.held == 2
    assert model.toggle_pause() is True  # resumed: the held lines come into view
    assert shown(model) == ["a", "b", "c"]


async def test_saving_writes_what_passes_the_filter(tmp_path):
    model = LogsModel(clock=lambda: T0)
    model.feed.add(lines("temp=20", "hum=50", "temp=21"))
    model.set_filter("temp")
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(T0))
    assert model.save_path().name == f"logs-{stamp}.log"
    folder = tmp_path / "logs"
    assert await model.save(folder / "out.log", folder) == 2  # the default folder is made
    text = (folder / "out.log").read_text()
    assert "temp=20" in text and "temp=21" in text and "hum" not in text
    with pytest.raises(OSError):
        await model.save(tmp_path / "missing" / "out.log")


async def test_without_boards_there_is_nothing_to_watch_or_call():
    model = LogsModel()
    model.open()
    try:
        assert not model.watch("virtual") and model.all_to_watch() == []
        assert model.callable_boards() == [] and model.call_default([]) == ""
        with pytest.raises(ValueError, match="no boards here"):
            await model.call("kitchen", "ping", "")
    finally:
        await model.close()


async def test_a_watched_board_streams_its_repl_lines(make_manager):
    async with make_manager() as manager:
        model = LogsModel(manager, clock=lambda: T0)
        stream = model.open()
        got: list[LogLine] = []

        async def read() -> None:
            async for line in stream:
                got.append(line)

        async with _running(read()):
            model.board = manager.board("virtual")
            assert model.first_watch() == "virtual"  # the first time the tab is shown
            assert model.watch("virtual") and not model.watch("virtual")
            assert model.watching == {"virtual": "virtual"} and model.first_watch() is None
            await manager.wait_state("virtual", IDLE)  # watching connects it
            assert model.all_to_watch() == ["virtual"]
            manager.console.input("virtual", b"print('hello', 6*7)\r")
            await wait_until(lambda: any(line.text == "hello 42" for line in got))
            assert any(line.kind == STATUS for line in got)
            assert all(line.board == "virtual" for line in got)
            said = model.unwatch("virtual")
            assert model.watching == {} and model.unwatch("virtual") is None
            line = await said
            assert (line.board, line.text, line.kind) == ("virtual", "stopped watching", STATUS)
            before = len(got)
            manager.console.input("virtual", b"print('unheard')\r")
            await manager.session("virtual").eval("1")  # a round trip: the line had time
            assert not any(line.text == "unheard" for line in got[before:] if line.kind == OUT)
            assert model.callable_boards() == []  # the virtual board has no agent
        await model.close()


@contextlib.asynccontextmanager
async def _running(coro):
    task = asyncio.create_task(coro)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
