"""The Files tab's own cost: a copy through the tab (F5, the progress bar on screen) against the
engine alone (copy_paths) on the same virtual board, and a board folder listed in the pane
against the filesystem's list() alone.

    python bench/files_tab.py [--files 200] [--bytes 2000000] [--runs 3]

The app runs headless at 120x40 in this process, with the real DeviceManager and a virtual
board of its own. Medians of N runs; ratio = tab time / engine time (1.00: the UI costs
nothing). The engine against mpremote on the same link is bench/sync.py's job.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import string
import sys
import tempfile
import time
from pathlib import Path

import _venv  # noqa: F401  (started with another Python: runs again in the .venv)

SIZE = (120, 40)


def make_tree(root: Path, files: int, total: int) -> None:
    rng = random.Random(1)
    alphabet = string.ascii_letters + string.digits + " =()_:.,\n"
    for i in range(files):
        folder = root / f"pkg{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{i:03}.py").write_text(
            "".join(rng.choice(alphabet) for _ in range(total // files)))


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


async def until(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the bench waited too long")
        await asyncio.sleep(0.005)


async def run(args, work: Path) -> None:
    from mptui.board.session import IDLE
    from mptui.config import load_config
    from mptui.services.boardfs import BoardFSAdapter
    from mptui.services.copier import copy_paths
    from mptui.services.localfs import LocalFS
    from mptui.services.manager import DeviceManager
    from mptui.ui.app import MptuiApp
    from mptui.ui.screens.confirm import ConfirmScreen
    from mptui.ui.widgets.files_tab import FilesTab

    project, boards = work / "proj", work / "boards"
    make_tree(project / "app", args.files, args.bytes)
    board_root = boards / "default"
    board_root.mkdir(parents=True)
    os.chdir(project)
    manager = DeviceManager(load_config(), usb=False, virtual_root=boards)
    app = MptuiApp(manager.config, manager)
    engine, tab_times, ls_times, pane_times = [], [], [], []
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: manager.find("virtual") is not None)
        await pilot.press("c")
        await manager.wait_state("virtual", IDLE, timeout=30)
        await pilot.press("f")
        tab = app.screen.query_one(FilesTab)
        local, board = tab.local_pane, tab.board_pane
        await until(lambda: board.model.path == "/" and not board.model.loading
                    and not local.model.loading)
        session = manager.session("virtual")
        src, dst = LocalFS(), BoardFSAdapter(session)
        expected = tree(project / "app")
        for _ in range(args.runs):
            shutil.rmtree(board_root / "app", ignore_errors=True)
            start = time.perf_counter()
            await copy_paths(src, [str(project / "app")], dst, "/")
            engine.append(time.perf_counter() - start)
            assert tree(board_root / "app") == expected

            shutil.rmtree(board_root / "app")
            local.highlighted = [e.name if e else ".." for e in local.model.rows].index("app")
            local.focus()
            await pilot.press("f5")
            await until(lambda: isinstance(app.screen, ConfirmScreen))
            start = time.perf_counter()
            app.screen.action_answer(True)
            await until(lambda: tab.transferring)
            await until(lambda: not tab.transferring)
            tab_times.append(time.perf_counter() - start)
            assert tree(board_root / "app") == expected

            start = time.perf_counter()
            await dst.list("/app/pkg0")
            ls_times.append(time.perf_counter() - start)
            await until(lambda: not board.model.loading)
            start = time.perf_counter()
            board.show_folder("/app/pkg0")
            await until(lambda: board.model.path == "/app/pkg0" and not board.model.loading)
            pane_times.append(time.perf_counter() - start)
            board.show_folder("/")
            await until(lambda: board.model.path == "/" and not board.model.loading)
    report(args, engine, tab_times, ls_times, pane_times)


def report(args, engine, tab_times, ls_times, pane_times) -> None:
    med = statistics.median
    print(f"copy {args.files} files ({args.bytes / 1e6:.1f} MB) to the virtual board, "
          f"median of {args.runs}:")
    print(f"  engine (copy_paths)        {med(engine):7.3f} s")
    print(f"  Files tab (F5, progress)   {med(tab_times):7.3f} s   "
          f"ratio tab/engine {med(tab_times) / med(engine):.2f}")
    print(f"list a board folder of {args.files // 10} files:")
    print(f"  fs.list()                  {med(ls_times) * 1000:7.1f} ms")
    print(f"  the pane (list + free)     {med(pane_times) * 1000:7.1f} ms   "
          f"ratio pane/list {med(pane_times) / med(ls_times):.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--bytes", type=int, default=2_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mptui-bench-files-") as tmp:
        work = Path(tmp)
        os.environ["MPTUI_DATA_DIR"] = str(work / "data")
        os.environ["MPTUI_CONFIG"] = str(work / "config.toml")
        os.environ["HOME"] = str(work)
        cwd = os.getcwd()
        try:
            asyncio.run(run(args, work))
        finally:
            os.chdir(cwd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
