"""Benchmarks run in the project's virtualenv. Started with another Python (`python
bench/tui.py` with the system's python3, where mptui is not installed), a benchmark starts
again with the .venv's python that the README's quick start makes; without one it says so."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def _ready() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("mptui", "textual"))


if not _ready():
    if VENV_PYTHON.exists() and not os.environ.get("MPTUI_BENCH_RESTARTED"):
        os.environ["MPTUI_BENCH_RESTARTED"] = "1"
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), *sys.argv])
    sys.exit(f"{sys.argv[0]}: mptui is not installed for {sys.executable}; make the project's "
             "virtualenv first (see the README's quick start), then run "
             f".venv/bin/python {sys.argv[0]}")
