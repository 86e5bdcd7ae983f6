"""`mptui mount` beside `mpremote mount`: one `mptui bridge --link PROFILE` per profile, both
tools through it in the same run, alternating inside each round (medians over rounds).

    python bench/mount.py [--profiles fast,uart:115200] [--rounds 3] [--mb 1] [--uart-kb 64]

Cases, each one whole process as a user runs it (`mptui mount DIR + exec CODE`, `mpremote
mount DIR exec CODE`):
- read: the board reads a file through the mount in 4 KiB reads and hashes it (1 MB on the
  fast link; --uart-kb on slow links, where 1 MB takes minutes);
- import: the board imports 20 modules of about 1.5 KB from the mount.
Two figures per case: the board's own clock around the work (time.ticks_ms: the mount's
protocol alone) and the whole process (with connecting and mounting). The board's sha256 and
the modules' sum are checked; a tool that fails shows `failed`. Ratio: mpremote / mptui.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine import start_bridge

TIMEOUT = 900  # seconds; only to turn a hang into `failed`
MODULES = 20


def make_folder(work: Path, size: int) -> str:
    work.mkdir(parents=True, exist_ok=True)
    data = os.urandom(size)
    (work / "big.bin").write_bytes(data)
    for i in range(MODULES):
        body = "".join(f"def f{i}_{k}(x):\n    return x * {k} + {i}  # padding to a real size\n"
                       for k in range(22))
        (work / f"benchmod{i}.py").write_text(body + f"VALUE = {i}\n")
    return hashlib.sha256(data).hexdigest()


READ = ("import hashlib, binascii, time\nt = time.ticks_ms()\nh = hashlib.sha256()\n"
        "with open('big.bin', 'rb') as f:\n while True:\n  b = f.read(4096)\n  if not b: break\n"
        "  h.update(b)\nprint('RESULT', time.ticks_diff(time.ticks_ms(), t), "
        "binascii.hexlify(h.digest()).decode())")
# the board lives on between clients of the bridge (mptui does not soft-reset it): imports
# are undone first, so each round imports anew
IMPORT = ("import time, sys\nfor m in [k for k in sys.modules if k.startswith('benchmod')]:\n"
          " del sys.modules[m]\nt = time.ticks_ms()\n"
          + "".join(f"import benchmod{i}\n" for i in range(MODULES))
          + "s = sum(sys.modules['benchmod%d' % i].VALUE for i in range(" + str(MODULES) + "))\n"
          "print('RESULT', time.ticks_diff(time.ticks_ms(), t), s)")
EXPECTED_SUM = str(sum(range(MODULES)))


def argv(tool: str, url: str, work: Path, code: str) -> list[str]:
    if tool == "mptui":
        return [sys.executable, "-m", "mptui", "-d", url, "mount", str(work), "+", "exec", code]
    return [sys.executable, "-m", "mpremote", "connect", url, "mount", str(work), "exec", code]


def run(tool: str, url: str, work: Path, code: str, expect: str) -> tuple[float, float] | None:
    """(board seconds, process seconds), or None when it failed or got a wrong answer."""
    t = time.perf_counter()
    try:
        r = subprocess.run(argv(tool, url, work, code), capture_output=True, timeout=TIMEOUT,
                           check=False)
    except subprocess.TimeoutExpired:
        print(f"  {tool}: timed out", file=sys.stderr)
        return None
    elapsed = time.perf_counter() - t
    line = next((x for x in r.stdout.decode(errors="replace").splitlines()
                 if x.startswith("RESULT")), "")
    parts = line.split()
    if r.returncode != 0 or len(parts) != 3 or parts[2] != expect:
        print(f"  {tool}: failed ({r.returncode}): {r.stdout[-200:]!r} {r.stderr[-300:]!r}",
              file=sys.stderr)
        return None
    return int(parts[1]) / 1000, elapsed


def bench_profile(profile: str, rounds: int, size: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root, work = Path(tmp) / "board", Path(tmp) / "work"
        root.mkdir()
        digest = make_folder(work, size)
        proc, url = start_bridge(root, "--link", profile)
        try:
            print(f"\n== {profile}: read {size // 1024} KiB, import {MODULES} modules; "
                  f"{rounds} round(s); seconds (board clock / whole process)")
            print(f"{'case':<10}{'mptui':>18}{'mpremote':>18}{'ratio':>8}")
            for case, code, expect in (("read", READ, digest), ("import", IMPORT, EXPECTED_SUM)):
                got: dict[str, list[tuple[float, float]]] = {"mptui": [], "mpremote": []}
                for _ in range(rounds):
                    for tool in ("mptui", "mpremote"):
                        result = run(tool, url, work, code, expect)
                        if result is not None:
                            got[tool].append(result)
                        for name in (f"benchmod{i}.mpy" for i in range(MODULES)):
                            (work / name).unlink(missing_ok=True)
                cells, medians = [], {}
                for tool, results in got.items():
                    if len(results) < rounds:
                        cells.append(f"{'failed':>18}")
                        continue
                    board = statistics.median(r[0] for r in results)
                    whole = statistics.median(r[1] for r in results)
                    medians[tool] = board
                    cells.append(f"{board:>8.3f} / {whole:>6.2f}")
                ratio = (f"{medians['mpremote'] / medians['mptui']:>7.1f}x"
                         if len(medians) == 2 and medians["mptui"] else f"{'-':>8}")
                print(f"{case:<10}{cells[0]}{cells[1]}{ratio}")
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default="fast,uart:115200")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mb", type=float, default=1.0, help="the read on the fast link")
    parser.add_argument("--uart-kb", type=int, default=64, help="the read on slow links")
    args = parser.parse_args()
    for profile in args.profiles.split(","):
        size = int(args.mb * (1 << 20)) if profile == "fast" else args.uart_kb * 1024
        bench_profile(profile, args.rounds, size)


if __name__ == "__main__":
    main()
