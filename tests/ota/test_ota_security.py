"""Bad input never changes a board: wrong password, bad signature, corrupted file bytes."""

from __future__ import annotations

import json

import pytest
from agentboards import PASSWORD, app_files, board_tree, make_project, release_tree

from mptui.services.ota import push
from mptui.services.ota.keys import next_seq
from mptui.services.ota.links import AgentLink, OtaError
from mptui.services.ota.project import Secrets


async def _settled(board):
    """A board on release 1.0, marked good, so that nothing on it changes by itself."""
    await board.wait_for(lambda: board.state().get("good") and board.runs(), what="settled")
    return board_tree(board.root)


@pytest.fixture
async def board_v1(make_board, secrets, tmp_path):
    board = await make_board()
    r = await push(board.address, make_project(tmp_path, "1.0", app_files("1.0"), secrets))
    assert r.ok, r.error
    await board.wait_run("1.0")
    return board


async def test_wrong_password_changes_nothing(board_v1, tmp_path):
    before = await _settled(board_v1)
    wrong = Secrets(tmp_path / "wrong.toml", password="not it", signing_key="signing-key-for-tests")
    r = await push(board_v1.address, make_project(tmp_path, "2.0", app_files("2.0"), wrong))
    assert not r.ok and r.error_kind == "denied"
    assert "wrong OTA password" in r.error
    nopw = Secrets(tmp_path / "none.toml", signing_key="signing-key-for-tests")
    r = await push(board_v1.address, make_project(tmp_path, "2.1", app_files("2.1"), nopw))
    assert not r.ok and r.error_kind == "password"
    assert board_tree(board_v1.root) == before


async def test_bad_signature_changes_nothing(board_v1, tmp_path):
    before = await _settled(board_v1)
    other = Secrets(tmp_path / "other.toml", password=PASSWORD, signing_key="another key")
    r = await push(board_v1.address, make_project(tmp_path, "2.0", app_files("2.0"), other))
    assert not r.ok and r.error_kind == "signature"
    unsigned = Secrets(tmp_path / "unsigned.toml", password=PASSWORD)
    r = await push(board_v1.address, make_project(tmp_path, "2.1", app_files("2.1"), unsigned))
    assert not r.ok and r.error_kind == "signature"
    assert board_tree(board_v1.root) == before


async def test_file_not_matching_its_hash_is_rejected(board_v1, secrets, tmp_path):
    before = await _settled(board_v1)
    release = make_project(tmp_path, "2.0", app_files("2.0"), secrets).build()
    link = AgentLink("127.0.0.1", board_v1.port, PASSWORD)
    await link.open()
    try:
        top = (await link.info())["top"]
        await link.begin(release.manifest(link.board_id, next_seq(top)), release.size)
        await link.send_file("main.py", release.files["main.py"])
        bad = bytearray(release.files["lib/mod_a.py"])
        bad[5] ^= 1
        with pytest.raises(OtaError) as e:
            await link.send_file("lib/mod_a.py", bytes(bad))
        assert e.value.kind == "hash"
    finally:
        await link.close()
    # The session was dropped and staging discarded; a commit on a new one has nothing.
    link = AgentLink("127.0.0.1", board_v1.port, PASSWORD)
    await link.open()
    try:
        with pytest.raises(OtaError) as e:
            await link.commit()
        assert e.value.kind == "state"
        assert not (await link.info())["busy"]
    finally:
        await link.close()
    assert board_tree(board_v1.root) == before
    assert release_tree(board_v1.root) == app_files("1.0")


async def test_protected_and_hostile_paths_are_refused(board_v1, secrets, tmp_path):
    before = await _settled(board_v1)
    for path in ("boot.py", "config/mptui_agent.json", "mptui_agent/ota.py", "../x.py",
                 "a//b.py", "/abs.py", ".ota/cur.json", "data/x"):
        manifest = json.dumps({"version": "9", "seq": 1, "files": {path: [1, "0" * 64]},
                               "sig": ""}).encode()
        link = AgentLink("127.0.0.1", board_v1.port, PASSWORD)
        await link.open()
        try:
            with pytest.raises(OtaError) as e:
                await link.begin(manifest, 1)
            assert e.value.kind in ("protected", "manifest"), path
            with pytest.raises(OtaError):
                await link.get("/config/mptui_agent.json")  # the signing key stays on the board
            await link.cmd("ping")  # garbage did not break the server
            await link._send(b"file 6 x.py\nreset\n")  # file bytes are never read as commands
            with pytest.raises(OtaError, match="no update in progress"):
                await link._reply()
            assert await link.cmd("ping") == "pong"
        finally:
            await link.close()
    assert board_tree(board_v1.root) == before


async def test_get_sends_a_file_whole_a_buffer_at_a_time(board_v1):
    """`get`: the file's bytes as they are, over several of the agent's read buffers."""
    await _settled(board_v1)
    data = bytes(range(256)) * 41 + b"end"  # 10,499 bytes: more than the 4 KiB buffer, ragged
    (board_v1.root / "data.bin").write_bytes(data)
    link = AgentLink("127.0.0.1", board_v1.port, PASSWORD)
    await link.open()
    try:
        assert await link.get("/data.bin") == data
        assert await link.get("/data.bin") == data  # and the link goes on after it
        with pytest.raises(OtaError) as e:
            await link.get("/missing.bin")
        assert e.value.kind == "notfound"
    finally:
        await link.close()
