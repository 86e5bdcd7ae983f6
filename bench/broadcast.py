"""One program on 1 board against the same program on N virtual boards at once (issue 13's
target: 10 boards within 1.5x of one).

    python bench/broadcast.py [--boards 10] [--rounds 3] [--sleep 0.3]

Two programs: one that spends `--sleep` seconds on the board (as a real board's work runs on
its own CPU) and prints a few lines, and a bare `print(1)` (the overhead alone: connecting and
the raw REPL). Each is measured two ways, medians over rounds: in-process (the broadcast
service over a DeviceManager, connections included) and as a user runs it (the whole
`mptui exec -d ... -d ...` process). The virtual boards are MicroPython processes sharing this
machine's cores, which real boards do not: CPU-bound programs would not scale here.
Every board's output is checked.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _venv  # noqa: F401 - the project's virtualenv

from mptui.config import load_config
from mptui.services.broadcast import broadcast, exit_status
from mptui.services.manager import DeviceManager


def programs(sleep: float) -> dict[str, str]:
    return {
        f"sleep {sleep} s": f"import time\nfor i in range(3):\n print(i)\n time.sleep({sleep / 3})\n",
        "print(1)": "print(1)",
    }


async def in_process(root: Path, names: list[str], source: str) -> float:
    manager = DeviceManager(load_config(), usb=False, ble=False, network=False, virtual=False,
                            virtual_root=root)
    keys = [manager.add(f"virtual:{n}").key for n in names]
    try:
        start = time.perf_counter()
        runs = await broadcast(manager, keys, source)
        took = time.perf_counter() - start
    finally:
        await manager.stop()
    assert exit_status(runs) == 0, [run.summary for run in runs]
    assert all(run.output for run in runs)
    return took


def whole_process(env: dict, names: list[str], source: str) -> float:
    devices = [arg for n in names for arg in ("-d", f"virtual:{n}")]
    argv = [sys.executable, "-m", "mptui", "exec", *devices, source]
    start = time.perf_counter()
    r = subprocess.run(argv, env=env, capture_output=True, timeout=300, check=False)
    took = time.perf_counter() - start
    assert r.returncode == 0, r.stderr.decode()
    lines = r.stdout.decode().splitlines()
    assert {line.split("]")[0] + "]" for line in lines} == {f"[virtual:{n}]" for n in names} \
        or len(names) == 1, lines
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boards", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sleep", type=float, default=0.3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mptui-bench-") as tmp:
        base = Path(tmp)
        env = dict(os.environ, MPTUI_DATA_DIR=str(base / "data"),
                   MPTUI_CONFIG=str(base / "config.toml"), MPTUI_STATE_DIR=str(base / "state"),
                   HOME=str(base))
        os.environ.update(env)  # the in-process runs too: no config or data of the user's
        root = base / "data" / "boards"
        many = [f"b{i}" for i in range(args.boards)]
        print(f"{os.cpu_count()} cores; medians of {args.rounds} rounds")
        print(f"{'program':<14} {'how':<14} {'1 board':>9} {f'{args.boards} boards':>10} "
              f"{'ratio':>6}")
        for label, source in programs(args.sleep).items():
            for how in ("in-process", "mptui exec"):
                one, all_ = [], []
                for _ in range(args.rounds):
                    if how == "in-process":
                        one.append(asyncio.run(in_process(root, many[:1], source)))
                        all_.append(asyncio.run(in_process(root, many, source)))
                    else:
                        one.append(whole_process(env, many[:1], source))
                        all_.append(whole_process(env, many, source))
                a, b = statistics.median(one), statistics.median(all_)
                print(f"{label:<14} {how:<14} {a:>8.2f}s {b:>9.2f}s {b / a:>5.2f}x")


if __name__ == "__main__":
    main()
