"""Helpers for the Files tab tests: a project folder as the current directory (under a fixed
home, so it shows as ~/proj), the virtual board's own folder, and getting the tab on screen."""

from __future__ import annotations

from pathlib import Path

from mptui.board.session import IDLE
from mptui.ui.screens.main import MainScreen
from mptui.ui.widgets.device_list import DeviceList
from mptui.ui.widgets.file_pane import FilePane
from mptui.ui.widgets.files_tab import FilesTab

from .conftest import wait_until


def make_tree(root: Path, files: dict[str, bytes | str]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root, read on the host (for the board: not through the board)."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def names(pane: FilePane) -> list[str]:
    return [e.name for e in pane.model.entries]


def listed(pane: FilePane, path: str | None = None) -> bool:
    return pane.model.fs is not None and not pane.model.loading and bool(pane.model.path) and (
        path is None or pane.model.path == path)


def files_tab(app) -> FilesTab:
    """The Files tab, whichever screen is on top."""
    main = next(s for s in app.screen_stack if isinstance(s, MainScreen))
    return main.query_one(FilesTab)


async def open_files(app, pilot) -> FilesTab:
    """Connect the virtual board (c), show the Files tab (f); both panes listed."""
    devices = app.screen.query_one(DeviceList)
    await wait_until(lambda: devices.option_count >= 1, what="the board list")
    await pilot.press("c")
    await app.manager.wait_state("virtual", IDLE)
    await pilot.press("f")
    tab = app.screen.query_one(FilesTab)
    await wait_until(lambda: listed(tab.local_pane) and listed(tab.board_pane, "/")
                     and app.focused is tab.local_pane, what="both panes listed, left focused")
    return tab


async def other_pane(pilot, pane: FilePane) -> None:
    """Tab, and the focus in `pane` (Textual moves it a moment after the key: a key for the
    pane, such as Space, goes to where the focus is when it comes)."""
    await pilot.press("tab")
    await wait_until(lambda: pilot.app.focused is pane, what="the focus in the other pane")


async def go_to(pilot, pane: FilePane, name: str) -> None:
    """Put the cursor on an entry (as the arrow keys would)."""
    rows = [e.name if e else ".." for e in pane.model.rows]
    pane.highlighted = rows.index(name)
    await pilot.pause()


async def transfer_done(tab: FilesTab) -> None:
    await wait_until(lambda: not tab.transferring, timeout=60, what="the transfer to end")
    await wait_until(lambda: listed(tab.local_pane) and listed(tab.board_pane),
                     what="the panes listed again")
