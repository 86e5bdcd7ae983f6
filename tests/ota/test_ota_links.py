"""The agent on real-board conditions (mptui/virtual/link.py): installed over a 115200-baud UART
and on an ESP32's link and heap, then a push (over TCP, and through the raw REPL over that link)
and RemoteIO (a call, the log stream) work; where the agent cannot fit (an ESP8266's heap on this
64-bit runtime, a 32 KB one), `ota install` says so in one line and writes nothing.
AGENT_HEAP's figure: bench/agent_heap.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from agentboards import app_files, make_project, release_tree
from test_ota_cli import cli

from mptui.services.ota import push
from mptui.services.ota.links import EngineLink
from mptui.services.ota.project import Secrets
from mptui.services.remoteio import agent_lines

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "remoteio"))

from rioboards import Collector, start_rio_board

PASSWORD = "correct horse"
LINES = 200


@pytest.mark.parametrize("link", ["uart:115200", "esp32"])
async def test_push_and_remoteio_on_a_slow_link_and_a_small_heap(tmp_path, link):
    board = await start_rio_board(tmp_path / "b", password=PASSWORD, link=link)
    try:
        assert await board.call("add", {"a": 2, "b": 40}) == 42
        lines = Collector(agent_lines("127.0.0.1", board.port, PASSWORD), "line done")
        await lines.connected.wait()
        assert await board.call("start", {"lines": LINES, "rate": 500}) == "started"
        await lines.wait(timeout=60)
        assert lines.texts == [f"line {i}" for i in range(LINES)] + ["line done"]
        assert lines.drops == 0

        secrets = Secrets(tmp_path / ".b-secrets.toml", password=PASSWORD)
        v1 = make_project(tmp_path, "1.0", app_files("1.0"), secrets)
        r = await push(board.agent.address, v1, online_timeout=60)
        assert r.ok, r.error
        await board.agent.wait_run("1.0")
        assert board.agent.runs()[-1] == "1.0 ok"
        assert release_tree(board.agent.root) == v1.files()

        # as to a USB board: staged and committed through the raw REPL, over this link
        v2 = make_project(tmp_path, "2.0", app_files("2.0", drop=True), secrets)
        r = await push(board.name, v2, link=EngineLink(board.agent.session), online_timeout=60)
        assert r.ok, r.error
        await board.agent.power_up_and_run("2.0")  # (the push's own run may be cut: see there)
        assert board.agent.runs()[-1] == "2.0 ok"
        assert release_tree(board.agent.root) == v2.files()
    finally:
        await board.close()


@pytest.mark.parametrize("query", ["heap=32k", "link=esp8266"])
def test_install_says_the_agent_does_not_fit_before_touching_the_board(tmp_path, query):
    data = tmp_path / "data"
    board = data / "boards" / "small"
    board.mkdir(parents=True)
    (board / "boot.py").write_text("# the board's own\n")
    before = {p.name: p.read_bytes() for p in board.iterdir()}
    out = cli("-d", f"virtual:small?{query}", "ota", "install", cwd=tmp_path, check=False,
              env={"MPTUI_DATA_DIR": str(data)})
    assert out.returncode != 0 and "installed" not in out.stdout
    errors = out.stderr.strip().splitlines()
    assert len(errors) == 1 and "the OTA agent does not fit" in errors[0], out.stderr
    assert "KB of free heap" in errors[0]
    assert {p.name: p.read_bytes() for p in board.iterdir()} == before  # nothing written
