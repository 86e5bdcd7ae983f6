"""The sync plan's diffs (v): each changed file's unified diff against the board's content,
fetched when asked; a binary file marked as such (issue 13, item 4)."""

from __future__ import annotations

import io

from rich.console import Console

from mptui.ui.screens.file_diff import FileDiffScreen
from mptui.ui.screens.sync_plan import SyncPlanScreen

from .conftest import wait_until
from .filehelp import make_tree, open_files


def drawn(screen) -> str:
    console = Console(width=200, file=io.StringIO())
    console.print(screen.query_one("#diff-text").render())
    return console.file.getvalue()


async def test_v_shows_the_changed_files_diffs(make_app, project, board_root):
    make_tree(project, {"main.py": "x = 2\nprint(x)\n", "logo.bin": b"\x00new",
                        "same.py": "s = 1\n", "new.py": "n = 1\n"})
    make_tree(board_root, {"main.py": "x = 1\nprint(x)\n", "logo.bin": b"\x00old",
                           "same.py": "s = 1\n"})
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_files(app, pilot)
        await pilot.press("f2")
        await wait_until(lambda: isinstance(app.screen, SyncPlanScreen)
                         and app.screen.plan is not None, what="the plan")
        (board_root / "main.py").write_text("x = 0\nprint(x)\n")  # the board's now is shown
        await pilot.press("v")
        await wait_until(lambda: isinstance(app.screen, FileDiffScreen) and app.screen.done,
                         30, "the diffs")
        screen = app.screen
        assert sorted(d.local_name for d in screen.diffs) == ["logo.bin", "main.py"]
        text = drawn(screen)
        assert "-x = 0\n+x = 2\n" in text and "binary files logo.bin (4 B)" in text
        assert "same.py" not in text and "new.py" not in text  # only the changed ones
        await pilot.press("escape")
        assert isinstance(app.screen, SyncPlanScreen)
