"""Snapshot goldens of the Files tab (top-level snapshots/test_files_snapshots/), at 80x24 and,
where the layout changes, 120x40, against a real virtual board.

Deterministic: the project is ~/proj under a temporary home, files have fixed names and sizes,
the watch list's clock is frozen, the transfer bar is given a fixed progress (so its bytes/s is
fixed), and free space is frozen: the virtual board's filesystem is the host's disk, whose free
space changes from run to run (test_files_tab.py checks the real figure)."""

from __future__ import annotations

import pytest

from mptui.board.session import IDLE
from mptui.services.boardfs import BoardFSAdapter
from mptui.services.localfs import LocalFS
from mptui.services.transfer import TransferProgress
from mptui.ui.screens.confirm import ConfirmScreen
from mptui.ui.screens.file_view import FileViewScreen
from mptui.ui.screens.sync_plan import SyncPlanScreen
from mptui.ui.widgets import watch_panel

from .conftest import wait_until
from .filehelp import files_tab, go_to, listed, make_tree, open_files, other_pane

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
SMALL = pytest.mark.parametrize("size", [(80, 24)], ids=["80x24"])

PROJECT = {
    "main.py": "import lib.util\n\nprint('hello from main')\n",
    "lib/util.py": "X = 1\n" * 3000,
    "data.bin": bytes(range(256)) * 8,
    "a_name_too_long_to_fit_in_the_pane.py": "pass\n",
    "boot.py": "# boot\n",
}
BOARD = {"boot.py": "# boot\n", "main.py": "print('old')\n", "old.py": "O = 1\n",
         "lib/util.py": "X = 1\n" * 3000}


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    async def local_df(self, path):
        return 500 * 2**30, 123 * 2**30

    async def board_df(self, path):
        return 2 * 2**20, 1_400_000

    monkeypatch.setattr(LocalFS, "df", local_df)
    monkeypatch.setattr(BoardFSAdapter, "df", board_df)
    monkeypatch.setattr(watch_panel, "clock_text", lambda seconds: "12:00:00")


@pytest.fixture
def trees(project, board_root):
    make_tree(project, PROJECT)
    make_tree(board_root, BOARD)


async def settled(pilot) -> None:
    """The board idle again and the screen (footer too) up to date."""
    app = pilot.app
    await app.manager.wait_state("virtual", IDLE)
    tab = files_tab(app)
    await wait_until(lambda: listed(tab.local_pane) and listed(tab.board_pane)
                     and not tab.transferring)
    await pilot.pause()
    await pilot.pause()
    await pilot.pause()


async def marked_and_board_focused(pilot) -> None:
    tab = await open_files(pilot.app, pilot)
    await go_to(pilot, tab.local_pane, "data.bin")
    await pilot.press("space", "space")  # data.bin, main.py
    await other_pane(pilot, tab.board_pane)
    await go_to(pilot, tab.board_pane, "main.py")
    await settled(pilot)


@SIZES
def test_both_panes_with_marks(snap_compare, make_app, trees, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=marked_and_board_focused)


@SMALL
def test_transfer_bar(snap_compare, make_app, trees, size):
    async def copying(pilot) -> None:
        await marked_and_board_focused(pilot)
        bar = files_tab(pilot.app).transfer_bar
        bar.start("Copying")  # as a copy shows it, with a fixed progress: 5.0 KiB/s
        bar.show(TransferProgress("/lib/util.py", 8192, 18000, 10240, 20480, 1, 3, 2.0))
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=copying)


@SMALL
def test_delete_confirmation(snap_compare, make_app, trees, size):
    async def asked(pilot) -> None:
        tab = await open_files(pilot.app, pilot)
        await other_pane(pilot, tab.board_pane)
        await go_to(pilot, tab.board_pane, "lib")
        await pilot.press("space", "space")  # lib, boot.py
        await settled(pilot)
        await pilot.press("f8")
        await wait_until(lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=asked)


@SIZES
def test_sync_plan(snap_compare, make_app, trees, size):
    async def planned(pilot) -> None:
        await open_files(pilot.app, pilot)
        await settled(pilot)
        await pilot.press("f2")
        await wait_until(lambda: isinstance(pilot.app.screen, SyncPlanScreen)
                         and pilot.app.screen.plan is not None)
        await pilot.press("d")  # delete what is only on the board
        await wait_until(lambda: pilot.app.screen.plan is not None
                         and pilot.app.screen.plan.delete)
        await pilot.app.manager.wait_state("virtual", IDLE)
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=planned)


@SMALL
def test_watch_events(snap_compare, make_app, project, board_root, size):
    make_tree(project, {"main.py": "print('hello from main')\n"})

    async def watching(pilot) -> None:
        tab = await open_files(pilot.app, pilot)
        panel = tab.watch_panel
        await pilot.press("w", "down", "enter")  # after an upload: soft reset
        await wait_until(lambda: any(e.kind == "watching" for e in panel.events))
        (project / "new.py").write_text("N = 1\n")
        await wait_until(lambda: any(e.kind == "reset" for e in panel.events), timeout=20)
        await wait_until(lambda: "new.py" in [e.name for e in tab.board_pane.model.entries])
        await settled(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=watching)


@SMALL
@pytest.mark.parametrize("name", ["main.py", "data.bin"])
def test_file_view(snap_compare, make_app, trees, size, name):
    async def viewing(pilot) -> None:
        tab = await open_files(pilot.app, pilot)
        await go_to(pilot, tab.local_pane, name)
        await pilot.press("f3")
        await wait_until(lambda: isinstance(pilot.app.screen, FileViewScreen))
        await settled(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=viewing)
