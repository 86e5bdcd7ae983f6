"""The command line around wireless boards: `mptui bridge --webrepl-port`, the global
--password, the config's password references, and configured WebREPL boards as a discovery
source."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
from types import SimpleNamespace

import pytest
from helpers import free_port, run_cli

from mptui.board import BoardAccessDenied
from mptui.cli import build_parser
from mptui.commands.common import failed, run_on_board
from mptui.config import load_config
from mptui.services.discovery import webrepl_boards

PW = "cli-pw-42"


@pytest.fixture
def served(tmp_path, monkeypatch):
    """`mptui bridge` serving WebREPL only, in its own process; yields (url, board folder,
    process)."""
    monkeypatch.setenv("MPTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MPTUI_WEBREPL_PASSWORD", raising=False)
    root = tmp_path / "board"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mptui",
            "--password",  # the global option reaches the bridge
            PW,
            "bridge",
            "-p",
            "0",
            "-s",
            "0",
            "--webrepl-port",
            str(free_port()),
            "--root",
            str(root),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    banner = ""
    while "Ctrl-C stops it." not in banner and proc.poll() is None:
        banner += proc.stdout.readline()
    match = re.search(r"mptui -d (ws://127\.0\.0\.1:\d+)", banner)
    assert match, banner + proc.stderr.read()
    assert PW not in banner
    yield match.group(1), root, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    proc.wait(timeout=20)


def _config(tmp_path, monkeypatch, address: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[boards.kitchen]\naddress = "{address}"\npassword = "env:KITCHEN_PW"\n'
        '[boards.desk]\naddress = "virtual:desk"\n'
    )
    monkeypatch.setenv("MPTUI_CONFIG", str(path))


def test_password_is_a_global_option():
    args = build_parser().parse_args(["--password", "x", "-d", "ws://h", "bridge"])
    assert (args.password, args.device) == ("x", "ws://h")
    args = build_parser().parse_args(["bridge", "--password", "y"])
    assert args.password == "y"  # after the command, too


def test_configured_webrepl_boards(tmp_path, monkeypatch):
    _config(tmp_path, monkeypatch, "ws://192.168.1.40")
    boards = webrepl_boards(load_config())
    assert [(b.name, b.address, b.has_password) for b in boards] == [
        ("kitchen", "ws://192.168.1.40", True)
    ]


def test_board_commands_over_webrepl_with_the_config_password(
    served, tmp_path, monkeypatch, capsys
):
    url, root, proc = served
    _config(tmp_path, monkeypatch, url)
    monkeypatch.setenv("KITCHEN_PW", PW)
    data = os.urandom(20_000)

    async def work(session):
        await session.fs.write("/cli.bin", data)
        assert await session.fs.read("/cli.bin") == data
        print((await session.exec("print('via', 'webrepl')")).decode(), end="")

    for device in ("kitchen", url):  # by config name, and by address (same entry)
        assert run_on_board(SimpleNamespace(device=device, password=None), work) == 0
    assert (root / "cli.bin").read_bytes() == data
    assert capsys.readouterr().out == "via webrepl\r\n" * 2

    # --password beats the config; a wrong one is a board error with a one-line message
    bad = SimpleNamespace(device="kitchen", password="wrong", command="exec")
    with pytest.raises(BoardAccessDenied) as denied:
        run_on_board(bad, work)
    assert failed(denied.value) == 1
    err = capsys.readouterr().err
    assert "Access denied" in err and err.count("\n") == 1

    proc.send_signal(signal.SIGINT)
    out, server_err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert PW not in out + server_err + err


def test_bridge_refuses_bad_webrepl_options(tmp_path, monkeypatch):
    monkeypatch.delenv("MPTUI_WEBREPL_PASSWORD", raising=False)
    webrepl = ["--webrepl-port", str(free_port())]
    for extra in (
        webrepl,  # no password at all
        [*webrepl, "--password", "much-too-long"],
        [*webrepl, "--password", PW, "--serial", str(tmp_path / "ttyACM0")],
        ["--webrepl-port", "70000", "--password", PW],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "mptui", "bridge", "-p", "0", "-s", "0", *extra],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("mptui bridge: error:") and proc.stderr.count("\n") == 1
        assert "much-too-long" not in proc.stderr and PW not in proc.stderr


def test_every_file_command_over_webrepl(served, tmp_path):
    url, root, proc = served
    outputs = []

    def ok(*args, password=True):
        pw = ("--password", PW) if password else ()
        env = None if password else {"MPTUI_WEBREPL_PASSWORD": PW}
        r = run_cli("-d", url, *pw, *args, env=env)
        outputs.append(r.stdout + r.stderr)
        assert r.returncode == 0, (r.stdout, r.stderr)
        return r

    data = os.urandom(100_000)
    src = tmp_path / "up.bin"
    src.write_bytes(data)
    assert ok("exec", "print('hi'); print(6*7)").stdout == b"hi\r\n42\r\n"
    assert ok("eval", "1+2", password=False).stdout == b"3\r\n"
    ok("mkdir", "-p", ":lib/deep")
    ok("cp", str(src), ":lib/up.bin")
    assert (root / "lib" / "up.bin").read_bytes() == data
    ok("cp", ":lib/up.bin", str(tmp_path / "down.bin"))
    assert (tmp_path / "down.bin").read_bytes() == data
    assert ok("cat", ":lib/up.bin").stdout == data
    assert ok("ls", "-l", ":lib").stdout.decode().split() == ["deep/", "100000", "up.bin"]
    digest = hashlib.sha256(data).hexdigest()
    assert ok("sha256sum", ":lib/up.bin").stdout.decode().split() == [digest, ":lib/up.bin"]
    assert ok("df").stdout.decode().splitlines()[1].startswith("/")
    ok("touch", ":lib/t.txt")
    ok("rm", "-r", ":lib")
    assert list(root.iterdir()) == []
    bad = run_cli("-d", url, "--password", "nope", "ls")
    assert bad.returncode == 1 and b"Access denied" in bad.stderr
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert all(PW.encode() not in o for o in outputs + [bad.stderr, out.encode(), err.encode()])


def test_devices_lists_configured_webrepl_boards_and_scans_ble(tmp_path, monkeypatch):
    _config(tmp_path, monkeypatch, "ws://192.168.1.40")
    r = run_cli("devices", "--webrepl")
    assert r.returncode == 0
    assert b"ws://192.168.1.40 kitchen webrepl\n" in r.stdout
    r = run_cli("devices", "--ble", "0.2")  # this machine has no Bluetooth: one clear line
    if r.returncode:
        assert (
            r.stderr.startswith(b"mptui: Bluetooth is not available") and r.stderr.count(b"\n") == 1
        )
