"""The Logs tab's cost: a burst of a board's print() lines shown in the tab, against the same
lines read with no UI, and against mpremote on the same link.

    python bench/logs_tab.py [--lines 8000] [--rate 2000] [--runs 3]

Medians of RUNS; the app runs headless at 120x40 in this process with the real DeviceManager.
  - through the agent (RemoteIO, a virtual board running the real agent): the board prints
    LINES lines at RATE lines a second; read by a plain listener (`mptui logs`'s path) and
    shown in the tab: lines received and dropped (the agent drops the oldest for a listener
    that falls behind), how long after the board's last line it was there, repaints against
    lines (the tab batches them) and the event loop's worst lag meanwhile (how long a key
    could wait);
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

import _venv  # noqa: F401  (started with another Python: runs again in the .venv)

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path[:0] = [str(TESTS / "remoteio"), str(TESTS / "ota"), str(TESTS), str(Path(__file__).parent)]
from bridge_mpremote import mpremote
from ota_tab import Lag, until
from rioboards import start_rio_board

from mptui.services.logs import DROP, OUT
from mptui.services.remoteio import agent_lines
from mptui.virtual.board import VirtualBoard
from mptui.virtual.bridge import ANY_PORT, OFF, Bridge

SIZE = (120, 40)


async def plain_listener(board, lines: int, rate: int) -> tuple[float, int, int]:
    """(seconds after the board's last line was due, lines received, lines dropped)"""
    connected, done = asyncio.Event(), asyncio.Event()
    count = dropped = 0

    async def listen() -> None:
        nonlocal count, dropped
        async for line in agent_lines("127.0.0.1", board.port):
            if line.kind == DROP:
                dropped += line.dropped
            elif line.kind != OUT:
                connected.set()
            elif line.text == "tick done":
                done.set()
                return
            elif line.text.startswith("tick "):
                count += 1

    task = asyncio.create_task(listen())
    await asyncio.wait_for(connected.wait(), 30)
    t0 = time.perf_counter()
    await board.call("start", {"lines": lines, "rate": rate, "tag": "tick"})
    await asyncio.wait_for(done.wait(), 300)
    seconds = time.perf_counter() - t0 - lines / rate
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return seconds, count, dropped


def shown(tab) -> list[str]:
    return [line.text for _, line in tab.model.feed.shown]


async def in_the_tab(app, tab, key: str, start, last: str) -> tuple[float, int, int, int, float]:
    """Watch `key`, run `start()`, until `last` is shown: (seconds, lines, dropped, repaints,
    worst lag)."""
    tab.action_clear()
    tab.watch(key)
    agent = key.startswith("rio://")
    await until(lambda: any(t.startswith("connected") for t in shown(tab))
                if agent else app.manager.board(key).connected)
    await asyncio.sleep(0.3)
    repaints = tab.repaints
    lag = Lag()
    t0 = time.perf_counter()
    await start()
    await until(lambda: last in shown(tab), timeout=300)
    seconds = time.perf_counter() - t0
    worst = lag.stop()
    lines = [line for _, line in tab.model.feed.shown]
    ticks = sum(line.kind == OUT and line.text.startswith("tick ") and line.text != "tick done"
                for line in lines)
    dropped = sum(line.dropped for line in lines if line.kind == DROP)
    tab.unwatch(key)
    await until(lambda: key not in tab.model.watching and "stopped watching" in shown(tab))
    return seconds, ticks, dropped, tab.repaints - repaints, worst


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
            plain.append(await plain_listener(rio, n, args.rate))
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
                result = await in_the_tab(app, tab, agent, lambda: rio.call(
                    "start", {"lines": n, "rate": args.rate, "tag": "tick"}), "tick done")
                agent_tab.append((result[0] - n / args.rate, *result[1:]))

                async def typed() -> None:
                    manager.console.input(repl, program.encode() + b"\r\r")

                repl_tab.append(await in_the_tab(app, tab, repl, typed, f"tick {n - 1}"))
    await rio.close()

    def med(values) -> float:
        return statistics.median(values)

    p_late, p_got, p_drop = (med(col) for col in zip(*plain, strict=True))
    a_late, a_got, a_drop, a_rep, a_lag = (med(col) for col in zip(*agent_tab, strict=True))
    r_sec, r_got, _, r_rep, r_lag = (med(col) for col in zip(*repl_tab, strict=True))
    mpt, mpb = med(mp_total), med(mp_base)
    print(f"{n} lines, median of {args.runs} runs")
    print(f"through the agent (RemoteIO), {args.rate} lines/s; last line there after the board's:")
    print(f"  plain listener (mptui logs)  {p_late:6.3f} s  received {p_got:.0f}, "
          f"dropped {p_drop:.0f}")
    print(f"  the Logs tab                 {a_late:6.3f} s  received {a_got:.0f}, "
          f"dropped {a_drop:.0f}  repaints {a_rep:.0f}  worst loop lag {a_lag * 1000:.0f} ms")
    print("at the REPL, socket:// through the bridge, as fast as the board prints "
          "(seconds; lines/s):")
    print(f"  mpremote exec (process)      {mpt:7.3f}  ({n / mpt:8.0f})")
    print(f"  mpremote exec, less 'pass'   {mpt - mpb:7.3f}  ({n / (mpt - mpb):8.0f})")
    print(f"  the Logs tab watching        {r_sec:7.3f}  ({n / r_sec:8.0f})  lines {r_got:.0f}"
          f"  tab/mpremote "
          f"{r_sec / mpt:.2f} (output alone {r_sec / (mpt - mpb):.2f})  repaints {r_rep:.0f}  "
          f"worst loop lag {r_lag * 1000:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=8000, help="(the tab keeps 10,000)")
    ap.add_argument("--rate", type=int, default=2000, help="lines a second through the agent")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mptui-bench-logs-") as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
