"""`mptui bridge` as a user runs it: its help, its one-line errors, and a whole session from
start to SIGTERM / Ctrl-C with the real mpremote."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from helpers import free_port, runtime_processes

from mptui.cli import build_parser

MPTUI = [sys.executable, "-m", "mptui"]
OPTIONS = [
    "-p",
    "--port",
    "-s",
    "--socket-port",
    "--webrepl-port",
    "--password",
    "-H",
    "--host",
    "-v",
    "--verbose",
    "--root",
    "--name",
    "-O",
    "-X",
    "--micropython",
    "--link",
    "--heap",
    "--fs",
    "--serial",
    "--baud",
]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*MPTUI, "bridge", *args], check=False, capture_output=True, text=True, timeout=30
    )


def test_help_documents_every_option():
    proc = run_cli("--help")
    assert proc.returncode == 0
    words = proc.stdout.replace(",", " ").split()
    for option in OPTIONS:
        assert option in words, option
    bridge_parser = build_parser()._subparsers._group_actions[0].choices["bridge"]
    for action in bridge_parser._actions:
        for option in action.option_strings:
            assert option in words, f"{option} is not in --help"
        assert action.help, f"{action.option_strings} has no help text"


@pytest.mark.parametrize(
    "args",
    [
        ["--port", "abc"],
        ["--port", "70000"],
        ["-s", "-1"],
        ["--bogus"],
        ["-O", "9"],
        ["--baud", "fast"],
        ["-p", "0", "-s", "0"],
        ["--serial", "/dev/ttyACM0", "--root", "/tmp"],
        ["--webrepl-port", "8266"],  # no password
        ["--webrepl-port", "8266", "--password", "s3cret", "--serial", "/dev/ttyACM0"],
    ],
)
def test_bad_options_give_one_line_and_exit_2(args):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "error:" in proc.stderr
    assert proc.stdout == ""


def _assert_one_line_error(proc: subprocess.CompletedProcess, *words: str) -> None:
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in proc.stderr


def test_port_in_use_is_one_line_and_exit_1(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        proc = run_cli("-p", port, "-s", "0", "--root", str(tmp_path))
    _assert_one_line_error(proc, "address already in use", port)


def test_no_runtime_is_one_line_and_exit_1(tmp_path):
    proc = run_cli(
        "--micropython",
        str(tmp_path / "no-such-micropython"),
        "-p",
        "0",
        "-s",
        str(free_port()),
        "--root",
        str(tmp_path),
    )
    _assert_one_line_error(proc, "micropython")


def test_missing_serial_port_is_one_line_and_exit_1(tmp_path):
    proc = run_cli("--serial", str(tmp_path / "ttyACM9"), "-p", "0", "-s", str(free_port()))
    _assert_one_line_error(proc, "ttyACM9")


class BridgeProcess:
    """`mptui bridge` as a subprocess; its stdout and stderr go to files (never a full pipe)."""

    def __init__(self, tmp_path, *args: str) -> None:
        self.out = tmp_path / "bridge.out"
        self.err = tmp_path / "bridge.err"
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen([*MPTUI, "bridge", *args], stdout=out, stderr=err)

    def wait_for(self, text: str, file: str = "out", timeout: float = 20) -> str:
        path = self.out if file == "out" else self.err
        deadline = time.monotonic() + timeout
        while text not in (content := path.read_text()):
            if self.proc.poll() is not None:
                pytest.fail(f"mptui bridge exited {self.proc.returncode}: {self.err.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} from mptui bridge in {content!r}")
            time.sleep(0.02)  # polling: the deadline above ends it
        return content

    def stop(self, sig: int) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=10)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_end_to_end_with_mpremote_then_stopped_with_no_process_left(sig, tmp_path, mpremote):
    root = tmp_path / "board"
    rfc_port, socket_port = free_port(), free_port()
    bridge = BridgeProcess(
        tmp_path,
        "-p",
        str(rfc_port),
        "-s",
        str(socket_port),
        "--root",
        str(root),
        "-X",
        "heapsize=4m",
        "--fs",
        "64k",
        "-vv",
    )
    try:
        banner = bridge.wait_for("Ctrl-C stops it.")
        socket_url = f"socket://127.0.0.1:{socket_port}"
        rfc2217_url = f"rfc2217://127.0.0.1:{rfc_port}"
        assert f"mpremote connect {socket_url}" in banner
        assert f"mpremote connect {rfc2217_url}" in banner and "a 64 KB filesystem" in banner
        for url in (socket_url, rfc2217_url):
            heap = mpremote(url, "exec", "import gc; print(gc.mem_free() + gc.mem_alloc())")
            assert int(heap.stdout) > 3 * 1024 * 1024  # -X heapsize=4m reached the runtime
        mpremote(socket_url, "exec", "open('/x.txt', 'w').write('hi')")
        assert (root / "x.txt").read_text() == "hi"
        full = mpremote(socket_url, "exec", "open('/y', 'wb').write(bytes(60000))", check=False)
        assert "OSError: 28" in full.stdout  # --fs 64k: full (ENOSPC)
        assert runtime_processes(root)
        assert bridge.stop(sig) == 0
    finally:
        bridge.kill()
    assert runtime_processes(root) == []
    log = bridge.err.read_text()
    assert "connected on the socket port" in log and "connected on the rfc2217 port" in log
    assert "client -> board" in log  # -vv: traffic


def test_binding_beyond_loopback_warns_loudly(tmp_path, mpremote):
    socket_port = free_port()
    bridge = BridgeProcess(
        tmp_path,
        "-H",
        "0.0.0.0",
        "-p",
        "0",
        "-s",
        str(socket_port),
        "--root",
        str(tmp_path / "board"),
    )
    try:
        warning = bridge.wait_for("can run code on the board", file="err")
        assert "WARNING" in warning and "0.0.0.0" in warning
        banner = bridge.wait_for("Ctrl-C stops it.")
        assert f"mpremote connect socket://127.0.0.1:{socket_port}" in banner
        assert mpremote(f"socket://127.0.0.1:{socket_port}", "eval", "1+1").stdout.strip() == "2"
        assert bridge.stop(signal.SIGTERM) == 0
    finally:
        bridge.kill()


def test_loopback_does_not_warn(tmp_path):
    bridge = BridgeProcess(
        tmp_path, "-p", "0", "-s", str(free_port()), "--root", str(tmp_path / "board")
    )
    try:
        bridge.wait_for("Ctrl-C stops it.")
        assert bridge.stop(signal.SIGTERM) == 0
    finally:
        bridge.kill()
    assert "WARNING" not in bridge.err.read_text()


def test_webrepl_port_with_the_others_and_the_password_never_shown(tmp_path, mpremote):
    password = "wr-pw-77"
    ports = [free_port() for _ in range(3)]
    bridge = BridgeProcess(
        tmp_path,
        "-p",
        str(ports[0]),
        "-s",
        str(ports[1]),
        "--webrepl-port",
        str(ports[2]),
        "--password",
        password,
        "--root",
        str(tmp_path / "board"),
        "-vv",
    )
    ws_url = f"ws://127.0.0.1:{ports[2]}"
    try:
        banner = bridge.wait_for("Ctrl-C stops it.")
        assert f"mptui -d {ws_url}" in banner
        with_pw = {**os.environ, "MPTUI_WEBREPL_PASSWORD": password}
        exec_ws = subprocess.run(
            [*MPTUI, "-d", ws_url, "exec", "x = 6 * 7; print(x)"],
            capture_output=True,
            text=True,
            timeout=30,
            env=with_pw,
            check=False,
        )
        assert (exec_ws.returncode, exec_ws.stdout) == (0, "42\n"), exec_ws.stderr
        # the board persists across clients and protocols
        assert mpremote(f"socket://127.0.0.1:{ports[1]}", "resume", "eval", "x").stdout == "42\n"
        assert bridge.stop(signal.SIGTERM) == 0
    finally:
        bridge.kill()
    log = bridge.err.read_text()
    assert "connected on the webrepl port" in log and "logged in" in log
    assert "client -> board" in log  # -vv: traffic, the password not among it
    seen = banner + log + exec_ws.stdout + exec_ws.stderr
    assert password not in seen and password.encode().hex(" ") not in seen
