"""The house style holds: ruff finds nothing (its version is pinned in the dev extra)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    r = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "mptui", "tests", "bench"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_nothing_blocks_the_event_loop():
    """ruff's ASYNC rules (blocking calls in async code: subprocesses, sleeps, files, paths)
    find nothing in the package."""
    r = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "ASYNC", "mptui"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
