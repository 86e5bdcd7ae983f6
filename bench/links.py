"""mptui, mpremote and mpytool on the link profiles of the virtual board: one
`mptui bridge --link PROFILE` per profile, every tool through it in the same run.

    python bench/links.py [--profiles fast,uart:115200,usb-cdc,esp8266] [--rounds 1] [--cases exec,...]

Per profile: the wire's own byte rate first (the board reads or prints 64 KiB with no
protocol around it; in-process, through the bridge), then whole processes, as a user runs them,
tools alternating inside each round (medians over rounds): exec round trip; write and read of
64 KiB of random bytes and of 64 KiB of Python source; a 20-file package written (none of it
on the board) and copied again unchanged.
Transfers are also given as a fraction of the link's byte rate (the profile's nominal rate,
or the measured one on the fast link), and every tool as a ratio to mpremote (>1: faster).
Every file written or read is checked byte for byte; a tool that fails shows `failed`.
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

from engine import KIB, MPYTOOL, _raw_down, _raw_up, python_source, start_bridge

from mptui.board import BoardError, Session
from mptui.virtual.link import parse_link

SIZE = 64 * KIB
TREE_FILES = 20
TOOL_TIMEOUT = 600  # seconds; only to turn a hang into `failed`
PROFILES = "fast,uart:115200,usb-cdc,esp8266"


class Tool:
    def __init__(self, name: str, prefix: list[str]) -> None:
        self.name = name
        self.prefix = prefix

    def argv(self, case: str, work: Path) -> list[str]:
        raise NotImplementedError


class Mptui(Tool):
    def argv(self, case, work):
        return self.prefix + {
            "exec": ["exec", "x=1"],
            "write random": ["cp", "-f", str(work / "random.bin"), ":random.bin"],
            "write source": ["cp", "-f", str(work / "source.py"), ":source.py"],
            "read random": ["cp", ":random.bin", str(work / "back.bin")],
            "read source": ["cp", ":source.py", str(work / "back.bin")],
            "write tree": ["cp", "-r", str(work / "tree"), ":"],
            "re-copy tree": ["cp", "-r", str(work / "tree"), ":"],
        }[case]


class Mpremote(Tool):
    def argv(self, case, work):
        return self.prefix + {
            "exec": ["exec", "x=1"],
            "write random": ["fs", "cp", "-f", str(work / "random.bin"), ":random.bin"],
            "write source": ["fs", "cp", "-f", str(work / "source.py"), ":source.py"],
            "read random": ["fs", "cp", ":random.bin", str(work / "back.bin")],
            "read source": ["fs", "cp", ":source.py", str(work / "back.bin")],
            "write tree": ["fs", "cp", "-r", str(work / "tree"), ":"],
            "re-copy tree": ["fs", "cp", "-r", str(work / "tree"), ":"],
        }[case]


class Mpytool(Tool):
    def argv(self, case, work):
        return self.prefix + {
            "exec": ["exec", "x=1"],
            "write random": ["cp", "-f", str(work / "random.bin"), ":/random.bin"],
            "write source": ["cp", "-f", str(work / "source.py"), ":/source.py"],
            "read random": ["cp", ":/random.bin", str(work / "back.bin")],
            "read source": ["cp", ":/source.py", str(work / "back.bin")],
            "write tree": ["cp", str(work / "tree"), ":/"],
            "re-copy tree": ["cp", str(work / "tree"), ":/"],
        }[case]


CASES = ["exec", "write random", "write source", "read random", "read source", "write tree",
         "re-copy tree"]
MOVES = {"write random": "random.bin", "write source": "source.py",
         "read random": "random.bin", "read source": "source.py"}


def tools(url: str) -> list[Tool]:
    hostport = url.removeprefix("socket://")
    return [
        Mptui("mptui", [sys.executable, "-m", "mptui", "-d", url]),
        Mpremote("mpremote", [sys.executable, "-m", "mpremote", "connect", url]),
        Mpytool("mpytool", [sys.executable, "-c",
                            MPYTOOL,
                            "-a", hostport]),
    ]


def run_case(tool: Tool, case: str, work: Path, board: Path) -> float | None:
    """Seconds for one whole process, or None when it failed or moved a wrong file."""
    back = work / "back.bin"
    back.unlink(missing_ok=True)
    name = MOVES.get(case)
    if name and case.startswith("read"):  # (whatever an earlier failed write left there)
        shutil.copy(work / name, board / name)
    if case == "write tree":  # none of it there
        shutil.rmtree(board / "tree", ignore_errors=True)
    if case == "re-copy tree":  # all of it there (whatever an earlier failed write left)
        shutil.rmtree(board / "tree", ignore_errors=True)
        shutil.copytree(work / "tree", board / "tree")
    t = time.perf_counter()
    try:
        r = subprocess.run(tool.argv(case, work), capture_output=True, timeout=TOOL_TIMEOUT,
                           check=False)
    except subprocess.TimeoutExpired:
        print(f"  {tool.name} {case}: timed out", file=sys.stderr)
        return None
    elapsed = time.perf_counter() - t
    good = r.returncode == 0
    if good and name and case.startswith("write"):
        good = (board / name).read_bytes() == (work / name).read_bytes()
    elif good and name:
        good = back.exists() and back.read_bytes() == (work / name).read_bytes()
    elif good and case.endswith("tree"):
        good = all((board / "tree" / f.name).read_bytes() == f.read_bytes()
                   for f in (work / "tree").iterdir())
    if not good:
        why = (r.stderr or r.stdout).decode(errors="replace").strip().splitlines()[-1:] or [""]
        print(f"  {tool.name} {case}: failed ({r.returncode}) {why[0][:100]}", file=sys.stderr)
        return None
    return elapsed


async def raw_rates(url: str, size: int) -> tuple[float | None, float | None]:
    """Bytes a second the wire moves host -> board and board -> host, no protocol around it."""
    async with Session(url) as s:
        await s.exec("x=1")
        try:
            up = await _raw_up(s, size)
        except BoardError:
            up = None  # (a board too busy to keep up with a flood: its ring overflowed)
        try:
            down = await _raw_down(s, size)
        except BoardError:
            down = None
    return up, down


def tree_size(i: int) -> int:
    return 500 + 150 * i  # 20 files: 38 KiB in all


def prepare(work: Path, board: Path) -> None:
    (work / "random.bin").write_bytes(os.urandom(SIZE))
    (work / "source.py").write_bytes(python_source(SIZE))
    tree = work / "tree"
    tree.mkdir()
    for i in range(TREE_FILES):
        (tree / f"m{i:02}.py").write_bytes(python_source(tree_size(i)))
    for name in ("random.bin", "source.py"):  # (the reads find them there from the start)
        shutil.copy(work / name, board / name)


def bench_profile(profile: str, rounds: int, cases: list[str] = CASES) -> list[str]:
    link = parse_link(profile)
    tmp = Path(tempfile.mkdtemp(prefix="mptui-links-"))
    board, work = tmp / "board", tmp / "work"
    board.mkdir()
    work.mkdir()
    prepare(work, board)
    proc, url = start_bridge(board, "--link", profile)
    try:
        up, down = asyncio.run(raw_rates(url, SIZE if link.rate else 16 * SIZE))
        times: dict[tuple[str, str], list[float | None]] = {}
        peers = tools(url)
        for _ in range(rounds):
            for case in cases:
                for tool in peers:
                    times.setdefault((tool.name, case), []).append(run_case(tool, case, work, board))
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    return table(profile, link, up, down, peers, times, cases)


def table(profile, link, up, down, peers, times, cases=CASES) -> list[str]:
    """Transfers as a fraction of the link's rate: the profile's, or (fast) the one measured
    in the transfer's direction."""
    tree_bytes = sum(len(python_source(tree_size(i))) for i in range(TREE_FILES))
    rates = {"write": link.rate or up, "read": link.rate or down}

    def raw(x):
        if x is None:
            return "n/a (the board's ring overflowed)"
        share = f"{100 * x / link.rate:.0f}%, " if link.rate else ""
        return f"{x:,.0f} B/s ({share}64 KiB in {SIZE / x:.2f} s)"

    nominal = f"{link.rate:,.0f} B/s each way" if link.rate else "unpaced"
    lines = [f"== {profile}: {nominal}; measured: host->board {raw(up)}, board->host {raw(down)}"]
    names = [t.name for t in peers]
    lines.append(f"{'':22}" + "".join(f"{n:>20}" for n in names)
                 + "".join(f"{n + '/mpremote':>18}" for n in names if n != "mpremote")
                 + f"{'mptui/mpytool':>16}")
    for case in cases:
        med = {}
        for n in names:
            got = [x for x in times[(n, case)] if x is not None]
            med[n] = statistics.median(got) if len(got) == len(times[(n, case)]) else None
        cells = []
        for n in names:
            s = med[n]
            if s is None:
                cells.append(f"{'failed':>20}")
            elif case in MOVES or case == "write tree":
                rate, size = rates[case.split()[0]], SIZE if case in MOVES else tree_bytes
                cells.append(f"{s:8.2f} s ({100 * size / s / rate:4.0f}%)".rjust(20))
            else:
                cells.append(f"{s:8.3f} s".rjust(20))
        ratios = []
        for n in names:
            if n == "mpremote":
                continue
            ok = med[n] and med["mpremote"]
            ratios.append(f"{med['mpremote'] / med[n]:16.1f}x  " if ok else f"{'-':>16}  ")
        ok = med["mptui"] and med["mpytool"]
        ratios.append(f"{med['mpytool'] / med['mptui']:14.1f}x" if ok else f"{'-':>15}")
        label = case.replace("random", "64 KiB random").replace("source", "64 KiB source")
        label = label.replace("tree", f"{TREE_FILES} files")
        label = label.replace("write 20 files", f"write {TREE_FILES} files ({tree_bytes // KIB} KiB)")
        lines.append(f"{label:22}" + "".join(cells) + "".join(ratios))
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profiles", default=PROFILES, help=f"comma-separated (default {PROFILES})")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--cases", default=",".join(CASES),
                    help="comma-separated, of: " + ", ".join(CASES))
    args = ap.parse_args()
    cases = [c.strip() for c in args.cases.split(",")]
    if not set(cases) <= set(CASES):
        ap.error(f"--cases: unknown {sorted(set(cases) - set(CASES))}")
    print(f"whole processes, median of {args.rounds} round(s); transfers as % of the link's "
          "byte rate; ratios: the other's time / the tool's (>1: the tool is faster)")
    for profile in args.profiles.split(","):
        print("\n".join(bench_profile(profile.strip(), args.rounds, cases)), flush=True)
        print()


if __name__ == "__main__":
    main()
