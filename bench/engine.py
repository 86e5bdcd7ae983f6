"""mptui's engine against mpremote on the same link: one `mptui bridge` (socket://), both CLIs
run side by side, alternating, several rounds; medians and ratios.

    python bench/engine.py [--rounds 5]

CLI figures are whole processes, as a user runs them (`mptui -d URL ...` against
`mpremote connect URL ...`): exec round trip; write and read of 256 KiB of random bytes and of
256 KiB of Python source; re-copy of an unchanged 100-file tree. Both copy with their own
defaults (both skip unchanged files by hash); the single-file copies force a transfer.

In-process figures: exec round trip in one open Session, and file write/read throughput next
to the raw byte rate of the same link (bytes the board reads from stdin / prints, with no
protocol around them).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _venv  # noqa: F401  (started with another Python: runs again in the .venv)

from mptui.board import Session

KIB = 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# mpytool run as a whole process by the Python that runs the bench (python -c MPYTOOL ARGS)
MPYTOOL = "import sys; from mpytool.mpytool import main; sys.exit(main())"


def start_bridge(root: Path, *options: str) -> tuple[subprocess.Popen, str]:
    """`mptui bridge` (with `options`, e.g. --link PROFILE) on free ports; its socket:// URL."""
    rfc, sock = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mptui", "bridge", "-p", str(rfc), "-s", str(sock),
         "--root", str(root), *options],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", sock), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        raise SystemExit("the bridge did not start")
    time.sleep(0.3)  # let the probe connection go before the first client
    return proc, f"socket://127.0.0.1:{sock}"


def python_source(size: int) -> bytes:
    rng = random.Random(1)
    words = ["value", "board", "result", "count", "index", "sensor", "buffer", "config"]
    lines = []
    while sum(len(x) + 1 for x in lines) < size:
        a, b = rng.choice(words), rng.choice(words)
        lines.append(f"def {a}_{len(lines)}({b}, n={rng.randint(0, 999)}):\n"
                     f"    return {b} * n + {rng.random():.6f}  # {a} {b}\n")
    return "".join(lines).encode()[:size]


def timed(argv: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, check=False)
    elapsed = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{r.stdout.decode()}{r.stderr.decode()}")
    return elapsed


def cli_rounds(url: str, work: Path, rounds: int) -> list[tuple[str, float, float]]:
    mptui = [sys.executable, "-m", "mptui", "-d", url]
    mpr = [sys.executable, "-m", "mpremote", "connect", url]
    files = {
        "random": os.urandom(256 * KIB),
        "source": python_source(256 * KIB),
    }
    for name, data in files.items():
        (work / f"{name}.bin").write_bytes(data)
    tree = work / "tree"
    tree.mkdir()
    for i in range(100):
        (tree / f"m{i:03}.py").write_bytes(python_source(1000 + 37 * i))
    cases = {
        "exec round trip": (mptui + ["exec", "x=1"], mpr + ["exec", "x=1"]),
    }
    for name in files:
        src = str(work / f"{name}.bin")
        cases[f"write 256 KiB {name}"] = (
            mptui + ["cp", "-f", src, f":{name}.bin"], mpr + ["fs", "cp", "-f", src, f":{name}.bin"])
        cases[f"read 256 KiB {name}"] = (
            mptui + ["cp", f":{name}.bin", str(work / "back.bin")],
            mpr + ["fs", "cp", f":{name}.bin", str(work / "back.bin")])
    cases["re-copy unchanged 100 files"] = (
        mptui + ["cp", "-r", str(tree), ":"], mpr + ["fs", "cp", "-r", str(tree), ":"])
    # the tree must be on the board once before "unchanged" means anything
    timed(mptui + ["cp", "-r", str(tree), ":"])
    rows = []
    for label, (ours, theirs) in cases.items():
        a, b = [], []
        for _ in range(rounds):
            a.append(timed(ours))
            b.append(timed(theirs))
        rows.append((label, statistics.median(a), statistics.median(b)))
    return rows


async def in_process(url: str) -> list[str]:
    out = []
    async with Session(url) as s:
        await s.exec("x=1")
        n = 300
        t = time.perf_counter()
        for _ in range(n):
            await s.exec("x=1")
        out.append(f"exec round trip in one session: {1000 * (time.perf_counter() - t) / n:.3f} ms")
        size = 1024 * KIB
        data = os.urandom(size)
        raw_down = await _raw_down(s, size)
        raw_up = await _raw_up(s, size)
        t = time.perf_counter()
        await s.fs.write("/bench.bin", data)
        w = size / (time.perf_counter() - t)
        t = time.perf_counter()
        back = await s.fs.read("/bench.bin")
        r = size / (time.perf_counter() - t)
        assert back == data
        out.append(f"raw link: host->board {raw_up / KIB:8.0f} KiB/s, board->host {raw_down / KIB:8.0f} KiB/s")
        out.append(f"fs.write 1 MiB random: {w / KIB:8.0f} KiB/s  ({100 * w / raw_up:.0f}% of raw)")
        out.append(f"fs.read  1 MiB random: {r / KIB:8.0f} KiB/s  ({100 * r / raw_down:.0f}% of raw)")
    return out


async def _raw_down(s: Session, size: int) -> float:
    """The board prints `size` bytes; how fast do they arrive?"""
    t = time.perf_counter()
    out = await s.exec(f"import sys\nb=b'x'*4096\nfor i in range({size // 4096}):\n sys.stdout.write(b)")
    assert len(out) == size
    return size / (time.perf_counter() - t)


async def _raw_up(s: Session, size: int) -> float:
    """The board reads `size` bytes from stdin; how fast can we send them?"""
    async with s.operation() as repl:
        await repl.send_code(f"import sys\nr=sys.stdin.buffer.read\nn={size}\nwhile n>0:\n n-=len(r(min(n,4096)))\nprint('done')")
        t = time.perf_counter()
        chunk = b"y" * 4096
        for _ in range(size // 4096):
            await repl.write(chunk)
        await repl.follow()
        return size / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mptui-bench-"))
    (tmp / "board").mkdir()
    (tmp / "work").mkdir()
    proc, url = start_bridge(tmp / "board")
    try:
        rows = cli_rounds(url, tmp / "work", args.rounds)
        print(f"mptui vs mpremote through one bridge ({url}), median of {args.rounds} rounds, "
              "whole processes:")
        print(f"{'':32} {'mptui':>9} {'mpremote':>9} {'speed-up':>9}")
        for label, a, b in rows:
            print(f"{label:32} {a:8.3f}s {b:8.3f}s {b / a:8.1f}x")
        print()
        for line in asyncio.run(in_process(url)):
            print(line)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
