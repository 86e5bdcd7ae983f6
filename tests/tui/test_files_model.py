"""The Files tab's model without the UI (no textual here): a side's folder, marks and cursor;
what an action applies to and what it asks; the board side as the board comes and goes; the
watch's changes. Real folders on this computer, a real virtual board."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from mptui.board.session import IDLE, RUNNING
from mptui.services.boardfs import BoardFSAdapter
from mptui.services.localfs import LocalFS
from mptui.services.watch import WatchEvent
from mptui.ui.models.files import (
    NOTHING_CHOSEN,
    Copy,
    Delete,
    FilesModel,
    PaneModel,
    board_advice,
)

from .conftest import wait_until


def make_tree(root, files: dict[str, str]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


@pytest.fixture
def side(tmp_path):
    """A folder of its own (the test's tmp_path holds the config too)."""
    folder = tmp_path / "side"
    folder.mkdir()
    return folder


def names(pane: PaneModel) -> list[str]:
    return [e.name if e else ".." for e in pane.rows]


async def listed(pane: PaneModel, path, select: str | None = None) -> PaneModel:
    assert await pane.load(str(path), select) == ""
    return pane


def test_the_models_load_no_textual():
    code = ("import sys, mptui.ui.models.files, mptui.ui.models.logs\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'textual')\n"
            "print(bad[:3])\n"
            "sys.exit(1 if bad else 0)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr


async def test_a_side_lists_folders_first_with_the_way_up(side):
    make_tree(side, {"b.py": "b", "A.txt": "a", "lib/x.py": "x", "Zed/y": "y"})
    pane = PaneModel()
    pane.set_fs(LocalFS(), "", "")
    await listed(pane, side)
    assert names(pane) == ["..", "lib", "Zed", "A.txt", "b.py"]
    assert pane.cursor == 0 and pane.current is None  # on '..'
    await listed(pane, side, select="b.py")
    assert pane.current.name == "b.py" and pane.free is not None and not pane.loading
    assert pane.up() == (str(side.parent), side.name)


async def test_marks_choose_what_an_action_takes(side):
    make_tree(side, {"a.py": "a", "b.py": "bb", "c.py": "ccc"})
    pane = PaneModel()
    pane.set_fs(LocalFS())
    await listed(pane, side, select="a.py")
    assert [e.name for e in pane.chosen()] == ["a.py"]  # the cursor's, when none are marked
    pane.toggle_mark()
    pane.cursor += 2
    pane.toggle_mark()
    assert [e.name for e in pane.chosen()] == ["a.py", "c.py"]
    assert pane.marks_text() == "2 marked, 4"
    pane.invert_marks()
    assert [e.name for e in pane.chosen()] == ["b.py"]
    await listed(pane, side)  # the same folder again: the marks stay
    assert [e.name for e in pane.chosen()] == ["b.py"]
    assert pane.clear_marks() and not pane.clear_marks()
    (side / "sub").mkdir()
    pane.toggle_mark()
    await listed(pane, side / "sub")  # another folder: no marks
    assert pane.marked == set()


async def test_a_failed_listing_says_why_and_keeps_the_folder(side):
    make_tree(side, {"a.py": "a"})
    pane = PaneModel("here:")
    pane.set_fs(LocalFS())
    await listed(pane, side)
    error = await pane.load(str(side / "missing"))
    assert "No such file or directory" in error and pane.error == error
    assert pane.path == str(side) and names(pane) == ["..", "a.py"]


async def test_an_answer_for_a_side_that_changed_is_dropped(side):
    make_tree(side, {"a.py": "a"})
    pane = PaneModel()
    pane.set_fs(LocalFS())
    loading = asyncio.create_task(pane.load(str(side)))
    await asyncio.sleep(0)  # not a wait: the task runs to its listing (in a thread)
    assert pane.loading  # the listing of the old side is under way
    pane.set_fs(None, "board:", "not connected")
    assert await loading == ""
    assert pane.entries == [] and pane.message == "not connected" and pane.location == "board:"


async def test_a_change_made_elsewhere_shows_without_a_listing(side):
    make_tree(side, {"a.py": "a", "c.py": "c"})
    pane = PaneModel()
    pane.set_fs(LocalFS())
    await listed(pane, side, select="c.py")
    assert pane.note_change(str(side / "b.py"), size=5)
    assert names(pane) == ["..", "a.py", "b.py", "c.py"] and pane.current.name == "c.py"
    assert pane.note_change(str(side / "a.py"), gone=True)
    assert names(pane) == ["..", "b.py", "c.py"] and pane.current.name == "c.py"
    assert not pane.note_change(str(side / "elsewhere" / "d.py"))


async def two_sides(tmp_path) -> FilesModel:
    make_tree(tmp_path / "here", {"main.py": "print(1)\n", "lib/util.py": "u"})
    make_tree(tmp_path / "there", {"main.py": "old\n"})
    model = FilesModel()
    model.local.set_fs(LocalFS())
    model.board.set_fs(LocalFS(), "there:")
    await listed(model.local, tmp_path / "here")
    await listed(model.board, tmp_path / "there")
    return model


async def test_an_action_applies_to_the_active_side_and_says_what_it_does(tmp_path):
    model = await two_sides(tmp_path)
    assert model.active is model.local and model.other(model.local) is model.board
    assert model.copy(move=False) == NOTHING_CHOSEN  # the cursor is on '..'
    model.local.cursor = 2  # main.py
    plan = model.copy(move=False)
    assert isinstance(plan, Copy) and plan.src is model.local and plan.dst is model.board
    assert plan.question == f"Copy main.py to there:{tmp_path / 'there'}?"
    assert plan.details == "Replaces what is there: main.py"
    model.local.toggle_mark()
    model.local.cursor = 1
    model.local.toggle_mark()
    plan = model.copy(move=True)
    assert plan.question.startswith("Move 2 entries to ") and [
        e.name for e in plan.entries] == ["lib", "main.py"]
    model.active = model.board
    assert model.delete() == NOTHING_CHOSEN
    model.board.cursor = 1
    delete = model.delete()
    assert isinstance(delete, Delete) and delete.details == "main.py"
    assert delete.question == f"Delete main.py from there:{tmp_path / 'there'}?"
    assert model.file_under_cursor().name == "main.py"
    model.active = model.local
    model.local.cursor = 1
    assert model.file_under_cursor() == "Move to a file first"  # a folder


async def test_nothing_is_done_to_a_side_that_is_not_listed(tmp_path):
    model = await two_sides(tmp_path)
    model.board.set_fs(None, "virtual:", "not connected")
    model.local.cursor = 2
    why = "Nothing to work on: the board is not listed (c connects a board)"
    assert model.copy(move=False) == why and model.not_ready(model.local, model.board) == why
    model.active = model.board
    assert model.delete() == why and model.file_under_cursor() == why


async def test_one_transfer_at_a_time(tmp_path):
    model = await two_sides(tmp_path)
    assert model.begin_transfer("Copying") and model.transfer == "Copying"
    assert not model.begin_transfer("Deleting")
    model.end_transfer()
    assert model.begin_transfer("Deleting")


async def test_the_board_side_follows_the_board(make_manager, board_root):
    make_tree(board_root, {"boot.py": "# boot\n"})
    async with make_manager() as manager:
        model = FilesModel(manager)
        assert model.show_board(None, shown=True) == (None, "", board_advice(None))
        virtual = manager.board("virtual")
        assert model.show_board(virtual, shown=True) == (
            None, "virtual:", "virtual is not connected: c connects.")
        model.board.set_fs(None, "virtual:", "virtual is not connected: c connects.")
        assert model.show_board(virtual, shown=True) is None  # nothing new to show
        await manager.connect("virtual")
        virtual = await manager.wait_state("virtual", IDLE)
        assert model.show_board(virtual, shown=False) == (None, "virtual:", "virtual: …")
        fs, prefix, message = model.show_board(virtual, shown=True)  # shown: its files
        assert isinstance(fs, BoardFSAdapter) and (prefix, message) == ("virtual:", "")
        model.board.set_fs(fs, prefix)
        await listed(model.board, fs.home())
        assert names(model.board) == ["boot.py"]
        assert model.show_board(virtual, shown=True) is None
        manager.console.input("virtual", b"while True: pass\r\r")
        running = await manager.wait_state("virtual", RUNNING)
        assert model.show_board(running, shown=True) is None  # listed before: it stays
        model.watched = ("virtual", fs.session, "/")
        assert not model.watch_lost(running)
        manager.console.input("virtual", b"\x03")
        await manager.wait_state("virtual", IDLE)
        await manager.disconnect("virtual")
        gone = manager.board("virtual")
        assert model.watch_lost(gone)
        assert model.show_board(gone, shown=True) == (
            None, "virtual:", "virtual is not connected: c connects.")
        assert model.board_fs is None


async def test_a_running_board_is_listed_only_when_asked(make_manager):
    async with make_manager() as manager:
        model = FilesModel(manager)
        out = bytearray()
        await manager.connect("virtual", console=out.extend)
        await wait_until(lambda: out.endswith(b">>> "))
        manager.console.input("virtual", b"while True: pass\r\r")
        running = await manager.wait_state("virtual", RUNNING)
        assert model.show_board(running, shown=True) == (None, "virtual:", board_advice(running))
        assert "Ctrl-R lists its files" in board_advice(running)
        assert model.list_board_now() and model.board_listed  # Ctrl-R
        assert not model.list_board_now()  # listed: Ctrl-R lists it again
        manager.console.input("virtual", b"\x03")
        await manager.wait_state("virtual", IDLE)


async def test_a_watch_upload_shows_in_the_board_side(make_manager, board_root):
    make_tree(board_root, {"lib/a.py": "a"})
    async with make_manager() as manager:
        await manager.connect("virtual")
        board = await manager.wait_state("virtual", IDLE)
        model = FilesModel(manager)
        fs, prefix, _ = model.show_board(board, shown=True)
        model.board.set_fs(fs, prefix)
        await listed(model.board, "/lib")
        model.watched = model.watch_target()
        assert model.watched == ("virtual", fs.session, "/lib")
        assert model.pair_title == " → virtual:/lib"  # the local side is not listed
        assert model.watched_change(WatchEvent("uploaded", "b.py", size=3))
        assert model.watched_change(WatchEvent("made", "pkg/"))
        assert names(model.board) == ["..", "pkg", "a.py", "b.py"]
        assert model.watched_change(WatchEvent("deleted", "a.py"))
        assert names(model.board) == ["..", "pkg", "b.py"]
