"""F4 in the Files tab: the app's own editor on a board file of the virtual board: open, edit,
Ctrl-S saves (atomically, read back from the board's flash), a file changed on the board
meanwhile is marked and not overwritten without a yes, Esc asks about unsaved changes; and a
snapshot at 80x24."""

from __future__ import annotations

import pytest
from textual.notifications import Notify
from textual.widgets import TextArea

from mptui.board.session import IDLE
from mptui.ui.screens import file_edit
from mptui.ui.screens.confirm import ConfirmScreen
from mptui.ui.screens.file_edit import FileEditScreen
from mptui.ui.widgets.file_pane import FilePane

from .conftest import wait_until
from .filehelp import go_to, make_tree, open_files, other_pane

SIZE = (100, 30)
MAIN = "import time\n\ndef blink(n):\n    for i in range(n):\n        print('on', i)\n"


def notices(messages) -> list[str]:
    return [m.notification.message for m in messages if isinstance(m, Notify)]


async def open_editor(app, pilot, name: str) -> FileEditScreen:
    tab = await open_files(app, pilot)
    await other_pane(pilot, tab.board_pane)
    await go_to(pilot, tab.board_pane, name)
    await pilot.press("f4")
    await wait_until(lambda: isinstance(app.screen, FileEditScreen), what="the editor")
    await pilot.pause()
    return app.screen


def title(screen: FileEditScreen) -> str:
    return str(screen.query_one("#edit-title").render())


async def saved(app, screen: FileEditScreen) -> None:
    await app.manager.wait_state("virtual", IDLE)
    await wait_until(lambda: not screen.saving and not screen.modified, what="the save")


async def test_f4_opens_edits_and_ctrl_s_saves_to_the_board(make_app, project, board_root):
    make_tree(board_root, {"main.py": MAIN})
    app = make_app()
    messages = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        screen = await open_editor(app, pilot, "main.py")
        area = screen.query_one(TextArea)
        assert area.text == MAIN and app.focused is area
        assert area.language == ("python" if file_edit.HIGHLIGHTING else None)
        assert "virtual:/main.py (saved)" in title(screen)
        area.move_cursor((5, 0))
        await pilot.press("x", "=", "1")
        await wait_until(lambda: "modified" in title(screen), what="the modified mark")
        await pilot.press("ctrl+s")
        await saved(app, screen)
        assert (board_root / "main.py").read_text() == MAIN + "x=1"
        assert sorted(p.name for p in board_root.iterdir()) == ["main.py"]  # no temp file
        assert "(saved)" in title(screen)
        assert any("Saved main.py" in n for n in notices(messages))
        await pilot.press("escape")  # nothing unsaved: closes at once
        await wait_until(lambda: isinstance(app.focused, FilePane), what="the Files tab")


async def test_a_file_changed_on_the_board_is_marked_and_kept_unless_overwritten(
        make_app, project, board_root):
    make_tree(board_root, {"main.py": MAIN})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(app, pilot, "main.py")
        area = screen.query_one(TextArea)
        area.text = "mine\n"
        (board_root / "main.py").write_text("theirs\n")  # a sync, another tool, a program
        await pilot.press("ctrl+s")
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        assert "main.py changed on the board since it was opened here" in \
            app.screen.question
        await pilot.press("n")
        await wait_until(lambda: app.screen is screen and not screen.saving)
        assert (board_root / "main.py").read_text() == "theirs\n"
        assert "CHANGED ON THE BOARD" in title(screen) and "modified" in title(screen)
        assert screen.query_one("#edit-title").has_class("-changed-there")

        await pilot.press("ctrl+s")  # again: asked again, and this time yes
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        await saved(app, screen)
        assert (board_root / "main.py").read_text() == "mine\n"
        assert "CHANGED" not in title(screen)
        area.text = "mine, again\n"  # the board has what was saved: no question now
        await pilot.press("ctrl+s")
        await saved(app, screen)
        assert (board_root / "main.py").read_text() == "mine, again\n"


async def test_esc_asks_about_unsaved_changes(make_app, project, board_root):
    make_tree(board_root, {"notes.txt": "a\r\nb\r\n"})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(app, pilot, "notes.txt")
        area = screen.query_one(TextArea)
        assert area.language is None
        area.insert("c\r\n", (2, 0))
        await pilot.press("escape")
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("escape")  # no: still editing
        await wait_until(lambda: app.screen is screen)
        await pilot.press("ctrl+s")
        await saved(app, screen)
        assert (board_root / "notes.txt").read_bytes() == b"a\r\nb\r\nc\r\n"  # its line ends
        area.insert("d")
        await pilot.press("escape")
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        await wait_until(lambda: isinstance(app.focused, FilePane), what="the Files tab")
        assert (board_root / "notes.txt").read_bytes() == b"a\r\nb\r\nc\r\n"


async def test_binary_files_are_not_opened(make_app, project, board_root):
    make_tree(board_root, {"data.bin": bytes(range(256))})
    app = make_app()
    messages = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        tab = await open_files(app, pilot)
        await other_pane(pilot, tab.board_pane)
        await go_to(pilot, tab.board_pane, "data.bin")
        await pilot.press("f4")
        await wait_until(lambda: any("data.bin: not UTF-8 text" in n for n in notices(messages)),
                         what="the refusal")
        assert not isinstance(app.screen, FileEditScreen)


@pytest.mark.parametrize("size", [(80, 24)], ids=["80x24"])
def test_editor_snapshot(snap_compare, make_app, project, board_root, size):
    make_tree(board_root, {"main.py": MAIN})

    async def editing(pilot) -> None:
        screen = await open_editor(pilot.app, pilot, "main.py")
        screen.query_one(TextArea).cursor_blink = False
        await pilot.press("down", "down", "end")
        await pilot.app.manager.wait_state("virtual", IDLE)
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=editing)


async def test_a_local_file_is_edited_the_same_way(make_app, project, board_root):
    make_tree(project, {"notes.txt": "v1\n"})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_files(app, pilot)
        await go_to(pilot, tab.local_pane, "notes.txt")
        await pilot.press("f4")
        await wait_until(lambda: isinstance(app.screen, FileEditScreen), what="the editor")
        screen = app.screen
        screen.query_one(TextArea).text = "v2\n"
        (project / "notes.txt").write_text("changed here\n")
        await pilot.press("ctrl+s")
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        assert "changed on this computer" in app.screen.question
        await pilot.press("y")
        await wait_until(lambda: app.screen is screen and not screen.modified, what="the save")
        assert (project / "notes.txt").read_text() == "v2\n"
        assert sorted(p.name for p in project.iterdir()) == ["notes.txt"]


async def test_ctrl_q_asks_first_when_the_editor_has_unsaved_changes(make_app, project,
                                                                    board_root):
    make_tree(board_root, {"main.py": MAIN})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(app, pilot, "main.py")
        screen.query_one(TextArea).text = "unsaved\n"
        await pilot.press("ctrl+q")
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        assert "Quit without saving main.py?" in app.screen.question
        await pilot.press("n")
        await wait_until(lambda: app.screen is screen)
        assert app.is_running
        await pilot.press("ctrl+q")
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("ctrl+q")  # again: quits
        await wait_until(lambda: not app.is_running, what="the app to quit")
    assert (board_root / "main.py").read_text() == MAIN
