"""Soak: power cuts at random points of OTA transfers and commits (200 by default).

    python bench/ota_soak.py [--trials 200] [--seed 1]

Each trial pushes the other of two releases (62 and 72 files; some changed, added, dropped) to a
virtual board running the real agent and cuts its power during the transfer (half the trials)
or the commit (the other half). After the restart the board must run exactly one of the two
releases, complete, and its app must see only modules of its own version. Prints the outcomes.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import sys
import tempfile
import time
from pathlib import Path

import _venv  # noqa: F401  (started with another Python: runs again in the .venv)

sys.path[:0] = [str(Path(__file__).resolve().parent.parent / "tests" / d) for d in ("ota", "")]
from agentboards import KEY, PASSWORD, app_files, cut_trial, make_project, start_board

from mptui.services.ota import push
from mptui.services.ota.project import Secrets


async def soak(trials: int, seed: int) -> int:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="mptui-soak-") as tmp:
        tmp = Path(tmp)
        secrets = Secrets(tmp / "s.toml", password=PASSWORD, signing_key=KEY)
        board = await start_board(tmp / "board", secrets)
        try:
            a = make_project(tmp, "1.0", app_files("1.0", extra=30), secrets)
            b = make_project(tmp, "2.0", app_files("2.0", extra=40, drop=True), secrets)
            assert (await push(board.address, a)).ok
            await board.wait_run("1.0")
            await board.wait_for(lambda: board.state().get("good"), what="settled")
            current, other = a, b
            counts: collections.Counter = collections.Counter()
            t0 = time.monotonic()
            for i in range(trials):
                phase = "transfer" if i % 2 == 0 else "commit"
                trial = await cut_trial(board, current, other, phase, rng)
                counts[(phase, trial.outcome, trial.finished_at_boot)] += 1
                if trial.outcome == "new":
                    current, other = other, current
                if (i + 1) % 20 == 0:
                    print(f"  {i + 1} trials, {time.monotonic() - t0:.0f} s", file=sys.stderr)
        finally:
            await board.session.close()
    print(f"{trials} power cuts, every one followed by a complete old or new release:")
    for (phase, outcome, finished), n in sorted(counts.items()):
        how = ", commit finished at boot from the journal" if finished else ""
        print(f"  cut during {phase:8}: {n:4d} x came back on the {outcome} release{how}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    return asyncio.run(soak(args.trials, args.seed))


if __name__ == "__main__":
    sys.exit(main())
