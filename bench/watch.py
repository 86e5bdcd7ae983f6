"""Watch mode latency: from a local save to the same bytes on the board (sha256 checked).

    python bench/watch.py [--saves 20] [--bytes 4000]

Runs the watcher on a virtual board, saves a file now and then, and times each save until
the board holds that exact content. Prints the median and the slowest.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import tempfile
import time
from pathlib import Path

import _venv  # noqa: F401  (started with another Python: runs again in the .venv)

from mptui.board import Session
from mptui.services.boardfs import BoardFSAdapter
from mptui.services.localfs import LocalFS
from mptui.services.sync import Syncer
from mptui.services.watch import Watcher
from mptui.transports.virtual import VirtualTransport


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--saves", type=int, default=20)
    ap.add_argument("--bytes", type=int, default=4000)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mptui-bench-watch-"))
    local = work / "proj"
    local.mkdir()
    session = Session("virtual:bench", transport=VirtualTransport("bench", root=work / "board"))
    await session.connect()
    uploaded = asyncio.Event()
    watcher = Watcher(Syncer(LocalFS(), local, BoardFSAdapter(session), "/"),
                      on_event=lambda e: uploaded.set() if e.kind == "uploaded" else None)
    task = asyncio.create_task(watcher.run())
    await watcher.ready.wait()

    latencies = []
    for _ in range(args.saves):
        data = os.urandom(args.bytes // 2).hex().encode()
        uploaded.clear()
        start = time.perf_counter()
        (local / "main.py").write_bytes(data)
        while True:
            await asyncio.wait_for(uploaded.wait(), 30)
            uploaded.clear()
            if await session.fs.sha256("/main.py") == hashlib.sha256(data).hexdigest():
                break
        latencies.append(time.perf_counter() - start)
        await asyncio.sleep(0.2)  # a pause between saves, as an editor user makes

    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await session.close()
    ms = sorted(x * 1000 for x in latencies)
    print(f"save -> on the board (sha256 equal), {args.saves} saves of {args.bytes} B: "
          f"median {statistics.median(ms):.0f} ms, slowest {ms[-1]:.0f} ms, fastest {ms[0]:.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
