"""Downgrades: a board refuses a replayed signed manifest and an older version, whatever the
link (push over TCP, the engine, pull mode), unless the host asks for it, signed."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from agentboards import PASSWORD, app_files, board_tree, make_project, release_tree

from mptui.agent import __file__ as agent_init
from mptui.services.ota import push
from mptui.services.ota.keys import older, version_key
from mptui.services.ota.links import AgentLink, OtaError
from mptui.services.ota.serve import BundleServer, write_bundle
from mptui.virtual.runtime import RuntimeOptions


@pytest.fixture
def captured(monkeypatch):
    """Every manifest a push sends, as sent (what someone on the network could keep)."""
    sent: list[bytes] = []
    begin = AgentLink.begin

    async def keep(self, manifest, need):
        sent.append(manifest)
        return await begin(self, manifest, need)

    monkeypatch.setattr(AgentLink, "begin", keep)
    return sent


async def replay(board, manifest: bytes) -> OtaError:
    """Send a kept manifest again, as an attacker with the password (not the key) would."""
    link = AgentLink("127.0.0.1", board.port, PASSWORD)
    await link.open()
    try:
        with pytest.raises(OtaError) as e:
            await link.begin(manifest, 1000)
        assert not (await link.info())["busy"]
        return e.value
    finally:
        await link.close()


async def settled(board, version):
    await board.wait_run(version)
    await board.wait_for(lambda: board.state().get("good"), what=f"{version} marked good")
    return board_tree(board.root)


async def test_a_replayed_signed_manifest_is_refused_by_the_agent(make_board, secrets, tmp_path,
                                                                  captured):
    board = await make_board()
    v1 = make_project(tmp_path, "1.0", app_files("1.0"), secrets)
    v2 = make_project(tmp_path, "2.0", app_files("2.0", drop=True), secrets)
    assert (await push(board.address, v1)).ok
    await settled(board, "1.0")
    assert (await push(board.address, v2)).ok
    before = await settled(board, "2.0")
    old, current = captured
    assert json.loads(old)["version"] == "1.0" and json.loads(current)["version"] == "2.0"

    for manifest in (old, current):  # an older release, and the very one it runs
        e = await replay(board, manifest)
        assert e.kind == "replay" and "never installed again" in str(e)
    assert board_tree(board.root) == before

    # The same version pushed again with other files is fine (a new signature, a new counter).
    v2b = make_project(tmp_path, "2.0", {**app_files("2.0", drop=True), "extra.txt": b"x"},
                       secrets)
    r = await push(board.address, v2b)
    assert r.ok and not r.up_to_date and r.files == 1, r.error


async def test_an_older_version_needs_an_explicit_downgrade(make_board, secrets, tmp_path,
                                                            captured):
    board = await make_board()
    v2 = make_project(tmp_path, "2.0", app_files("2.0"), secrets)
    v1 = make_project(tmp_path, "1.10", app_files("1.10", drop=True), secrets)
    assert (await push(board.address, v2)).ok
    before = await settled(board, "2.0")

    r = await push(board.address, v1)  # freshly signed, but an older version
    assert not r.ok and r.error_kind == "downgrade" and "--allow-downgrade" in r.error
    assert board_tree(board.root) == before

    r = await push(board.address, v1, allow_downgrade=True)
    assert r.ok, r.error
    await settled(board, "1.10")
    assert release_tree(board.root) == v1.files()
    # The allowed downgrade is good once: it and the 2.0 manifest before it are now old.
    assert json.loads(captured[-1]).get("downgrade") is True
    for manifest in list(captured):  # (replay() sends through the same begin())
        assert (await replay(board, manifest)).kind == "replay"
    # Going up again needs nothing special.
    v3 = make_project(tmp_path, "1.10.1", app_files("1.10.1"), secrets)
    assert (await push(board.address, v3)).ok


async def test_a_tampered_downgrade_flag_breaks_the_signature(make_board, secrets, tmp_path,
                                                              captured):
    board = await make_board()
    assert (await push(board.address, make_project(tmp_path, "2.0", app_files("2.0"),
                                                   secrets))).ok
    before = await settled(board, "2.0")
    r = await push(board.address, make_project(tmp_path, "1.0", app_files("1.0"), secrets))
    assert r.error_kind == "downgrade"
    forged = json.loads(captured[-1])
    forged["downgrade"] = True  # not covered by the signature: the board sees it is
    forged["seq"] += 1
    e = await replay(board, json.dumps(forged).encode())
    assert e.kind == "signature"
    assert board_tree(board.root) == before


async def test_pull_mode_installs_only_newer_bundles(make_board, secrets, tmp_path):
    folder = tmp_path / "bundle"
    folder.mkdir()
    server = await BundleServer(folder, port=0).start()
    try:
        board = await make_board(pull=f"http://127.0.0.1:{server.port}/", pull_every=0.2)
        write_bundle(make_project(tmp_path, "1.0", app_files("1.0"), secrets), folder)
        await settled(board, "1.0")
        kept = (folder / "manifest.json").read_bytes()  # the 1.0 bundle, as served then
        write_bundle(make_project(tmp_path, "2.0", app_files("2.0", drop=True), secrets), folder)
        before = await settled(board, "2.0")
        runs = len(board.runs())

        async def polls(n: int) -> None:  # the server logs each request: wait for n more
            seen = len(served)
            await board.wait_for(lambda: served[seen:].count("manifest") >= n,
                                 what=f"{n} polls")

        served: list[str] = []
        server.log = lambda line: served.append("manifest" if "/manifest.json" in line else line)
        (folder / "manifest.json").write_bytes(kept)  # an old bundle put back: replayed
        await polls(3)
        write_bundle(make_project(tmp_path, "1.5", app_files("1.5"), secrets), folder)  # older
        await polls(3)
        assert board_tree(board.root) == before and len(board.runs()) == runs
        assert (await board.wait_agent())["v"] == "2.0"

        write_bundle(make_project(tmp_path, "1.5", app_files("1.5"), secrets), folder,
                     allow_downgrade=True)
        await settled(board, "1.5")
        assert release_tree(board.root) == app_files("1.5")
    finally:
        await server.stop()


def test_the_cli_refuses_an_older_release_unless_asked(tmp_path):
    """`mptui ota push` over the engine (a virtual board's raw REPL): the same refusal."""
    def cli(*args, check=True):
        proc = subprocess.run([sys.executable, "-m", "mptui", *args], cwd=tmp_path, text=True,
                              capture_output=True, timeout=120, check=False,
                              env={**os.environ, "MPTUI_DATA_DIR": str(tmp_path / "data")})
        assert not check or proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    cli("ota", "init", "--version", "2.0")
    cli("-d", "virtual:dg", "ota", "install")
    assert "ok 2.0" in cli("ota", "push", "-d", "virtual:dg", "-q").stdout
    toml = tmp_path / "mptui.toml"
    toml.write_text(toml.read_text().replace('version = "2.0"', 'version = "1.9"'))
    r = cli("ota", "push", "-d", "virtual:dg", "-q", check=False)
    assert r.returncode == 1 and "older version than the board runs" in r.stdout
    assert "ok 1.9" in cli("ota", "push", "-d", "virtual:dg", "-q", "--allow-downgrade").stdout
    state = json.loads((tmp_path / "data/boards/dg/.ota/state.json").read_text())
    assert state["v"] == "1.9"


ORDER = ["0.9", "1.0.dev1", "1.0a1", "1.0b2", "1.0rc1", "1.0", "1.0post1", "1.0.1", "1.9",
         "1.10", "2.0-beta", "2.0", "10"]


def test_version_order_is_the_same_on_the_board_and_the_host(tmp_path):
    for a, b in itertools.pairwise(ORDER):
        assert older(a, b) and not older(b, a), (a, b)
    assert not older("1.0", "1.0") and version_key("V1.0") == version_key("v1_0")
    shutil.copytree(Path(agent_init).parent, tmp_path / "mptui_agent",
                    ignore=shutil.ignore_patterns("*.md", "__pycache__"))
    pairs = [(a, b) for a in ORDER + ["x", "é1", "1 0"] for b in ORDER + ["x", "é1", "1 0"]]
    script = tmp_path / "t.py"
    script.write_text(f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\n"
                      "from mptui_agent.release import older\n"
                      f"for a, b in {pairs!r}:\n    print(int(older(a, b)))\n")
    out = subprocess.run([*RuntimeOptions().command(), str(script)], capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(int(older(a, b))) for a, b in pairs]

