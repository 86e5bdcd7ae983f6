"""Soak: an app printing 1,000 lines/s for an hour (by default) to RemoteIO listeners, on a virtual
board running the real agent; the app's memory must stay bounded.

    python bench/remoteio_soak.py [--minutes 60] [--rate 1000]

Two listeners: one that reads everything (every line must arrive, in order) and one that reads
in bursts (5 s reading, 20 s not), which makes the board drop its oldest lines for it again and
again. Every 30 s: the board's heap in use after a collection (`free_mem`/`stats` over
RemoteIO), the most output the agent held, and the runtime process's RSS. Prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import _venv  # noqa: F401  (started with another Python: runs again in the .venv)

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path[:0] = [str(TESTS / "remoteio"), str(TESTS)]
from helpers import runtime_processes
from rioboards import start_rio_board

from mptui.services.logs import DROP, OUT
from mptui.services.remoteio import agent_lines

SAMPLE_EVERY = 30.0  # seconds


def rss_kb(root: Path) -> int:
    total = 0
    for pid in runtime_processes(root):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


class BurstyListener(threading.Thread):
    """Reads for `on` seconds, then not for `off` seconds, over and over."""

    def __init__(self, port: int, on: float = 5.0, off: float = 20.0) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # stalls show soon
        self.sock.settimeout(30)
        self.sock.connect(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")
        json.loads(self.file.readline())
        self.sock.sendall(b'{"t":"listen"}\n{"t":"call","id":1,"name":"ping"}\n')
        while json.loads(self.file.readline()).get("id") != 1:
            pass
        self.on, self.off = on, off
        self.lines = self.dropped = 0
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                until = time.monotonic() + self.on
                while time.monotonic() < until and not self.stop.is_set():
                    msg = json.loads(self.file.readline())
                    if msg["t"] == "out":
                        self.lines += msg["d"].count("\n")
                    elif msg["t"] == "drop":
                        self.dropped += msg["n"]
                self.stop.wait(self.off)
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


async def soak(minutes: float, rate: int) -> int:
    total = int(minutes * 60 * rate)
    with tempfile.TemporaryDirectory(prefix="mptui-rio-soak-") as tmp:
        board = await start_rio_board(Path(tmp) / "soak")
        root = board.agent.root
        bursty = BurstyListener(board.port)
        bursty.start()
        received = dropped = 0
        in_order = True
        last, gap = -1, 0
        t0 = time.monotonic()
        connected = asyncio.Event()
        finished = asyncio.Event()

        async def listen() -> None:
            nonlocal received, dropped, in_order, last, gap
            async for line in agent_lines("127.0.0.1", board.port):
                if line.kind == OUT:
                    if line.text == "line done":
                        finished.set()
                        return
                    number = int(line.text.split()[1])
                    in_order &= number == last + 1 + gap  # a drop leaves a gap, not disorder
                    last, gap = number, 0
                    received += 1
                elif line.kind == DROP:
                    dropped += line.dropped
                    gap += line.dropped
                    print(f"  {(time.monotonic() - t0) / 60:5.1f} min  the full listener fell "
                          f"behind: {line.dropped} lines dropped", file=sys.stderr)
                elif line.text.startswith("connected"):
                    connected.set()

        listener = asyncio.create_task(listen())
        await asyncio.wait_for(connected.wait(), 30)
        samples = []

        async def sample(t0: float) -> None:
            stats = await board.call("stats", {"collect": True})
            samples.append((time.monotonic() - t0, await board.call("progress"), stats["alloc"],
                            stats["dropped"], stats["peak"], rss_kb(root)))
            t, n, alloc, lost, peak, rss = samples[-1]
            print(f"  {t / 60:5.1f} min  {n:9d} lines  heap in use {alloc:7d} B  buffer high "
                  f"{peak:5d}  dropped {lost}  RSS {rss} kB", file=sys.stderr)

        t0 = time.monotonic()
        await sample(t0)
        await board.call("start", {"lines": total, "rate": rate})
        while not finished.is_set():
            try:
                await asyncio.wait_for(finished.wait(), SAMPLE_EVERY)
            except asyncio.TimeoutError:
                await sample(t0)
        elapsed = time.monotonic() - t0
        await sample(t0)
        bursty.close()
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await board.close()

    allocs = [s[2] for s in samples]
    rss = [s[5] for s in samples]
    print(f"{total} lines at {rate}/s in {elapsed / 60:.1f} min ({total / elapsed:.0f} lines/s); "
          f"{len(samples)} samples")
    print(f"  full listener:   {received} lines received, {dropped} dropped, "
          f"{'in order' if in_order else 'OUT OF ORDER'}")
    print(f"  bursty listener: {bursty.lines} lines received, {bursty.dropped} dropped "
          "(drop-oldest while it was not reading)")
    print(f"  board heap in use after a collection: first {allocs[0]} B, last {allocs[-1]} B, "
          f"min {min(allocs)} B, max {max(allocs)} B")
    print(f"  output buffer high-water mark {max(s[4] for s in samples)} "
          "(limit remoteio_buffer = 16384)")
    print(f"  runtime RSS: first {rss[0]} kB, last {rss[-1]} kB, max {max(rss)} kB")
    # What the agent holds for listeners comes and goes: compare the highs of the two halves.
    running = allocs[1:-1] or allocs
    half = len(running) // 2 or 1
    growth = max(running[half:]) - max(running[:half])
    print(f"  heap high of the second half minus that of the first: {growth} B")
    bounded = growth < 4096
    print(f"memory bounded: {'yes' if bounded else 'NO'}; every line to the full listener: "
          f"{'yes' if received == total and not dropped and in_order else 'NO'}")
    ok = bounded and received == total and not dropped and in_order
    return 0 if ok else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="how long (default 60)")
    ap.add_argument("--rate", type=int, default=1000, help="lines a second (default 1000)")
    args = ap.parse_args()
    return asyncio.run(soak(args.minutes, args.rate))


if __name__ == "__main__":
    sys.exit(main())
