"""The commands, run as the real `mptui` program: devices --network, call, logs."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import free_port

from mptui.paths import virtual_board_root
from mptui.services.announce import NetworkSource
from mptui.services.ota.install import agent_version

AGENT = agent_version()


def mptui(*args, cwd, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mptui", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=dict(os.environ), check=False)


def spawn(*args, cwd) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mptui", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=cwd, env=dict(os.environ))


async def read_until(proc: subprocess.Popen, predicate, timeout: float = 30) -> list[str]:
    """Lines from the process's stdout until one satisfies `predicate` (inclusive)."""
    out = []

    def read():
        for line in proc.stdout:
            out.append(line.rstrip("\n"))
            if predicate(out[-1]):
                return
    await asyncio.wait_for(asyncio.to_thread(read), timeout)
    return out


async def test_an_announced_board_shows_in_devices(rio_board, tmp_path):
    port = free_port()
    board = await rio_board("kitchen", announce="127.0.0.1", announce_port=port,
                            announce_every=0.5)
    r = await asyncio.to_thread(mptui, "devices", "--network", "2", "--announce-port", str(port),
                                cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if x.startswith("rio://"))
    assert line.startswith(f"{board.address} kitchen agent {AGENT} no release ota://127.0.0.1:")
    assert line.endswith(" linux")


async def test_the_network_source_lists_boards_and_forgets_silent_ones(rio_board):
    port = free_port()
    board = await rio_board("hall", announce="127.0.0.1", announce_port=port, announce_every=0.3)
    reports: list[list] = []
    source = NetworkSource(port, bind="127.0.0.1")
    task = asyncio.create_task(source.run(reports.append))
    try:
        await board.agent.wait_for(lambda: reports and reports[-1], what="the board announced")
        (ann,) = reports[-1]
        assert (ann.name, ann.address, ann.agent) == ("hall", board.address, AGENT)
        await board.agent.session.close()  # the board goes quiet (its runtime stops)
        await board.agent.wait_for(lambda: reports[-1] == [], what="the board forgotten")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_call_prints_the_result_as_json(rio_board, tmp_path):
    board = await rio_board()
    cases = [
        (("add", "a=2", "b=3"), 0, "5"),
        (("add", "a=[1]", 'b=["x", null]'), 0, '[1, "x", null]'),
        (("add", "a=kit", "b=chen"), 0, '"kitchen"'),  # not JSON: a string
        (("version",), 0, None),
    ]
    for args, code, out in cases:
        r = await asyncio.to_thread(mptui, "call", "-d", board.address, *args, cwd=tmp_path)
        assert r.returncode == code, r.stderr
        if out is not None:
            assert r.stdout.strip() == out
    assert json.loads(r.stdout)["name"] == "b"


@pytest.mark.parametrize(("args", "code", "message"), [
    (("nope",), 1, "mptui: unknown handler: nope"),
    (("fail", "why=boom"), 1, "mptui: fail: ValueError: boom"),
    (("add", "a"), 2, "mptui: 'a': arguments are KEY=VALUE, KEY a name (letters, digits, _)"),
    (("add", "a=1", "a=2"), 2, "mptui: a given twice"),
])
async def test_call_errors_are_one_clear_line(rio_board, tmp_path, args, code, message):
    board = await rio_board()
    r = await asyncio.to_thread(mptui, "call", "-d", board.address, *args, cwd=tmp_path)
    assert (r.returncode, r.stderr.strip(), r.stdout) == (code, message, "")


def test_call_needs_a_board_reached_through_its_agent(tmp_path):
    r = mptui("call", "-d", "virtual", "ping", cwd=tmp_path)
    assert r.returncode == 2 and "calls go through the board's agent" in r.stderr
    r = mptui("call", "-d", f"rio://127.0.0.1:{free_port()}", "ping", cwd=tmp_path)
    assert r.returncode == 1 and "board unreachable" in r.stderr and "refused" in r.stderr


STAMP = r"\d\d:\d\d:\d\d\.\d{3}"


async def test_logs_streams_lines_with_time_and_board(rio_board, tmp_path):
    board = await rio_board("desk")
    proc = spawn("logs", "-d", board.address, "-n", "11", cwd=tmp_path)
    try:
        head = await read_until(proc, lambda line: "-- connected" in line)
        assert re.fullmatch(STAMP + r" \[desk\] -- connected \(rio://127\.0\.0\.1:\d+, agent "
                            + re.escape(AGENT) + r"\)", head[-1])
        await board.call("start", {"lines": 10, "rate": 0})
        out, err = await asyncio.to_thread(proc.communicate, timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert [re.sub(STAMP, "T", x) for x in lines] == [f"T [desk] line {i}" for i in range(10)] + [
        "T [desk] line done"]


async def test_logs_all_finds_announced_boards(rio_board, tmp_path):
    port = free_port()
    boards = [await rio_board(n, announce="127.0.0.1", announce_port=port, announce_every=0.3)
              for n in ("one", "two")]
    proc = spawn("logs", "--all", "--json", "--announce-port", str(port), "-n", "8", cwd=tmp_path)
    try:
        connected = set()

        def both_connected(line):
            msg = json.loads(line)
            if msg["kind"] == "status" and msg["text"].startswith("connected"):
                connected.add(msg["board"])
            return connected == {"one", "two"}

        await read_until(proc, both_connected)
        for b in boards:
            await b.call("start", {"lines": 3, "rate": 0, "tag": b.name})
        out, err = await asyncio.to_thread(proc.communicate, timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    got = [json.loads(x) for x in out.splitlines()]
    by_board = {n: [m["text"] for m in got if m["board"] == n and m["kind"] == "out"]
                for n in ("one", "two")}
    # 8 lines of the 8 printed, in order per board
    assert by_board == {n: [f"{n} 0", f"{n} 1", f"{n} 2", f"{n} done"] for n in ("one", "two")}


async def test_logs_all_streams_a_board_once_however_it_is_named(rio_board, tmp_path):
    """-d with its address, the config's name for it and its announcement: one stream."""
    port = free_port()
    board = await rio_board("one", announce="127.0.0.1", announce_port=port, announce_every=0.3)
    Path(os.environ["MPTUI_CONFIG"]).write_text(
        f'[boards.one]\naddress = "virtual:unused"\nrio = "{board.address.removeprefix("rio://")}"\n')
    proc = spawn("logs", "--all", "-d", board.address, "--json", "--announce-port", str(port),
                 "-n", "3", cwd=tmp_path)
    try:
        first = await read_until(proc, lambda x: json.loads(x)["text"].startswith("connected"))
        await board.call("start", {"lines": 3, "rate": 0, "tag": "one"})
        out, err = await asyncio.to_thread(proc.communicate, timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    got = [json.loads(x) for x in [*first, *out.splitlines()]]
    assert [m["text"] for m in got if m["kind"] == "out"] == ["one 0", "one 1", "one 2"]
    assert len([m for m in got if m["text"].startswith("connected")]) == 1, got


async def test_logs_of_a_board_without_the_agent_show_its_repl_output(tmp_path):
    root = virtual_board_root("plain")
    root.mkdir(parents=True)
    (root / "main.py").write_text("for i in range(5):\n    print('tick', i)\n")
    r = await asyncio.to_thread(mptui, "logs", "-d", "virtual:plain", "--grep", "^tick",
                                "-n", "5", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert [re.sub(STAMP, "T", x) for x in r.stdout.splitlines()] == [
        "T [virtual:plain] -- watching the REPL output of virtual:plain"] + [
        f"T [virtual:plain] tick {i}" for i in range(5)]
