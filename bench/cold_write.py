"""A cold single-file write as a user runs it (`mptui -d socket://... cp -f FILE :FILE`, a whole
process, a fresh session) through `mptui bridge --link PROFILE`: its time as a fraction of the
wire, and what it sent before the file's data, traced by a relay between the CLI and the bridge.

    python bench/cold_write.py [--profile uart:115200] [--rounds 5] [--kind random|source]
                               [--base DIR]

--base DIR: another mptui source tree (e.g. `git archive main | tar -x -C DIR`) run the same way,
alternating with this one inside each round, for a before/after in one run.

The relay adds a hop but no pacing; times are taken without it (every round runs the CLI straight
to the bridge; one traced run per tree follows). The trace lists each burst the host sent before
the board's `wb` stream began (a burst: bytes with less than 5 ms between them), with its first
bytes, the bytes each way in all, and how long the wire host -> board stood idle once the stream
had begun (a model from the relay's times: the host late with its next unit).
COLD_WRITE_EVENTS=1 lists the stream's first and last moves and each idle spell.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine import KIB, MPYTOOL, free_port, python_source, start_bridge

from mptui.virtual.link import parse_link

SIZE = 64 * KIB


def cli(tree: Path | None, url: str, src: Path, name: str) -> list[str]:
    return [sys.executable, "-m", "mptui", "-d", url, "cp", "-f", str(src), ":" + name]


def env(tree: Path | None) -> dict[str, str]:
    e = dict(os.environ)
    if tree is not None:
        e["PYTHONPATH"] = str(tree)
    return e


def cold(url: str, board: Path) -> None:
    """The board as a fresh session finds it after a reset: no helper in its RAM (untimed).
    PEERS=1: as bench/links.py leaves it, mpremote's and mpytool's `exec x=1` just before."""
    if os.environ.get("PEERS"):
        for argv in ([sys.executable, "-m", "mpremote", "connect", url, "exec", "x=1"],
                     [sys.executable, "-c", MPYTOOL, "-a", url.removeprefix("socket://"), "exec",
                      "x=1"]):
            subprocess.run(argv, check=True, capture_output=True, cwd=board.parent)
        return
    subprocess.run([sys.executable, "-m", "mptui", "-d", url, "soft-reset"], check=True,
                   capture_output=True, cwd=board.parent)
    time.sleep(0.3)  # (its boot over, as a board a user copies to has long finished its own)


def run_once(tree: Path | None, url: str, src: Path, board: Path, name: str) -> float:
    (board / name).write_bytes(b"old")  # (there, as in bench/links.py: -f replaces it)
    cold(url, board)
    t = time.perf_counter()
    r = subprocess.run(cli(tree, url, src, name), env=env(tree), capture_output=True, check=False,
                       cwd=board.parent)  # (not a folder holding an mptui package)
    elapsed = time.perf_counter() - t
    if r.returncode or (board / name).read_bytes() != src.read_bytes():
        raise SystemExit(f"{tree or 'this tree'}: failed: {r.stderr.decode()[-300:]}")
    return elapsed


async def relay(port: int, target: int, log: list[tuple[float, str, bytes]]) -> asyncio.Server:
    async def serve(r1, w1):
        r2, w2 = await asyncio.open_connection("127.0.0.1", target)

        async def pipe(r, w, way):
            while data := await r.read(65536):
                log.append((time.monotonic(), way, data))
                w.write(data)
                await w.drain()
            w.close()

        await asyncio.gather(pipe(r1, w2, ">"), pipe(r2, w1, "<"), return_exceptions=True)

    return await asyncio.start_server(serve, "127.0.0.1", port)


def traced(tree: Path | None, target_url: str, src: Path, board: Path, name: str,
           rate: float | None) -> list[str]:
    log: list[tuple[float, str, bytes]] = []
    port = free_port()
    target = int(target_url.rsplit(":", 1)[1])

    async def go():
        server = await relay(port, target, log)
        (board / name).write_bytes(b"old")
        t0 = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            *cli(tree, f"socket://127.0.0.1:{port}", src, name), env=env(tree), cwd=board.parent,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        await proc.wait()
        end = time.monotonic()
        server.close()
        return t0, end

    cold(target_url, board)
    t0, end = asyncio.run(go())
    return summary(log, t0, end, rate)


def idle(log: list[tuple[float, str, bytes]], ready: float, rate: float) -> str:
    """Where the wire host -> board waited for the host once the stream began: a model of the
    wire (each burst queued at its arrival, drained at `rate`): its idle time in all, and the
    spells longer than 2 ms."""
    free, total, spells, longest, big = ready, 0.0, 0, 0.0, 0.0
    for t, way, data in log:
        if way != ">" or t < ready or len(data) < 3:  # (not the stream's: leaving raw)
            continue
        gap = t - free
        if gap > 0:
            total += gap
            if gap > 0.002:
                spells += 1
                big += gap
                if os.environ.get("COLD_WRITE_EVENTS"):
                    print(f"    idle {1000 * gap:.1f} ms before {1000 * (t - ready):.1f} ms")
            longest = max(longest, gap)
        free = max(free, t) + len(data) / rate
    return (f"  stream: the wire idle {1000 * total:.0f} ms in all, {spells} spells over 2 ms "
            f"({1000 * big:.0f} ms), the longest {1000 * longest:.1f} ms")


def summary(log: list[tuple[float, str, bytes]], t0: float, end: float,
            rate: float | None = None) -> list[str]:
    """The host's bursts up to the stream's start (the board's \\x06), then the totals."""
    out, burst, last = [], bytearray(), None
    start = log[0][0] if log else t0
    out.append(f"  process start to the first byte: {1000 * (start - t0):.0f} ms")
    ready = next((t for t, way, d in log if way == "<" and b"\x06" in d), None)
    before = 0
    for t, way, data in log:
        if way != ">" or (ready is not None and t > ready):
            continue
        if last is not None and t - last > 0.005 and burst:
            out.append(f"    {len(burst):6} B  {bytes(burst[:60])!r}")
            burst = bytearray()
        if not burst:
            out.append(f"  t={1000 * (t - start):6.0f} ms")
        burst += data
        before += len(data)
        last = t
    if burst:
        out.append(f"    {len(burst):6} B  {bytes(burst[:60])!r}")
    up = sum(len(d) for _, w, d in log if w == ">")
    down = sum(len(d) for _, w, d in log if w == "<")
    at = f"{1000 * (ready - start):.0f} ms after the connection" if ready else "never"
    out.append(f"  before the stream: {before} B host->board; the stream ready {at}")
    out.append(f"  in all: {up} B host->board, {down} B board->host")
    if ready is not None and os.environ.get("COLD_WRITE_EVENTS"):  # the stream's first moves
        for t, way, data in [x for x in log if x[0] >= ready][:40]:
            out.append(f"    {1000 * (t - start):7.1f} ms {way} {len(data):5} B {bytes(data[:12])!r}")
        out.append("    ...")
        for t, way, data in log[-12:]:
            out.append(f"    {1000 * (t - start):7.1f} ms {way} {len(data):5} B {bytes(data[-40:])!r}")
    if ready is not None and rate:
        out.append(idle(log, ready, rate))
    ups = [t for t, w, _ in log if w == ">"]
    if ups and ready:
        out.append(f"  last byte up {1000 * (ups[-1] - start):.0f} ms, last byte down "
                   f"{1000 * (log[-1][0] - start):.0f} ms, process end {1000 * (end - start):.0f} ms"
                   f" (stream {1000 * (ups[-1] - ready):.0f} ms for {up - before} B)")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="uart:115200")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--kind", choices=("random", "source"), default="random")
    ap.add_argument("--base", type=Path, help="another mptui tree, compared in the same run")
    args = ap.parse_args()
    link = parse_link(args.profile)
    tmp = Path(tempfile.mkdtemp(prefix="mptui-cold-"))
    board, work = tmp / "board", tmp / "work"
    board.mkdir()
    work.mkdir()
    src = work / "data.bin"
    src.write_bytes(os.urandom(SIZE) if args.kind == "random" else python_source(SIZE))
    trees: list[Path | None] = [None] + ([args.base.resolve()] if args.base else [])
    for tree in trees:  # (bytecode, as an installed mptui has it)
        subprocess.run([sys.executable, "-m", "compileall", "-q",
                        str((tree or Path(__file__).parent.parent) / "mptui")], check=True)
    proc, url = start_bridge(board, "--link", args.profile)
    times: dict[str, list[float]] = {}
    try:
        for _ in range(args.rounds):
            for tree in trees:
                times.setdefault(str(tree or "this tree"), []).append(
                    run_once(tree, url, src, board, "data.bin"))
        traces = {str(tree or "this tree"): traced(tree, url, src, board, "data.bin", link.rate)
                  for tree in trees}
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    wire = SIZE / link.rate if link.rate else None
    print(f"cold write of 64 KiB {args.kind} on {args.profile}, whole process, "
          f"{args.rounds} rounds; load {os.getloadavg()[0]:.2f}")
    for name, got in times.items():
        med = statistics.median(got)
        share = f" = {100 * wire / med:.1f}% of the wire ({wire:.2f} s)" if wire else ""
        print(f"{name}: median {med:.2f} s{share}; all: {' '.join(f'{x:.2f}' for x in got)}")
        print("\n".join(traces[name]))


if __name__ == "__main__":
    main()
