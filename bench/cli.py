"""The CLI's start-up: whole `mptui` processes beside mpytool's and mpremote's, on one bridge.

    python bench/cli.py [--rounds 7]

One `mptui bridge` (fast link, a fresh virtual board) serves every tool in the same run, tools
alternating inside each round; each figure is the median wall time (and CPU time: user + system
of the process) of one whole process as a user runs it, from the .venv's console scripts:
`--version` (no board), `exec x=1`, `eval 1+1` (mpytool has none) and `ls`. The ratios are
mptui's time over the peer's (<= 1: mptui is as fast or faster). `python -c pass` is the floor
every tool stands on: the interpreter's own start, with the .venv's site (an editable install of
mptui adds its import finder, ~8 ms, to every process of that .venv, peers included; a regular
install has none). mptui's .pyc files are written first, as an install writes them (with
PYTHONDONTWRITEBYTECODE set, every run would compile mptui from source). Then what
`mptui --version` and `mptui exec` import (`python -X importtime`): the ten costliest top-level
imports.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _venv  # noqa: F401  (started with another Python: runs again in the .venv)
from engine import start_bridge

BIN = Path(sys.executable).parent
CASES = ("--version", "exec", "eval", "ls")


def argv(tool: str, case: str, url: str) -> list[str] | None:
    host = url.removeprefix("socket://")
    return {
        "mptui": {"--version": ["--version"], "exec": ["-d", url, "exec", "x=1"],
                  "eval": ["-d", url, "eval", "1+1"], "ls": ["-d", url, "ls"]},
        "mpytool": {"--version": ["-V"], "exec": ["-a", host, "exec", "x=1"],
                    "ls": ["-a", host, "ls"]},
        "mpremote": {"--version": ["version"], "exec": ["connect", url, "exec", "x=1"],
                     "eval": ["connect", url, "eval", "1+1"],
                     "ls": ["connect", url, "fs", "ls"]},
    }[tool].get(case)


def run(command: list[str], env: dict) -> tuple[float, float] | None:
    """(wall, CPU) seconds of one whole process, or None when it failed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=env, check=False, timeout=120)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        print(f"  {' '.join(command)}: failed: {done.stderr.decode(errors='replace')[-200:]}",
              file=sys.stderr)
        return None
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def imports(command: list[str], env: dict) -> list[tuple[float, str]]:
    """The costliest top-level imports of a run, (ms, module), by `-X importtime`."""
    done = subprocess.run([sys.executable, "-X", "importtime", *command], capture_output=True,
                          text=True, env=env, check=False)
    out = []
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)", line)  # top level: one space
        if m:
            out.append((int(m.group(1)) / 1000, m.group(2)))
    return sorted(out, reverse=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "board").mkdir()
        env = dict(os.environ, MPTUI_DATA_DIR=str(root / "data"),
                   MPTUI_CONFIG=str(root / "config.toml"))
        proc, url = start_bridge(root / "board")
        times: dict[tuple[str, str], list[tuple[float, float]]] = {}
        try:
            for _ in range(args.rounds):
                got = run([sys.executable, "-c", "pass"], env)
                if got:
                    times.setdefault(("python", "-c pass"), []).append(got)
                for case in CASES:
                    for tool in ("mptui", "mpytool", "mpremote"):
                        command = argv(tool, case, url)
                        if command is None:
                            continue
                        got = run([str(BIN / tool), *command], env)
                        if got:
                            times.setdefault((tool, case), []).append(got)
            exec_imports = imports(["-m", "mptui", "-d", url, "exec", "x=1"], env)
        finally:
            proc.terminate()
            proc.wait(10)
        version_imports = imports(["-m", "mptui", "--version"], env)

    def med(tool: str, case: str, which: int) -> float:
        values = [t[which] for t in times.get((tool, case), [])]
        return statistics.median(values) if values else float("nan")

    print(f"mptui CLI start-up: {args.rounds} rounds, medians, whole processes, one bridge "
          f"({url}, fast link)")
    for which, title in ((0, "wall"), (1, "CPU (user+sys)")):
        print(f"\n{title:16}{'mptui':>10}{'mpytool':>10}{'mpremote':>10}"
              f"{'/mpytool':>10}{'/mpremote':>10}")
        for case in CASES:
            mine, a, b = (med(t, case, which) for t in ("mptui", "mpytool", "mpremote"))
            print(f"{case:16}{mine * 1000:8.1f}ms{a * 1000:8.1f}ms{b * 1000:8.1f}ms"
                  f"{mine / a:10.2f}{mine / b:10.2f}")
        print(f"{'python -c pass':16}{med('python', '-c pass', which) * 1000:8.1f}ms  (the floor)")
    for title, found in (("mptui --version", version_imports), ("mptui exec", exec_imports)):
        total = sum(ms for ms, _ in found)
        print(f"\nimports of `{title}`: {total:.1f} ms in all (-X importtime, top level)")
        for ms, name in found[:10]:
            print(f"  {ms:7.1f} ms  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
