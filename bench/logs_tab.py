"""The Logs tab's cost: a burst of a board's print() lines shown in the tab, against the same
lines read with no UI, and against mpremote on the same link.

    python bench/logs_tab.py [--lines 20000] [--runs 3]

Medians of RUNS; the app runs headless at 120x40 in this process with the real DeviceManager.
  - through the agent (RemoteIO, a virtual board running the real agent): the board prints
    LINES lines as fast as it can; the time from the start call to the last line, read by a
    plain listener (`mptui logs`'s path) and shown in the tab; repaints against lines (the tab
    batches them) and the event loop's worst lag meanwhile (how long a key could wait);
  - at the REPL (a virtual board behind the bridge, socket://): the board runs
    `for i in range(LINES): print('tick', i)`; the time until the last line is shown in the tab
    (watching the REPL) against `mpremote connect socket://… exec` of the same program (its
    whole process, and less its own time for `exec pass`, i.e. the output alone).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path[:0] = [str(TESTS / "remoteio"), str(TESTS / "ota"), str(Path(__file__).parent)]
from bridge_mpremote import mpremote
from ota_tab import Lag, until
from rioboards import start_rio_board

from mptui.services.logs import OUT
from mptui.services.remoteio import agent_lines
from mptui.virtual.board import VirtualBoard
from mptui.virtual.bridge import ANY_PORT, OFF, Bridge

SIZE = (120, 40)


async def plain_listener(board, lines: int) -> float:
    connected, done = asyncio.Event(), asyncio.Event()
    count = 0

    async def listen() -> None:
        nonlocal count
        async for line in agent_lines("127.0.0.1", board.port):
            if line.kind != OUT:
                connected.set()
            elif line.text == "tick done":
                done.set()
                return
            elif line.text.startswith("tick "):
                count += 1

    task = asyncio.create_task(listen())
    await asyncio.wait_for(connected.wait(), 30)
    t0 = time.perf_counter()
    await board.call("start", {"lines": lines, "rate": 0, "tag": "tick"})
    await asyncio.wait_for(done.wait(), 300)
    seconds = time.perf_counter() - t0
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert count == lines, (count, lines)
    return seconds


def shown(tab) -> list[str]:
    return [line.text for _, line in tab.feed.shown]


async def in_the_tab(app, tab, key: str, start, last: str, expect: int) -> tuple[float, int, float]:
    """Watch `key`, run `start()`, until `last` is shown: (seconds, repaints, worst lag)."""
    tab.action_clear()
    tab.watch(key)
    agent = key.startswith("rio://")
    await until(lambda: any(t.startswith("connected") for t in shown(tab))
                if agent else app.manager.board(key).connected)
    await asyncio.sleep(0.3)
    repaints, seq = tab.repaints, tab.feed.seq
    lag = Lag()
    t0 = time.perf_counter()
    await start()
    await until(lambda: last in shown(tab), timeout=300)
    seconds = time.perf_counter() - t0
    worst = lag.stop()
    assert tab.feed.seq - seq >= expect, (tab.feed.seq - seq, expect)  # none lost
    tab.unwatch(key)
    await until(lambda: key not in tab.watching and "stopped watching" in shown(tab))
    return seconds, tab.repaints - repaints, worst


async def run(args, work: Path) -> None:
    from mptui.config import load_config
    from mptui.services.manager import DeviceManager
    from mptui.ui.app import MptuiApp
    from mptui.ui.widgets.logs_tab import LogsTab

    n = args.lines
    program = f"for i in range({n}): print('tick', i)"
    rio = await start_rio_board(work / "rio" / "bench")
    bridge = Bridge(VirtualBoard("bench", root=work / "bridged"), rfc2217_port=OFF,
                    socket_port=ANY_PORT)
    plain, agent_tab, repl_tab = [], [], []
    mp_total, mp_base = [], []
    async with bridge:
        url = f"socket://127.0.0.1:{bridge.socket_port}"
        for _ in range(args.runs):
            plain.append(await plain_listener(rio, n))
            mp_total.append(await mpremote(url, "exec", program))
            mp_base.append(await mpremote(url, "exec", "pass"))

        manager = DeviceManager(load_config(), usb=False, ble=False, network=False,
                                virtual=False)
        app = MptuiApp(manager.config, manager)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("l")
            tab = app.screen.query_one(LogsTab)
            agent = manager.add(rio.address, name="bench").key
            repl = manager.add(url).key
            for _ in range(args.runs):
                agent_tab.append(await in_the_tab(
                    app, tab, agent, lambda: rio.call("start", {"lines": n, "rate": 0,
                                                                "tag": "tick"}),
                    "tick done", n))

                async def typed() -> None:
                    manager.console_input(repl, program.encode() + b"\r\r")

                repl_tab.append(await in_the_tab(app, tab, repl, typed, f"tick {n - 1}", n))
    await rio.close()

    def med(values) -> float:
        return statistics.median(values)

    p = med(plain)
    a_sec, a_rep, a_lag = (med(col) for col in zip(*agent_tab))
    r_sec, r_rep, r_lag = (med(col) for col in zip(*repl_tab))
    mpt, mpb = med(mp_total), med(mp_base)
    print(f"{n} lines, median of {args.runs} runs (seconds; lines/s in brackets)")
    print("through the agent (RemoteIO):")
    print(f"  plain listener (mptui logs)  {p:7.3f}  ({n / p:8.0f})")
    print(f"  the Logs tab                 {a_sec:7.3f}  ({n / a_sec:8.0f})  tab/plain "
          f"{a_sec / p:.2f}  repaints {a_rep:.0f}  worst loop lag {a_lag * 1000:.0f} ms")
    print("at the REPL, socket:// through the bridge:")
    print(f"  mpremote exec (process)      {mpt:7.3f}  ({n / mpt:8.0f})")
    print(f"  mpremote exec, less 'pass'   {mpt - mpb:7.3f}  ({n / (mpt - mpb):8.0f})")
    print(f"  the Logs tab watching        {r_sec:7.3f}  ({n / r_sec:8.0f})  tab/mpremote "
          f"{r_sec / mpt:.2f} (output alone {r_sec / (mpt - mpb):.2f})  repaints {r_rep:.0f}  "
          f"worst loop lag {r_lag * 1000:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mptui-bench-logs-") as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
