"""The Files tab driven with Pilot against a real virtual board: both panes, the keys of
Midnight Commander, copies with progress, cancel, delete, view, edit, sync with its plan,
watch mode."""

from __future__ import annotations

import asyncio
import os
import sys

from textual import events
from textual.notifications import Notify
from textual.widgets import Input, TabbedContent

from mptui.ui.screens.confirm import ConfirmScreen
from mptui.ui.screens.file_view import FileViewScreen
from mptui.ui.screens.help import HelpScreen
from mptui.ui.screens.prompt import PromptScreen
from mptui.ui.screens.sync_plan import SyncPlanScreen
from mptui.ui.screens.watch_setup import WatchSetupScreen
from mptui.ui.widgets.device_list import DeviceList
from mptui.ui.widgets.file_pane import FilePane
from mptui.ui.widgets.repl_terminal import ReplTerminal
from mptui.ui.widgets.watch_panel import event_text

from .conftest import wait_until
from .filehelp import (
    files_tab,
    go_to,
    listed,
    make_tree,
    names,
    open_files,
    other_pane,
    transfer_done,
    tree,
)

SIZE = (100, 30)
SOURCE = {"main.py": "print('hello from main')\n", "lib/util.py": "X = 1\n" * 3000,
          "lib/deep/more.py": "Y = 2\n", "data.bin": bytes(range(256)) * 8}


def notices(messages) -> list[str]:
    return [m.notification.message for m in messages if isinstance(m, Notify)]


async def yes_then_under_way(pilot, bar) -> asyncio.Future:
    """Enter (yes to the question), then wait until the transfer is under way and not done.
    The key press is returned, not awaited: Pilot waits for the screen to settle, and a
    transfer's progress keeps it busy to the end."""
    pressing = asyncio.ensure_future(pilot.press("enter"))
    await wait_until(lambda: bar.last is not None and 0 < bar.last.done < bar.last.total,
                     what="the transfer under way")
    return pressing


async def screen_is(app, kind) -> None:
    await wait_until(lambda: isinstance(app.screen, kind), what=kind.__name__)


async def test_both_panes_list_their_side_and_folders_open_and_close(make_app, project,
                                                                      board_root):
    make_tree(project, SOURCE)
    make_tree(board_root, {"boot.py": "# boot\n", "lib/board.py": "B = 1\n"})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_files(app, pilot)
        local, board = tab.local_pane, tab.board_pane
        assert app.focused is local
        assert names(local) == ["lib", "data.bin", "main.py"]  # folders first
        assert local.border_title == "~/proj"
        assert names(board) == ["lib", "boot.py"]
        assert board.border_title == "virtual:/"
        session = app.manager.session("virtual")
        total, _ = await session.fs.df("/")
        assert board.model.free[0] == total and "free" in board.border_subtitle  # the board's space
        assert [e.size for e in local.model.entries if not e.is_dir] == [2048, 25]

        await go_to(pilot, local, "lib")
        await pilot.press("enter")
        await wait_until(lambda: listed(local, str(project / "lib")))
        assert names(local) == ["deep", "util.py"] and local.model.rows[0] is None  # '..' first
        await pilot.press("backspace")
        await wait_until(lambda: listed(local, str(project)))
        assert local.model.current.name == "lib"  # the cursor is back where it was

        await other_pane(pilot, board)
        await go_to(pilot, board, "lib")
        await pilot.press("enter")
        await wait_until(lambda: listed(board, "/lib"))
        assert names(board) == ["board.py"] and board.border_title == "virtual:/lib"
        await go_to(pilot, board, "..")
        await pilot.press("enter")  # Enter on '..' goes up too
        await wait_until(lambda: listed(board, "/"))
        await other_pane(pilot, local)

        # the mouse: a click moves the cursor, a double click opens
        await pilot.click(local, offset=(3, 2))  # the row of lib (under '..')
        assert local.model.current.name == "lib" and local.model.path == str(project)
        await pilot.double_click(local, offset=(3, 2))
        await wait_until(lambda: listed(local, str(project / "lib")))


