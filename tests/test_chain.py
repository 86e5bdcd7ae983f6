"""Chains: several commands in one connection (`+`), as mpremote runs them; mount and umount
from the command line (the real `mptui` against virtual boards and a bridge)."""

from __future__ import annotations

import shutil
import threading

import pytest
from helpers import run_cli

from mptui.paths import virtual_board_root


def test_a_chain_runs_in_one_connection(start_bridge):
    bridge = start_bridge()
    clients = []
    attach = bridge.bridge._attach

    def counted(client):
        clients.append(client.peer)
        attach(client)

    bridge.bridge._attach = counted
    done = run_cli("-d", bridge.socket_url, "exec", "a=6", "+", "eval", "a*7", "+", "exec",
                   "import os; print(os.getcwd())")
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"42\r\n/\r\n"
    assert len(clients) == 1


def test_a_variable_lives_from_one_command_to_the_next():
    # a virtual board lives as long as its connection: a second one would know no `a`
    done = run_cli("-d", "virtual:chain", "exec", "a=6", "+", "eval", "a*7")
    assert (done.returncode, done.stdout) == (0, b"42\r\n"), done.stderr
    done = run_cli("-d", "virtual:chain", "eval", "'a' in globals()")
    assert done.stdout == b"False\r\n"


def test_the_chain_stops_at_the_first_failure_with_its_exit_status():
    done = run_cli("-d", "virtual:stop", "exec", "print('one')", "+", "exec",
                   "import sys; sys.exit(3)", "+", "exec", "print('never')")
    assert done.returncode == 3 and done.stdout == b"one\r\n"
    done = run_cli("-d", "virtual:stop", "exec", "1/0", "+", "exec", "print('never')")
    assert done.returncode == 1 and done.stdout == b""
    assert b"ZeroDivisionError" in done.stderr
    done = run_cli("-d", "virtual:stop", "ls", ":/nothing", "+", "exec", "print('never')")
    assert done.returncode == 1 and done.stdout == b""
    assert done.stderr.startswith(b"mptui: ") and b"ENOENT" in done.stderr


@pytest.mark.parametrize("words,said", [
    (["exec", "open('/made','w').close()", "+", "ls", "--nosuch"], b"unrecognized arguments"),
    (["exec", "open('/made','w').close()", "+", "bridge"], b"bridge cannot be part of a chain"),
    (["exec", "open('/made','w').close()", "+", "nosuch"], b"invalid choice: 'nosuch'"),
    (["+"], b"nothing to run"),
    (["exec", "open('/made','w').close()", "+", "run", "/no/such/file.py"], b"cannot read"),
])
def test_a_bad_command_anywhere_stops_the_chain_before_anything_runs(words, said):
    done = run_cli("-d", "virtual:bad", *words)
    assert done.returncode == (1 if b"cannot read" in said else 2), done.stderr
    assert said in done.stderr
    assert not (virtual_board_root("bad") / "made").exists()


def test_connect_moves_the_rest_of_the_chain_to_another_board():
    done = run_cli("-d", "virtual:one", "exec", "open('/a','w').close()", "+", "connect",
                   "virtual:two", "+", "exec", "open('/b','w').close()", "+", "eval",
                   "__import__('os').listdir('/')")
    assert done.returncode == 0, done.stderr
    assert (virtual_board_root("one") / "a").exists()
    assert not (virtual_board_root("one") / "b").exists()
    assert (virtual_board_root("two") / "b").exists()
    done = run_cli("-d", "virtual:one", "exec", "1", "+", "connect", "nosuch://x", "+", "exec",
                   "print('never')")
    assert done.returncode == 2 and b"nosuch://x" in done.stderr and done.stdout == b""


def test_mount_then_commands_then_umount(tmp_path):
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "app.py").write_text("print('app runs from', __import__('os').getcwd())\n")
    done = run_cli("-d", "virtual:m", "mount", str(folder), "+", "exec", "import app", "+",
                   "exec", "open('made.txt', 'w').write('from the board')", "+", "soft-reset",
                   "+", "exec", "import app", "+", "umount", "+", "eval",
                   "__import__('os').getcwd()")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(b"app runs from /remote\r\n") == 2
    assert done.stdout.endswith(b"/\r\n")
    assert (folder / "made.txt").read_text() == "from the board"
    assert f"local folder {folder} is mounted at /remote".encode() in done.stderr


def test_mptui_leaves_no_mount_behind_it(start_bridge, tmp_path):
    """On a board that lives on after mptui (behind a bridge; a virtual board would be a new
    one): a chain that mounts and does not unmount leaves the board as it found it."""
    bridge = start_bridge()
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "app.py").write_text("X = 1\n")
    done = run_cli("-d", bridge.socket_url, "mount", str(folder), "+", "eval",
                   "(__import__('os').getcwd(), 'remote' in __import__('os').listdir('/'))")
    assert (done.returncode, done.stdout) == (0, b"('/remote', True)\r\n"), done.stderr
    done = run_cli("-d", bridge.socket_url, "eval",
                   "(__import__('os').getcwd(), 'remote' in __import__('os').listdir('/'))")
    assert (done.returncode, done.stdout) == (0, b"('/', False)\r\n"), done.stderr


def test_mount_errors(tmp_path):
    done = run_cli("-d", "virtual:me", "mount", str(tmp_path / "nothing"))
    assert done.returncode == 2 and b"not a local folder" in done.stderr
    done = run_cli("-d", "virtual:me", "umount")  # nothing mounted: quiet
    assert (done.returncode, done.stderr) == (0, b"")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_mount_alone_opens_a_repl_that_remounts_after_ctrl_d(tmp_path, isolated_env):
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "hi.py").write_text("print('hi', 6*7)\n")
    mptui = Path(sys.executable).with_name("mptui")
    tmux = ["tmux", "-L", f"mount-{os.getpid()}-{threading.get_ident()}"]
    env = " ".join(f"{k}={os.environ[k]}" for k in ("MPTUI_DATA_DIR", "MPTUI_CONFIG", "HOME",
                                                   "MPTUI_STATE_DIR"))
    subprocess.run([*tmux, "new-session", "-d", "-s", "m", "-x", "250", "-y", "30",
                    f"env {env} {mptui} -d virtual:r mount {folder}"], check=True, timeout=10)

    def wait_for(text: str, count: int = 1, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = subprocess.run([*tmux, "capture-pane", "-p", "-t", "m"], check=False,
                                   capture_output=True, text=True, timeout=10).stdout
            if shown.count(text) >= count:
                return shown
            assert time.monotonic() < deadline, f"{text!r} never appeared:\n{shown}"
            time.sleep(0.05)  # polling: the deadline above ends it

    def keys(*words: str) -> None:
        subprocess.run([*tmux, "send-keys", "-t", "m", *words], check=True, timeout=10)

    try:
        wait_for("Connected to virtual:r")
        keys("Enter")
        wait_for(">>>")
        keys("import hi", "Enter")
        wait_for("hi 42")
        keys("C-d")
        wait_for("mounted again at /remote")
        keys("Enter")  # typed while the remount may still run: it waits for it, never lost
        wait_for(">>>", count=4)  # the boot's prompt was the third: this one answers the Enter
        keys("import os; print(os.getcwd(), os.listdir())", "Enter")
        wait_for("/remote ['hi.py']")
    finally:
        subprocess.run([*tmux, "kill-server"], check=False, timeout=10)
