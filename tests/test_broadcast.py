"""One program on several virtual boards at once: the service (every board's output, state and
error; a board lost midway does not stop the others) and `mptui exec|eval|run -d A -d B`."""

from __future__ import annotations

import asyncio

import pytest
from helpers import run_cli

from mptui.config import load_config
from mptui.services.broadcast import DONE, FAILED, LOST, broadcast, exit_status
from mptui.services.manager import DeviceManager

# the same program everywhere; what each board does depends on the files on its own `/`
PROGRAM = """\
import os
def has(name):
    try:
        os.stat(name)
        return True
    except OSError:
        return False
print('I am', open('/name').read())
if has('/raise'):
    raise ValueError('bad board')
if has('/exit'):
    import sys
    sys.exit(4)
if has('/hang'):
    print('ready')
    while True:
        pass
"""


def make_boards(data, names, *, odd=None):
    """Board folders under `data` (the virtual boards' data dir), each knowing its name;
    `odd`: {name: file} gives a board a file that changes what PROGRAM does there."""
    for name in names:
        root = data / name
        root.mkdir(parents=True, exist_ok=True)
        (root / "name").write_text(name)
        if odd and name in odd:
            (root / odd[name]).write_text("")


@pytest.fixture
def boards_dir(isolated_env):
    return isolated_env / "data" / "boards"


async def test_five_boards_one_raising_one_lost_midway(tmp_path):
    names = ["a", "b", "c", "d", "e"]
    make_boards(tmp_path, names, odd={"c": "raise", "d": "hang"})
    manager = DeviceManager(load_config(), usb=False, ble=False, network=False, virtual=False,
                            virtual_root=tmp_path)
    keys = [manager.add(f"virtual:{n}").key for n in names]
    seen: dict[str, list[str]] = {}

    def output(run, data):
        if run.name == "virtual:d" and b"ready" in run.output:
            # the power goes on board d while its program runs
            manager.session(run.key).transport.board.power_cycle()

    try:
        runs = await asyncio.wait_for(broadcast(
            manager, keys, PROGRAM, on_output=output,
            on_change=lambda run: seen.setdefault(run.name, []).append(run.state)), 60)
    finally:
        await manager.stop()
    by_name = {run.name.removeprefix("virtual:"): run for run in runs}
    for name in ("a", "b", "e"):
        assert by_name[name].state == DONE and by_name[name].ok
        assert bytes(by_name[name].output) == f"I am {name}\r\n".encode()
        assert seen[f"virtual:{name}"] == ["connecting", "running", "done"]
    c = by_name["c"]
    assert c.state == FAILED and c.error == "ValueError: bad board"
    assert c.traceback.startswith("Traceback") and c.output == b"I am c\r\n"
    d = by_name["d"]
    assert d.state == LOST and d.output.startswith(b"I am d\r\nready")
    assert "virtual" in d.error and d.elapsed > 0
    assert [run.name for run in runs] == [f"virtual:{n}" for n in names]  # the order given
    assert exit_status(runs) == 1
    assert "failed: ValueError: bad board" in c.summary and by_name["a"].summary.startswith(
        "virtual:a: ok (")


def test_cli_exec_eval_run_on_several_boards(boards_dir, tmp_path):
    names = ["a", "b", "c", "d", "e"]
    make_boards(boards_dir, names, odd={"b": "raise"})
    devices = [arg for n in names for arg in ("-d", f"virtual:{n}")]
    r = run_cli("exec", *devices, PROGRAM)
    assert r.returncode == 1
    out = r.stdout.decode().split("\n")[:-1]
    assert out == [f"[virtual:{n}] I am {n}\r" for n in names]  # grouped, in the order given
    err = r.stderr.decode().splitlines()
    assert "[virtual:b] Traceback (most recent call last):" in err
    assert "[virtual:b] ValueError: bad board" in err
    summary = [line for line in err if line.startswith("mptui: virtual:")]
    assert [line.split(":")[3].split()[0] for line in summary] == ["ok", "failed", "ok", "ok",
                                                                   "ok"]
    # one -d before the command and one after mix; eval prints each board's value
    r = run_cli("-d", "virtual:a", "eval", "-d", "virtual:c", "open('/name').read() * 2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().split() == ["[virtual:a]", "aa", "[virtual:c]", "cc"]
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    make_boards(boards_dir, ["e"], odd={"e": "exit"})
    r = run_cli("run", "-d", "virtual:a", "-d", "virtual:e", str(prog))
    assert r.returncode == 4  # the first failing board's sys.exit status
    assert "mptui: virtual:e: exit status 4 (" in r.stderr.decode()


def test_cli_one_board_after_the_command_and_all_without_boards(boards_dir):
    make_boards(boards_dir, ["solo"])
    r = run_cli("exec", "-d", "virtual:solo", "print(open('/name').read())")
    assert (r.returncode, r.stdout) == (0, b"solo\r\n")  # one board: no prefix, as ever
    r = run_cli("exec", "--all", "print(1)")
    assert r.returncode == 2 and b"--all: no boards in the config" in r.stderr


def test_cli_all_runs_on_the_configured_boards(boards_dir, isolated_env):
    make_boards(boards_dir, ["k1", "k2"])
    (isolated_env / "config.toml").write_text(
        '[boards.kitchen]\naddress = "virtual:k1"\n[boards.garage]\naddress = "virtual:k2"\n')
    r = run_cli("exec", "--all", "print(open('/name').read())")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().split() == ["[kitchen]", "k1", "[garage]", "k2"]


def test_ctrl_c_stops_every_board_and_shows_what_they_printed(start_bridge):
    import signal
    import subprocess
    import sys
    import time

    from test_interrupt_cli import at_friendly_prompt

    bridges = [start_bridge(), start_bridge()]
    code = ("print('started')\nf = open('/running', 'w')\nf.write('1')\nf.close()\n"
            "while True: pass")
    proc = subprocess.Popen([sys.executable, "-m", "mptui", "exec",
                             *(arg for b in bridges for arg in ("-d", b.socket_url)), code],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not all((b.root / "running").exists() for b in bridges):  # both loop now
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
        time.sleep(0.05)  # polling the boards' folders: the deadline ends it
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert out.decode().split("\n")[:-1] == [f"[{b.socket_url}] started\r" for b in bridges]
    assert err.decode().endswith("mptui: interrupted: the boards' programs were stopped; the "
                                 "boards are at their REPL\n")
    for b in bridges:
        b.wait_idle()
        assert at_friendly_prompt(b.bridge.socket_port).endswith(b">>> ")