async def test_space_and_insert_mark_entries(make_app, project):
    make_tree(project, SOURCE)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_files(app, pilot)
        local = tab.local_pane
        await go_to(pilot, local, "data.bin")
        await pilot.press("space")  # marks and moves down
        assert local.model.current.name == "main.py"
        await pilot.press("insert")
        assert [e.name for e in local.model.chosen()] == ["data.bin", "main.py"]
        assert local.border_subtitle.startswith("2 marked, 2073")
        await pilot.press("asterisk")  # invert
        assert [e.name for e in local.model.chosen()] == ["lib"]
        await pilot.press("asterisk")
        await go_to(pilot, local, "data.bin")
        await pilot.press("space")  # again: unmarked
        assert [e.name for e in local.model.chosen()] == ["main.py"]
        assert local.border_subtitle.startswith("1 marked, 25")


async def test_f5_copies_marked_files_and_folders_to_the_board_with_progress(
        make_app, project, board_root):
    make_tree(project, SOURCE)
    app = make_app()
    messages = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        tab = await open_files(app, pilot)
        local = tab.local_pane
        await go_to(pilot, local, "lib")
        await pilot.press("space")
        await go_to(pilot, local, "main.py")
        await pilot.press("space")
        await pilot.press("f5")
        await screen_is(app, ConfirmScreen)
        assert "Copy 2 entries to virtual:/?" in str(app.screen.query_one("#confirm-question").render())
        messages.clear()
        await pilot.press("enter")
        await transfer_done(tab)
        # the board went busy and idle at every step; that is not a new board chosen (which
        # would rebuild the tabs and the footer each time and slow the copy down)
        assert not [m for m in messages if isinstance(m, DeviceList.BoardHighlighted)]

        expected = {k: v.encode() for k, v in SOURCE.items() if k != "data.bin"}
        assert tree(board_root) == expected  # the bytes landed, nothing else
        last = tab.transfer_bar.last
        assert (last.files_done, last.files_total) == (3, 3)
        assert last.done == last.total == sum(len(v) for v in expected.values())
        assert not tab.transfer_bar.active
        assert local.model.marked == set()  # marks go once copied
        assert names(tab.board_pane) == ["lib", "main.py"]  # the board pane shows them

        # and back: a board file to this computer, from the board's pane
        (board_root / "board.txt").write_bytes(b"from the board\n")
        await pilot.press("ctrl+r")
        await wait_until(lambda: "board.txt" in names(tab.board_pane))
        await other_pane(pilot, tab.board_pane)
        await go_to(pilot, tab.board_pane, "board.txt")
        await pilot.press("f5", "enter")
        await transfer_done(tab)
        assert (project / "board.txt").read_bytes() == b"from the board\n"
        assert "board.txt" in names(local)


async def test_esc_cancels_a_copy_and_leaves_no_partial_file(make_app, project, board_root):
    big = os.urandom(3 * 1024 * 1024)
    make_tree(project, {"big.bin": big})
    make_tree(board_root, {"big.bin": b"the old content\n"})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_files(app, pilot)
        await go_to(pilot, tab.local_pane, "big.bin")
        await pilot.press("f5")
        await screen_is(app, ConfirmScreen)
        assert "Replaces what is there: big.bin" in str(
            app.screen.query_one("#confirm-details").render())
        bar = tab.transfer_bar
        pressing = await yes_then_under_way(pilot, bar)
        assert bar.active and "Esc cancels" in str(bar.query_one("#transfer-rate").render())
        await pilot.press("escape")
        await pressing
        await transfer_done(tab)
        assert tree(board_root) == {"big.bin": b"the old content\n"}  # no temporary file either
        assert names(tab.board_pane) == ["big.bin"]
        board = app.manager.session("virtual")
        assert await board.fs.read("/big.bin") == b"the old content\n"  # the board carries on

        # a download cut short leaves nothing here either
        make_tree(board_root, {"big.bin": big})
        (project / "big.bin").write_bytes(b"old here\n")
        await other_pane(pilot, tab.board_pane)
        await go_to(pilot, tab.board_pane, "big.bin")
        await pilot.press("f5")
        await screen_is(app, ConfirmScreen)
        pressing = await yes_then_under_way(pilot, bar)
        await pilot.press("escape")
        await pressing
        await transfer_done(tab)
        assert tree(project) == {"big.bin": b"old here\n"}


