"""The app's memory under a long log stream: a board's agent prints RATE lines a second for
SECONDS, shown in the Logs tab; the process's RSS as it goes.

    python bench/logs_memory.py [--seconds 300] [--rate 1000]

The app runs headless at 120x40 in this process (the real DeviceManager, the Logs tab watching
a virtual board running the real agent, RemoteIO). The tab keeps its newest lines only
([logs] lines, 10,000 by default): once that many have come, RSS should stay flat. Printed:
RSS every tenth of the run, and its growth over the first and second half; lines received,
dropped by the agent (a listener that falls behind) and held by the tab at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

import _venv  # noqa: F401  (started with another Python: runs again in the .venv)

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path[:0] = [str(TESTS / "remoteio"), str(TESTS / "ota"), str(TESTS), str(Path(__file__).parent)]
from ota_tab import until
from rioboards import start_rio_board

from mptui.services.logs import DROP, OUT

SIZE = (120, 40)
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 1e6


async def run(seconds: int, rate: int, work: Path) -> None:
    from mptui.config import load_config
    from mptui.services.manager import DeviceManager
    from mptui.ui.app import MptuiApp
    from mptui.ui.widgets.logs_tab import LogsTab

    lines = seconds * rate
    rio = await start_rio_board(work / "rio" / "bench")
    manager = DeviceManager(load_config(), usb=False, ble=False, network=False, virtual=False)
    app = MptuiApp(manager.config, manager)
    samples: list[tuple[float, float]] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("l")
        tab = app.screen.query_one(LogsTab)
        key = manager.add(rio.address, name="bench").key
        tab.watch(key)
        await until(lambda: any(line.text.startswith("connected")
                                for _, line in tab.model.feed.shown))
        gc.collect()
        t0 = time.perf_counter()
        samples.append((0.0, rss_mb()))
        await rio.call("start", {"lines": lines, "rate": rate, "tag": "tick"})
        step = seconds / 10
        feed = tab.model.feed

        def done() -> bool:
            return bool(feed.shown) and feed.shown[-1][1].text == "tick done"

        while not done():
            await asyncio.sleep(0.5)
            now = time.perf_counter() - t0
            if now >= len(samples) * step:
                samples.append((now, rss_mb()))
            if now > seconds * 3 + 60:
                print("the stream never ended", file=sys.stderr)
                break
        samples.append((time.perf_counter() - t0, rss_mb()))
        held = len(feed.buffer)
        received = feed.seq
        dropped = sum(line.dropped for line in feed.buffer if line.kind == DROP)
        ticks = sum(line.kind == OUT for line in feed.buffer)
    await rio.close()
    print(f"Logs tab, {rate} lines/s for {seconds} s ({lines} lines): RSS of the app's process")
    for t, mb in samples:
        print(f"  {t:7.1f} s  {mb:7.1f} MB")
    first, mid, last = samples[0][1], samples[len(samples) // 2][1], samples[-1][1]
    print(f"growth: first half {mid - first:+.1f} MB, second half {last - mid:+.1f} MB "
          f"(total {last - first:+.1f} MB)")
    print(f"lines received {received}, held by the tab {held} (of them board output {ticks}), "
          f"drop notices held say {dropped} lost")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=300)
    ap.add_argument("--rate", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mptui-bench-logmem-") as tmp:
        os.environ.update(MPTUI_DATA_DIR=str(Path(tmp) / "data"),
                          MPTUI_CONFIG=str(Path(tmp) / "config.toml"))
        asyncio.run(run(args.seconds, args.rate, Path(tmp)))


if __name__ == "__main__":
    main()
