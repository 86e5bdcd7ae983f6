"""Interoperability: tools nobody on the project wrote drive the real `mptui bridge` command.

One bridge process per test module (its board lives across the module's tests, as a board
does across clients); every port on, WebREPL with PASSWORD. Tests check bytes: what lands in
the board's folder, what comes back, never just an exit code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from helpers import free_port
from peers import PASSWORD, Served, wait_for_line


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`mptui bridge` serving a virtual board whose / is a fresh folder."""
    home = tmp_path_factory.mktemp("interop")
    root = home / "board"
    root.mkdir()
    served = Served(root, free_port(), free_port(), free_port())
    env = {
        **os.environ,
        "MPTUI_DATA_DIR": str(home / "data"),
        "MPTUI_CONFIG": str(home / "config.toml"),
        "MPTUI_WEBREPL_PASSWORD": PASSWORD,
    }
    argv = [
        sys.executable, "-m", "mptui", "bridge", "--root", str(root),
        "-p", str(served.rfc2217_port), "-s", str(served.socket_port),
        "--webrepl-port", str(served.webrepl_port),
    ]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_line(proc, b"Ctrl-C stops it.")
        yield served
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