async def test_f8_deletes_only_after_a_yes(make_app, project, board_root):
    make_tree(board_root, {"boot.py": "# boot\n", "lib/a.py": "A = 1\n", "keep.py": "K\n"})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_files(app, pilot)
        board = tab.board_pane
        await other_pane(pilot, board)
        await go_to(pilot, board, "lib")
        await pilot.press("space", "space")  # lib and boot.py
        await pilot.press("f8")
        await screen_is(app, ConfirmScreen)
        question = str(app.screen.query_one("#confirm-question").render())
        assert question == "Delete 2 entries from virtual:/?"
        assert "lib/, boot.py (folders with everything in them)" in str(
            app.screen.query_one("#confirm-details").render())
        await pilot.press("escape")  # no
        await wait_until(lambda: not isinstance(app.screen, ConfirmScreen))
        assert set(tree(board_root)) == {"boot.py", "lib/a.py", "keep.py"}

        await pilot.press("f8")
        await screen_is(app, ConfirmScreen)
        await pilot.press("enter")  # yes
        await transfer_done(tab)
        assert tree(board_root) == {"keep.py": b"K\n"}
        assert names(board) == ["keep.py"] and board.model.marked == set()


async def test_f7_makes_a_folder_f6_moves_and_shift_f6_renames(make_app, project, board_root):
    make_tree(project, {"move-me.py": "M = 1\n", "old-name.txt": "x\n"})
    app = make_app()
    messages = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        tab = await open_files(app, pilot)
        local, board = tab.local_pane, tab.board_pane
        await pilot.press("tab", "f7")
        await screen_is(app, PromptScreen)
        app.screen.query_one(Input).value = "apps"
        await pilot.press("enter")
        await wait_until(lambda: "apps" in names(board) and board.model.current.name == "apps")
        assert (board_root / "apps").is_dir()

        await other_pane(pilot, local)
        await go_to(pilot, local, "move-me.py")
        await pilot.press("f6")
        await screen_is(app, ConfirmScreen)
        await pilot.press("enter")
        await transfer_done(tab)
        assert (board_root / "move-me.py").read_bytes() == b"M = 1\n"
        assert not (project / "move-me.py").exists()  # moved, not copied

        await go_to(pilot, local, "old-name.txt")
        await pilot.press("shift+f6")
        await screen_is(app, PromptScreen)
        assert app.screen.query_one(Input).value == "old-name.txt"
        app.screen.query_one(Input).value = "new-name.txt"
        await pilot.press("enter")
        await wait_until(lambda: "new-name.txt" in names(local))
        assert tree(project) == {"new-name.txt": b"x\n"}
        assert local.model.current.name == "new-name.txt"

        await pilot.press("f7")
        await screen_is(app, PromptScreen)
        app.screen.query_one(Input).value = "../escape"
        await pilot.press("enter")
        await wait_until(lambda: any(n.startswith("Not a name: '../escape'") for n in notices(messages)))
        assert not (project.parent / "escape").exists()


async def test_a_key_right_after_tab_acts_on_the_other_side(make_app, project, board_root):
    """Tab and F3 in one read of the terminal (a loaded machine, a paste, a fast typist): F3
    views the board's file, though the focus reaches the board pane only after F3 came in."""
    make_tree(board_root, {"main.py": "print('board')\n"})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_files(app, pilot)
        assert tab.local_pane.model.current is None  # '..': F3 here would view nothing
        app.post_message(events.Key("tab", None))
        app.post_message(events.Key("f3", None))
        await screen_is(app, FileViewScreen)
        assert app.screen.data == b"print('board')\n"


async def test_f3_views_python_highlighted_and_binary_as_hex(make_app, project, board_root):
    make_tree(board_root, {"main.py": "print('hello')\n", "blob.bin": b"\x00\x01\x02hello\xff"})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_files(app, pilot)
        await other_pane(pilot, tab.board_pane)
        await go_to(pilot, tab.board_pane, "main.py")
        await pilot.press("f3")
        await screen_is(app, FileViewScreen)
        assert app.screen.mode == "python" and app.screen.data == b"print('hello')\n"
        await pilot.press("escape")
        await wait_until(lambda: not isinstance(app.screen, FileViewScreen))
        await go_to(pilot, tab.board_pane, "blob.bin")
        await pilot.press("enter")  # Enter on a file views it too
        await screen_is(app, FileViewScreen)
        assert app.screen.mode == "hex"
        text = app.screen.query_one("#view-text").plain
        assert "00000000  00 01 02 68 65 6c 6c 6f  ff" in text and "|...hello.|" in text
        await pilot.press("q")
        await wait_until(lambda: isinstance(app.focused, FilePane))


