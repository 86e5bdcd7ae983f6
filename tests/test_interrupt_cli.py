"""Ctrl-C during a long command: the real `mptui` process gets SIGINT while the board works
for it; it stops what the board runs, says so in one line, and leaves the board at its REPL."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

from helpers import EXPECT_TIMEOUT, run_cli

from mptui.board.fs import TMP_SUFFIX


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mptui", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def interrupt(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err.decode()


def at_friendly_prompt(port: int) -> bytes:
    """Enter at the board's REPL (through the bridge) answers with a prompt: nothing runs."""
    with socket.create_connection(("127.0.0.1", port), timeout=EXPECT_TIMEOUT) as s:
        s.sendall(b"\r")
        seen = b""
        deadline = time.monotonic() + EXPECT_TIMEOUT
        while not seen.endswith(b">>> ") and time.monotonic() < deadline:
            seen += s.recv(100)
        return seen


def test_ctrl_c_stops_the_program_and_says_so(bridge):
    url = bridge.socket_url
    proc = start("-d", url, "exec", "x = 'kept'\nprint('started')\nwhile True: pass")
    assert proc.stdout.readline() == b"started\r\n"  # the board runs the loop now
    code, err = interrupt(proc)
    assert code == 130
    assert err == ("mptui: interrupted: the board's program was stopped (KeyboardInterrupt); "
                   "the board is at its REPL\n")
    bridge.wait_idle()
    assert at_friendly_prompt(bridge.bridge.socket_port).endswith(b">>> ")
    done = run_cli("-d", url, "eval", "x")  # the same interpreter: stopped, not reset
    assert (done.returncode, done.stdout) == (0, b"kept\r\n")


def test_ctrl_c_during_a_long_copy_leaves_no_partial_file(bridge, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * (48 * 1024))  # 12 MB: seconds to copy
    url = bridge.socket_url
    proc = start("-d", url, "cp", str(big), ":big.bin")
    partial = bridge.root / ("big.bin" + TMP_SUFFIX)
    deadline = time.monotonic() + 60
    while not partial.exists():  # the copy has begun on the board
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.01)  # polling: the deadline above ends it
    code, err = interrupt(proc)
    assert code == 130
    assert err == ("mptui: interrupted: cp was stopped; files are written whole or not at all; "
                   "the board is at its REPL\n")
    assert not (bridge.root / "big.bin").exists()
    bridge.wait_idle()
    done = run_cli("-d", url, "eval", "6*7")
    assert (done.returncode, done.stdout) == (0, b"42\r\n")
