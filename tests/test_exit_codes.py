"""What a new user met, settled: one table of exit codes (the README's, held to mptui.errors);
a board program's sys.exit(N) is the exit status; a closed pipe ends quietly and stops the
board's program; a bridge's refusal is told as the bridge said it; usage errors are 2;
the default board is said once, where it is news; an unexpected error is one line naming the
log, which has the traceback."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import run_cli

from mptui import errors

ROOT = Path(__file__).resolve().parents[1]
MPTUI = [sys.executable, "-m", "mptui"]


@pytest.fixture
def root(isolated_env):
    """The `/` of the default virtual board the CLI uses."""
    path = isolated_env / "data" / "boards" / "default"
    path.mkdir(parents=True)
    return path


def test_the_readme_has_the_one_table_of_exit_codes():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Exit status", 1)[1].split("\n##", 1)[0]
    codes = re.findall(r"^\| (\d+|N) \|", section, re.MULTILINE)
    assert codes == ["0", "1", "2", "N", "130", "141"]
    assert (errors.OK, errors.ERROR, errors.USAGE, errors.INTERRUPTED,
            errors.BROKEN_PIPE) == (0, 1, 2, 130, 141)


def test_a_board_programs_exit_status_is_the_commands(root, tmp_path):
    r = run_cli("-d", "virtual", "exec", "import sys; print('out'); sys.exit(3)")
    assert (r.returncode, r.stdout, r.stderr) == (3, b"out\r\n", b"")
    r = run_cli("-d", "virtual", "exec", "import sys; sys.exit()")
    assert (r.returncode, r.stderr) == (0, b"")
    r = run_cli("-d", "virtual", "exec", "raise SystemExit('why it stopped')")
    assert (r.returncode, r.stderr) == (1, b"why it stopped\n")
    prog = tmp_path / "prog.py"
    prog.write_text("import sys\nprint('ran')\nsys.exit(4)\n")
    r = run_cli("-d", "virtual", "run", str(prog))
    assert (r.returncode, r.stdout) == (4, b"ran\r\n")
    # other errors: the board's traceback as the program gave it (its own lines, <stdin>)
    r = run_cli("-d", "virtual", "exec", "x = 1\ndef f():\n    1/0\nf()")
    assert r.returncode == 1
    assert r.stderr.decode().splitlines() == [
        "Traceback (most recent call last):",
        '  File "<stdin>", line 4, in <module>',
        '  File "<stdin>", line 3, in f',
        "ZeroDivisionError: divide by zero",
    ]
    r = run_cli("-d", "virtual", "exec", "syntax error(")
    assert r.returncode == 1 and r.stderr.decode().splitlines()[-2:] == [
        '  File "<stdin>", line 1', "SyntaxError: invalid syntax"]


def test_a_closed_pipe_ends_quietly_and_stops_the_boards_program(bridge):
    """`mptui exec ... | head -2` against a board that lives on (a bridge): exit 141 with
    nothing on stderr, and the board at its REPL, its program stopped."""
    url = bridge.socket_url
    proc = subprocess.Popen([*MPTUI, "-d", url, "exec", ("i = 0\nwhile True:\n    print(i)\n"
                             "    i += 1\n")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = [proc.stdout.readline(), proc.stdout.readline()]
    proc.stdout.close()  # as head does after its lines
    assert head == [b"0\r\n", b"1\r\n"]
    assert proc.wait(timeout=60) == errors.BROKEN_PIPE
    assert proc.stderr.read() == b""
    bridge.wait_idle()
    host, port = url.removeprefix("socket://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(b"\r")  # at the REPL: a prompt; a program still printing would flood
        got, deadline = b"", time.monotonic() + 20  # only to turn a flood into a failure
        while not got.endswith(b">>> "):
            assert time.monotonic() < deadline, f"no prompt: {got[-200:]!r}"
            got += sock.recv(4096)
    assert not re.search(rb"^\d+\r$", got, re.MULTILINE), got
    r = run_cli("-d", url, "exec", "print('next', i > 1)")
    assert (r.returncode, r.stdout) == (0, b"next True\r\n"), r.stderr  # stopped, not reset


def test_a_busy_bridge_says_why(bridge):
    host, port = bridge.socket_url.removeprefix("socket://").rsplit(":", 1)
    with socket.create_connection((host, int(port))):  # the bridge's one client
        deadline = time.monotonic() + 10
        while bridge.bridge._client is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)  # polling: the deadline above ends it
        r = run_cli("-d", bridge.socket_url, "exec", "print(1)")
    assert r.returncode == 1
    assert r.stderr.decode().count("\n") == 1
    assert "Error: Device busy - another client is connected" in r.stderr.decode()


@pytest.mark.parametrize("args, said", [
    (("cp", "a"), "mptui: cp: give at least one source and a destination"),  # was 1
    (("-d", "virtual", "cp", "a", "b"), "mptui: cp: one side must be a board path (':' prefix)"),
    (("-d", "virtual", "cp", "--explain", ":a", "b"), "mptui: cp: --explain goes with --dry-run"),
    (("-d", "nonsense", "ls"), "mptui: unknown device address 'nonsense'; valid forms: "),
    (("ls", "--bogus"), "mptui ls: error: unrecognized arguments: --bogus"),
    (("logs", "-d", "tcp://nowhere:1"), "mptui: unknown device address 'tcp://nowhere:1'"),
    (("call", "-d", "virtual", "ping"),
     "mptui: virtual: calls go through the board's agent over the network"),
])
def test_usage_errors_exit_2_with_one_line(args, said):
    r = run_cli(*args)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count(b"\n") == 1 and r.stdout == b""
    assert r.stderr.decode().startswith(said), r.stderr


def test_the_default_board_is_said_once_where_it_is_news(root):
    r = run_cli("eval", "1")  # stderr is a pipe: a script, which does not need telling
    assert (r.returncode, r.stderr) == (0, b"")
    r = run_cli("-v", "eval", "1")
    assert r.stderr.decode().count("using virtual") == 1
    r = run_cli("-d", "virtual", "-v", "eval", "1")
    assert "using" not in r.stderr.decode()
    # a person at a terminal is told, once
    master, slave = os.openpty()
    try:
        done = subprocess.run([*MPTUI, "eval", "1"], stdout=subprocess.PIPE, stderr=slave,
                              timeout=60, check=False)
        os.close(slave)
        said = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            said += chunk
    finally:
        os.close(master)
    assert done.returncode == 0
    assert said.decode().count("mptui: using virtual") == 1


def test_an_unexpected_error_is_one_line_naming_the_log(monkeypatch, capsys, isolated_env):
    from mptui import cli

    def broken(args):
        raise ZeroDivisionError("a bug")

    parser = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda *a: _with_run(parser(*a), "devices", broken))
    assert cli.main(["devices"]) == errors.ERROR
    err = capsys.readouterr().err
    log = isolated_env / "state" / "mptui.log"
    assert err == (f"mptui: unexpected error (ZeroDivisionError: a bug); the details are in "
                   f"{log}\n")
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "ZeroDivisionError: a bug" in text


def _with_run(parser, command: str, run):
    for action in parser._subparsers._group_actions:
        action.choices[command].set_defaults(_run=run)
    return parser


def test_log_file_option_and_verbose(root, tmp_path):
    log = tmp_path / "my.log"
    r = run_cli("--log-file", str(log), "-vv", "-d", "nonsense", "ls")
    assert r.returncode == 2
    assert "unknown device address 'nonsense'" in log.read_text()
    assert r.stderr.decode().splitlines()[-1].startswith("mptui: unknown device address")
