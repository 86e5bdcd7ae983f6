"""The command line around wireless boards: `mptui webrepl-serve`, the global --password, the
config's password references, and configured WebREPL boards as a discovery source."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from types import SimpleNamespace

import pytest

from mptui.cli import build_parser
from mptui.commands.common import run_on_board
from mptui.config import load_config
from mptui.services.discovery import webrepl_boards

PW = "cli-pw-42"


@pytest.fixture
def served(tmp_path, monkeypatch):
    """`mptui webrepl-serve` in its own process; yields (url, board folder, process)."""
    monkeypatch.setenv("MPTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MPTUI_WEBREPL_PASSWORD", raising=False)
    root = tmp_path / "board"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mptui",
            "--password",
            PW,
            "webrepl-serve",
            "-p",
            "0",
            "--root",
            str(root),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    match = re.search(r"ws://127\.0\.0\.1:\d+", line)
    assert match, line + proc.stderr.read()
    yield match.group(0), root, proc
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
    args = build_parser().parse_args(["--password", "x", "-d", "ws://h", "webrepl-serve"])
    assert (args.password, args.device) == ("x", "ws://h")
    args = build_parser().parse_args(["webrepl-serve", "--password", "y"])
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
    bad = SimpleNamespace(device="kitchen", password="wrong")
    assert run_on_board(bad, work) == 1
    err = capsys.readouterr().err
    assert "Access denied" in err and err.count("\n") == 1

    proc.send_signal(signal.SIGINT)
    out, server_err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert PW not in out + server_err + err


def test_serve_refuses_bad_passwords(tmp_path, monkeypatch):
    monkeypatch.delenv("MPTUI_WEBREPL_PASSWORD", raising=False)
    for extra in ([], ["--password", "much-too-long"]):
        proc = subprocess.run(
            [sys.executable, "-m", "mptui", "webrepl-serve", "-p", "0", *extra],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert proc.returncode == 2
        assert (
            proc.stderr.startswith("mptui webrepl-serve: error:") and proc.stderr.count("\n") == 1
        )
        assert "much-too-long" not in proc.stderr
