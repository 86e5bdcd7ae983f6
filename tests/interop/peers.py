"""Helpers for the interoperability tests: the served bridge, the peers' command lines."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

PASSWORD = "pw-9chars"
START_TIMEOUT = 30  # seconds; only to turn a hang into a failure
TOOL_TIMEOUT = 120


@dataclass
class Served:
    root: Path  # the board's /
    socket_port: int
    rfc2217_port: int
    webrepl_port: int

    @property
    def socket_url(self) -> str:
        return f"socket://127.0.0.1:{self.socket_port}"

    @property
    def rfc2217_url(self) -> str:
        return f"rfc2217://127.0.0.1:{self.rfc2217_port}"


def wait_for_line(proc: subprocess.Popen, marker: bytes) -> None:
    """Read the bridge's output until it says it serves (it listens by then); a thread
    goes on reading it so that the pipe never fills."""
    seen = bytearray()
    found = threading.Event()

    def drain() -> None:
        while chunk := os.read(proc.stdout.fileno(), 4096):
            seen.extend(chunk)
            if marker in seen:
                found.set()
        found.set()

    threading.Thread(target=drain, daemon=True).start()
    if not found.wait(START_TIMEOUT) or marker not in seen:
        pytest.fail(f"mptui bridge did not start: {bytes(seen).decode(errors='replace')}")


MPREMOTE = [sys.executable, "-m", "mpremote"]
MPYTOOL = [sys.executable, "-c", "import sys; from mpytool.mpytool import main; sys.exit(main())"]


def run_tool(tool: list[str], *args: str) -> subprocess.CompletedProcess:
    """A peer's command line (MPREMOTE, MPYTOOL) run by this interpreter; output as bytes."""
    proc = subprocess.run(
        [*tool, *args], capture_output=True, timeout=TOOL_TIMEOUT, check=False
    )
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} exited {proc.returncode}\n"
            f"stdout: {proc.stdout!r}\nstderr: {proc.stderr!r}"
        )
    return proc