async def test_shift_f4_edits_a_board_file_in_editor_and_uploads_it_only_if_it_changed(
        make_app, project, board_root, monkeypatch, tmp_path):
    make_tree(board_root, {"main.py": "print('v1')\n"})
    editor = tmp_path / "editor.py"
    editor.write_text("import sys\nopen(sys.argv[1], 'a').write('print(\"v2\")\\n')\n")
    monkeypatch.setenv("VISUAL", f"{sys.executable} {editor}")
    app = make_app()
    messages = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        tab = await open_files(app, pilot)
        await other_pane(pilot, tab.board_pane)
        await go_to(pilot, tab.board_pane, "main.py")
        await pilot.press("shift+f4")
        await transfer_done(tab)
        assert (board_root / "main.py").read_bytes() == b"print('v1')\nprint(\"v2\")\n"
        assert any("Uploaded main.py" in n for n in notices(messages))

        monkeypatch.setenv("VISUAL", "true")  # an editor that changes nothing
        await pilot.press("shift+f4")
        await transfer_done(tab)
        assert any("main.py unchanged: not uploaded" in n for n in notices(messages))
        assert list(board_root.iterdir()) == [board_root / "main.py"]


async def test_f2_shows_the_sync_plan_then_applies_it(make_app, project, board_root):
    make_tree(project, {"main.py": "print('new')\n", "lib/a.py": "A = 1\n", "same.py": "S\n",
                        "__pycache__/x.pyc": b"\x00"})
    make_tree(board_root, {"main.py": "print('old')\n", "same.py": "S\n", "old.py": "O\n"})
    app = make_app()
    messages = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        tab = await open_files(app, pilot)
        await pilot.press("f2")
        await screen_is(app, SyncPlanScreen)
        screen = app.screen
        summary = screen.query_one("#sync-summary")
        await wait_until(lambda: screen.plan is not None)
        assert str(summary.render()) == "1 new · 1 changed · 1 only on the board · 1 same"
        shown = str(screen.query_one("#sync-plan").render())
        assert "+ new      lib/a.py" in shown and "~ changed  main.py" in shown
        assert "· on board old.py, kept" in shown and "= same     same.py" in shown
        assert "Apply: copy 2 files" in str(screen.query_one("#sync-outcome").render())

        await pilot.press("d")  # delete what is only on the board: planned again
        await wait_until(lambda: screen.plan is not None and screen.plan.delete)
        assert "- delete   old.py" in str(screen.query_one("#sync-plan").render())
        await pilot.press("enter")
        await transfer_done(tab)
        assert tree(board_root) == {"main.py": b"print('new')\n", "lib/a.py": b"A = 1\n",
                                    "same.py": b"S\n"}  # ignore rules held: no __pycache__
        assert "Sync: 2 copied, 1 deleted, 1 unchanged" in notices(messages)

        await pilot.press("f2")  # a second sync has nothing to do, and says so
        await screen_is(app, SyncPlanScreen)
        await wait_until(lambda: app.screen.plan is not None)
        assert str(app.screen.query_one("#sync-outcome").render()) == (
            "Up to date: nothing to copy")
        await pilot.press("escape")


