"""OTA speed and the agent's cost, on virtual boards running the real agent.

    python bench/ota.py [--boards 20] [--size 100] [--rounds 3]

1. Push a release of SIZE KB (every file changed) to 1 board, then to N boards in parallel and
   to the same N one after another (as micro-ota does): times and ratios.
2. The agent's cost: time spent in boot.py by `mptui_agent.boot()` (as .py and as .mpy), heap
   used by the agent (gc.mem_alloc() in main.py with and without it), and CPU time over 5 s idle.
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

sys.path[:0] = [str(Path(__file__).resolve().parent.parent / "tests" / d) for d in ("ota", "")]
from agentboards import KEY, PASSWORD, free_port, start_board

from mptui.board import Session
from mptui.services.ota import push, push_fleet
from mptui.services.ota.install import install
from mptui.services.ota.project import Project, Secrets
from mptui.transports.virtual import VirtualTransport


def write_release(folder: Path, version: str, size_kb: int) -> None:
    """~size_kb KB of Python source in 20 files, every one different in each version."""
    per = size_kb * 1024 // 20
    for i in range(20):
        body = f"V = {version!r}\n" + "".join(f"x{j} = {j} * {i}  # some padding here\n" for j in range(per // 30))
        path = folder / ("main.py" if i == 0 else f"lib/m{i}.py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body[:per])


async def bench_push(tmp: Path, n: int, size_kb: int, rounds: int) -> None:
    secrets = Secrets(tmp / "s.toml", password=PASSWORD, signing_key=KEY)
    boards = list(await asyncio.gather(*(start_board(tmp / f"b{i}", secrets, good_after=1)
                                         for i in range(n))))
    try:
        version = 0

        def project() -> Project:
            nonlocal version
            version += 1
            src = tmp / f"rel{version}"
            write_release(src, str(version), size_kb)
            return Project(tmp / "mptui.toml", str(version), src, secrets=secrets)

        async def timed(coro) -> float:
            t0 = time.perf_counter()
            results = await coro
            assert all(r.ok for r in (results if isinstance(results, list) else [results])), results
            return time.perf_counter() - t0

        size = project().build().size
        one, par, seq = [], [], []
        for _ in range(rounds):
            one.append(await timed(push(boards[0].address, project())))
            par.append(await timed(push_fleet([b.address for b in boards], project())))
            p = project()
            t0 = time.perf_counter()
            for b in boards:
                assert (await push(b.address, p)).ok
            seq.append(time.perf_counter() - t0)
        t1, tp, ts = (statistics.median(x) for x in (one, par, seq))
        print(f"release: {size / 1024:.1f} KB in 20 files, signed; push = verify + transfer + "
              f"commit + reboot + back online; median of {rounds}")
        print(f"  1 board:                  {t1:6.3f} s")
        print(f"  {n} boards in parallel:    {tp:6.3f} s   ratio {tp / t1:5.2f} x the 1-board time")
        print(f"  {n} boards one by one:     {ts:6.3f} s   ratio {ts / t1:5.2f} x")
        print(f"  parallel vs one by one:   {ts / tp:5.2f} x faster")
    finally:
        await asyncio.gather(*(b.session.close() for b in boards))


BOOT_PY = """import time
_t0 = time.ticks_us()
{hook}
_t1 = time.ticks_us()
try:
    import os
    os.mkdir('/data')
except OSError:
    pass
with open('/data/boot_us.txt', 'a') as f:
    f.write('%d\\n' % time.ticks_diff(_t1, _t0))
"""
MAIN_PY = """import gc
gc.collect()
with open('/data/heap.txt', 'a') as f:
    f.write('%d\\n' % gc.mem_alloc())
"""


async def bench_overhead(tmp: Path, boots: int) -> None:
    secrets = Secrets(tmp / "s.toml", password=PASSWORD, signing_key=KEY)
    rows = []
    for label, use_mpy, hook in (("no agent", None, "pass"), ("agent .py", False, None),
                                  ("agent .mpy", True, None)):
        root = tmp / label.replace(" ", "_").replace(".", "")
        root.mkdir(parents=True)
        session = Session("virtual:x", transport=VirtualTransport("x", root=root))
        await session.connect()
        try:
            if hook is None:
                await install(session, {"port": free_port(), "good_after": 0}, secrets, use_mpy=use_mpy)
                hook = "import mptui_agent\nmptui_agent.boot()"
            await session.fs.write("/boot.py", BOOT_PY.format(hook=hook).encode())
            await session.fs.write("/main.py", MAIN_PY.encode())
            for _ in range(boots):
                await session.hard_reset()
            await asyncio.sleep(0.2)  # the last main.py has written its line
            boot_us = [int(x) for x in (root / "data/boot_us.txt").read_text().split()]
            heap = [int(x) for x in (root / "data/heap.txt").read_text().split()]
            # idle CPU of the board process over 5 s (the agent's thread waiting in poll())
            pid = session.transport.board.pid
            cpu0 = _cpu(pid)
            await asyncio.sleep(5)
            cpu = _cpu(pid) - cpu0
        finally:
            await session.close()
        rows.append((label, statistics.median(boot_us) / 1000, int(statistics.median(heap)), cpu))
    base = rows[0]
    print(f"agent cost on the virtual board (median of {boots} boots; OTA server listening)")
    print(f"  {'':12} {'boot.py ms':>10} {'heap bytes':>11} {'vs none':>9} {'idle CPU 5 s':>13}")
    for label, ms, heap, cpu in rows:
        print(f"  {label:12} {ms:10.2f} {heap:11d} {heap - base[2]:+9d} {cpu * 1000:10.1f} ms")


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    import os

    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", type=int, default=20)
    ap.add_argument("--size", type=int, default=100, help="release size in KB")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--boots", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mptui-bench-ota-") as tmp:
        await bench_push(Path(tmp) / "push", args.boards, args.size, args.rounds)
        await bench_overhead(Path(tmp) / "cost", args.boots)


if __name__ == "__main__":
    asyncio.run(main())
