"""The command line as a new user meets it with mpremote habits (issue 21): help that keeps its
usage lines, errors that point at the right help, and a word where there was silence."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time

import pytest
from helpers import run_cli


def test_help_keeps_the_usage_lines():
    for command, lines in (
        ("ota", [("  mptui ota init                     mptui.toml [ota], a release folder, "
                 "a secrets file"),
                 "  mptui ota rollback -d ADDR"]),
        ("config", ['  mptui config check    read it: "ok", or the one-line error (exit status 1)',
                    ("  mptui config path     print the config file's path ($MPTUI_CONFIG "
                    "overrides it)")]),
    ):
        r = run_cli(command, "--help")
        assert r.returncode == 0
        shown = r.stdout.decode().splitlines()
        for line in lines:
            assert line in shown, f"{command} --help lost the line {line!r}"
    # prose is still filled to the width (not one description line 300 columns long)
    r = run_cli("sync", "--help", env={"COLUMNS": "80"})
    assert max(len(line) for line in r.stdout.decode().splitlines()) <= 80


@pytest.mark.parametrize("argv, helped", [
    (["ls", "-z"], "mptui ls --help"),
    (["ota", "push", "-z"], "mptui ota push --help"),
    (["-z"], "mptui --help"),
    (["cp", "--bogus", "a", ":"], "mptui cp --help"),
])
def test_an_unknown_option_points_at_the_help_of_its_command(isolated_env, argv, helped):
    r = run_cli(*argv)
    assert r.returncode == 2
    assert r.stderr.decode().strip().endswith(f"(try '{helped}')"), r.stderr


def test_devices_says_when_it_finds_nothing(isolated_env):
    r = run_cli("devices", "--webrepl")
    assert r.returncode == 0
    if r.stdout.strip():
        pytest.skip("this machine has a USB board")
    assert r.stderr.decode().splitlines() == [
        ("mptui: no board found on USB ports, in the config (WebREPL); `mptui -d virtual` needs "
        "no hardware")]
    r = run_cli("devices")
    assert r.stderr.decode().startswith("mptui: no board found on USB ports (--webrepl, --ble "
                                        "and --network look further)")


def test_cp_says_what_it_did_both_times(isolated_env, tmp_path):
    src = tmp_path / "main.py"
    src.write_text("print('hi')\n")
    first = run_cli("-d", "virtual", "cp", str(src), ":")
    assert first.returncode == 0, first.stderr
    assert first.stderr.decode().splitlines()[-1] == "1 copied, 0 unchanged"
    assert (isolated_env / "data" / "boards" / "default" / "main.py").read_bytes() == \
        src.read_bytes()
    again = run_cli("-d", "virtual", "cp", str(src), ":")
    assert again.stderr.decode().splitlines()[-1] == "0 copied, 1 unchanged"


def test_repl_on_a_bridge_shows_the_prompt_with_no_key_pressed(isolated_env, bridge):
    """The board behind a bridge runs already and says nothing when a client comes."""
    proc = subprocess.Popen([sys.executable, "-m", "mptui", "-d", bridge.socket_url, "repl"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        out = b""
        deadline = time.monotonic() + 30
        while not out.endswith(b">>> "):  # no key sent: stdin stays open and silent
            assert time.monotonic() < deadline, f"no prompt: {out!r}"
            if select.select([proc.stdout], [], [], 1.0)[0]:
                out += os.read(proc.stdout.fileno(), 4096)
    finally:
        proc.stdin.close()  # end of input: the REPL leaves
        proc.wait(30)
    assert proc.returncode == 0