async def test_watch_lists_events_and_a_saved_file_reaches_the_board(make_app, project,
                                                                     board_root):
    make_tree(project, {"main.py": "print('hello from main')\n"})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_files(app, pilot)
        panel = tab.watch_panel
        await pilot.press("w")
        await screen_is(app, WatchSetupScreen)
        await pilot.press("down", "enter")  # after an upload: soft reset
        await wait_until(lambda: any(e.kind == "watching" for e in panel.events))
        assert panel.border_title == "Watching ~/proj → virtual:/"
        assert "after upload: soft reset" in panel.border_subtitle
        assert [event_text(e) for e in panel.events][:2] == [
            "uploaded main.py (25 B)", "synced: 1 copied, 0 deleted, 0 unchanged"]

        (project / "new.py").write_text("N = 1\n")
        await wait_until(lambda: any(e.kind == "reset" for e in panel.events), timeout=20)
        assert (board_root / "new.py").read_bytes() == b"N = 1\n"
        shown = str(panel.query_one("#watch-events").render())
        assert "uploaded new.py (6 B)" in shown and "soft reset" in shown
        terminal = app.screen.query_one(ReplTerminal)  # main.py ran again, its output here
        await wait_until(lambda: "soft reboot\nhello from main" in "\n".join(
            terminal.model.display()), what="main.py's output in the REPL")
        await wait_until(lambda: "new.py" in names(tab.board_pane))  # the pane follows

        await pilot.press("w")  # stops
        await wait_until(lambda: not panel.watching)
        assert not panel.display

        await pilot.press("w", "down", "enter")  # from the last choice: run main.py this time
        await wait_until(lambda: any(e.kind == "watching" for e in panel.events))
        assert "after upload: run main.py" in panel.border_subtitle
        (project / "new.py").unlink()  # deletes are not mirrored unless asked
        await wait_until(lambda: any(e.kind == "kept" for e in panel.events), timeout=20)
        def repl_text() -> str:
            return "\n".join(terminal.model.display()).rstrip()

        runs = repl_text().count("hello from main")
        (project / "lib").mkdir()
        (project / "lib" / "x.py").write_text("X = 1\n")
        await wait_until(lambda: any(e.kind == "run" for e in panel.events), timeout=20)
        assert (board_root / "lib" / "x.py").read_bytes() == b"X = 1\n"
        assert "ran /main.py" in str(panel.query_one("#watch-events").render())
        # its output in the REPL, then the prompt back; no line of code typed there
        await wait_until(lambda: repl_text().count("hello from main") > runs and repl_text()
                         .endswith("hello from main\n>>>"), what="main.py's output again")
        assert "exec(" not in repl_text()
        # the pane follows (listed again if the board dropped off and came back meanwhile)
        await wait_until(lambda: "lib" in names(tab.board_pane))
        await pilot.press("d")  # the board is disconnected: the watch stops
        await wait_until(lambda: not panel.watching)
        assert tab.board_pane.model.fs is None


async def test_files_keys_are_in_help_and_the_palette(make_app, project):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_files(app, pilot)
        await pilot.press("f1")
        await screen_is(app, HelpScreen)
        listed_ids = {entry.id for entry in app.screen.keys}
        assert {"files.copy", "files.sync", "files.watch", "files.mark"} <= listed_ids
        await pilot.press("escape")
        commands = {title: run for title, _, run in app.screen.palette_commands()}
        assert not any("Cancel the transfer" in t for t in commands)  # nothing to cancel now
        await pilot.press("r")  # from another tab, the palette's sync brings the Files tab
        assert app.screen.query_one(TabbedContent).active == "repl"
        commands["Files: Sync the left folder to the board folder: the plan first, then apply"]()
        await screen_is(app, SyncPlanScreen)
        await pilot.press("escape")
        assert app.screen.query_one(TabbedContent).active == "files"


async def test_the_board_pane_follows_the_board(make_app, project, board_root):
    make_tree(board_root, {"boot.py": "# boot\n"})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        devices = app.screen.query_one(DeviceList)
        await wait_until(lambda: devices.option_count >= 1)
        await pilot.press("f")
        tab = files_tab(app)
        assert tab.board_pane.model.fs is None
        assert tab.board_pane.model.message == "virtual is not connected: c connects."
        await pilot.press("c")  # connected: its files show
        await wait_until(lambda: listed(tab.board_pane, "/"))
        assert names(tab.board_pane) == ["boot.py"]
        await pilot.press("d")  # disconnected: they go
        await wait_until(lambda: tab.board_pane.model.fs is None)
        assert tab.board_pane.model.message == "virtual is not connected: c connects."
        await pilot.press("f5")  # nothing to copy to
        assert not tab.transferring and not isinstance(app.screen, ConfirmScreen)
