"""The Files tab against a board whose filesystem lists hostile names (a Python VFS mounted at
/evil, see tests/hostile_vfs.py): F5 copies the good files down, refuses the others with a
notification naming them, and writes nothing outside the local folder; F4 refuses to make a
local file of such a name."""

from __future__ import annotations

from hostile_vfs import BAD_DIR, BAD_IN_SUB, BAD_TOP, GOOD, host_files, mount
from textual.notifications import Notify

from mptui.ui.screens.confirm import ConfirmScreen

from .conftest import wait_until
from .filehelp import go_to, listed, open_files, other_pane, transfer_done

SIZE = (100, 30)


def notices(messages) -> list[str]:
    return [m.notification.message for m in messages if isinstance(m, Notify)]


async def test_f5_from_a_hostile_board_writes_only_inside_the_folder(make_app, project,
                                                                     board_root, monkeypatch):
    monkeypatch.setenv("EDITOR", "true")
    escape = project.parent / "abs-escape"
    app = make_app()
    messages = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        tab = await open_files(app, pilot)
        await mount(app.manager.session("virtual"), escape)
        board = tab.board_pane
        board.show_folder("/evil")
        await wait_until(lambda: listed(board, "/evil"), what="/evil listed")
        shown = {e.name for e in board.model.entries}
        assert {"../../x", "a/b", "good.txt", str(escape)} <= shown  # names as listed

        await other_pane(pilot, board)
        await pilot.press("asterisk")  # mark everything
        await pilot.press("f5")
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        messages.clear()
        await pilot.press("enter")
        await transfer_done(tab)

        assert host_files(project) == {"good.txt", "sub/inner.txt"}
        assert (project / "sub" / "inner.txt").read_bytes() == GOOD["sub/inner.txt"]
        assert not escape.exists()
        assert host_files(project.parent) - {f"proj/{f}" for f in host_files(project)} == {
            f for f in host_files(project.parent) if f.startswith(("boards/", "data/", "config/"))}
        said = "\n".join(notices(messages))
        assert "Copied 2 files" in said
        refused = [line for line in said.splitlines() if "not a plain name" in line]
        assert len(refused) == 4 and all(line.startswith("/evil") for line in refused)
        hostile = [*BAD_TOP, BAD_DIR, BAD_IN_SUB, str(escape)]
        assert all(any(repr(name) in line for name in hostile) for line in refused)
        assert f"and {len(hostile) - 4} more" in said  # a few lines shown, the count of the rest

        # F4 and Shift-F4 on a hostile name: no other file is read, no local file made of it
        for key in ("f4", "shift+f4"):
            messages.clear()
            await go_to(pilot, board, "../../x")
            await pilot.press(key)
            await wait_until(lambda: not tab.transferring and notices(messages),
                             what="the error")
            assert "'../../x': not a plain name" in "\n".join(notices(messages))
            assert not (project.parent.parent / "x").exists()
            assert app.screen is board.screen  # no editor opened
        assert BAD_DIR in shown and BAD_IN_SUB not in shown
