"""The OTA tab's cost: a fleet push from the dashboard against the same push with no UI.

    python bench/ota_tab.py [--boards 20] [--size 100] [--rounds 3]

N virtual boards running the real agent; a signed release of SIZE KB in 20 files, every file
changed each round (push = verify + transfer + commit + reboot + back online). Medians of ROUNDS:
  - no UI: `push_fleet()` as `mptui ota push --all` runs it;
  - the dashboard: a headless app (120x40), the boards marked, one key (`p`), until every row
    shows its result; the ratio to the push with no UI is the UI's cost;
  - progress events received against table repaints (the tab coalesces them);
  - the event loop's worst lag during the push (a 10 ms ticker beside it): how long the UI can
    be kept from answering a key.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _venv  # noqa: F401  (started with another Python: runs again in the .venv)

sys.path[:0] = [str(Path(__file__).resolve().parent.parent / "tests" / d) for d in ("ota", "")]
from agentboards import KEY, PASSWORD, start_board

from mptui.services.ota import push_fleet
from mptui.services.ota.project import Secrets, load_project

SIZE = (120, 40)


def write_release(root: Path, version: str, size_kb: int, boards: list[str]) -> None:
    per = size_kb * 1024 // 20
    for i in range(20):
        body = f"V = {version!r}\n" + "".join(f"x{j} = {j} * {i}  # padding\n" for j in range(per // 20))
        path = root / "app" / ("main.py" if i == 0 else f"lib/m{i}.py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body[:per])
    listed = ", ".join(f'"{b}"' for b in boards)
    (root / "mptui.toml").write_text(f'[ota]\nversion = "{version}"\nboards = [{listed}]\n')


class Lag:
    """The worst delay of a 10 ms ticker on the running loop."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            t0 = loop.time()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, loop.time() - t0 - 0.01)

    def stop(self) -> float:
        self._task.cancel()
        return self.worst


async def no_ui(root: Path, targets: list[str]) -> tuple[float, int, float]:
    project = load_project(root)
    events = 0

    def count(_event) -> None:
        nonlocal events
        events += 1

    lag = Lag()
    t0 = time.perf_counter()
    results = await push_fleet(targets, project, on_event=count)
    seconds = time.perf_counter() - t0
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    return seconds, events, lag.stop()


async def dashboard(pilot, tab, version: str, targets: list[str]) -> tuple[float, int, int, float]:
    from mptui.ui.widgets.ota_tab import OtaTab

    assert isinstance(tab, OtaTab)
    tab.open_project()
    await until(lambda: tab.fleet.project is not None and tab.fleet.project.version == version
                and all(tab.fleet.boards.get(t) and tab.fleet.boards[t].status for t in targets)
                and tab._repaint is None)
    await pilot.press("asterisk")
    events = repaints = 0
    on_event, update_rows = tab.fleet._on_event, tab.table.update_rows

    def counted_event(event) -> None:
        nonlocal events
        events += 1
        on_event(event)

    def counted_repaint(rows) -> None:
        nonlocal repaints
        repaints += 1
        update_rows(rows)

    tab.fleet._on_event, tab.table.update_rows = counted_event, counted_repaint
    lag = Lag()
    t0 = time.perf_counter()
    await pilot.press("p")

    def shown() -> bool:
        rows = [tab.table.get_row(t) for t in targets]
        return all(str(row[3]).strip() == f"✓ {version} running" for row in rows)

    await until(shown)
    seconds = time.perf_counter() - t0
    worst = lag.stop()
    del tab.fleet._on_event, tab.table.update_rows
    return seconds, events, repaints, worst


async def until(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(predicate)
        await asyncio.sleep(0.005)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", type=int, default=20)
    ap.add_argument("--size", type=int, default=100, help="release size in KB")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mptui-bench-ota-tab-") as tmp:
        tmp = Path(tmp)
        os.environ["MPTUI_DATA_DIR"] = str(tmp / "data")
        os.environ["MPTUI_CONFIG"] = str(tmp / "config.toml")
        secrets = Secrets(tmp / "proj" / ".mptui-secrets.toml", password=PASSWORD, signing_key=KEY)
        (tmp / "proj").mkdir()
        secrets.save()
        boards = list(await asyncio.gather(*(start_board(tmp / f"b{i}", secrets, good_after=1)
                                             for i in range(args.boards))))
        targets = [b.address for b in boards]
        os.chdir(tmp / "proj")
        try:
            await run(tmp / "proj", targets, args)
        finally:
            os.chdir("/")
            await asyncio.gather(*(b.session.close() for b in boards))


async def run(root: Path, targets: list[str], args) -> None:
    from mptui.config import load_config
    from mptui.services.manager import DeviceManager
    from mptui.ui.app import MptuiApp
    from mptui.ui.widgets.ota_tab import OtaTab

    plain, ui = [], []
    version = 0
    config = load_config()
    app = MptuiApp(config, DeviceManager(config, usb=False, virtual=False))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        tab = app.screen.query_one(OtaTab)
        for _ in range(args.rounds):
            version += 1
            write_release(root, str(version), args.size, targets)
            plain.append(await no_ui(root, targets))
            version += 1
            write_release(root, str(version), args.size, targets)
            ui.append(await dashboard(pilot, tab, str(version), targets))
    med = statistics.median
    t_plain, t_ui = med(p[0] for p in plain), med(u[0] for u in ui)
    print(f"{len(targets)} boards, release {args.size} KB in 20 files (all changed), signed; "
          f"median of {args.rounds}")
    print(f"  push, no UI (push_fleet):        {t_plain:6.3f} s   loop lag max "
          f"{med(p[2] for p in plain) * 1000:5.1f} ms")
    print(f"  push from the OTA tab (one key): {t_ui:6.3f} s   loop lag max "
          f"{med(u[3] for u in ui) * 1000:5.1f} ms   ratio {t_ui / t_plain:5.2f} x")
    events, repaints = med(u[1] for u in ui), med(u[2] for u in ui)
    print(f"  progress events {events:.0f}, table repaints {repaints:.0f} "
          f"({events / max(repaints, 1):.0f} events per repaint)")


if __name__ == "__main__":
    asyncio.run(main())
