"""What a board keeps (ota/keys.py): only keys derived for it. Reading one board's files gives
neither the project's password nor its signing key, and unlocks no other board."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

from agentboards import KEY, PASSWORD, WAIT, app_files, board_tree, make_project

from mptui.services.ota import push
from mptui.services.ota.install import install
from mptui.services.ota.keys import known_boards, next_seq, sign
from mptui.services.ota.links import AgentLink, OtaError


def settings(board) -> dict:
    return json.loads((board.root / "config" / "mptui_agent.json").read_text())


async def login_with_key(port: int, key_hex: str) -> str:
    """Log in with a login key as read from a board's files (not with the password)."""
    r, w = await asyncio.open_connection("127.0.0.1", port)
    try:
        _, _, _, nonce, _ = (await asyncio.wait_for(r.readline(), WAIT)).decode().split()
        mac = hmac.new(bytes.fromhex(key_hex), bytes.fromhex(nonce), hashlib.sha256).hexdigest()
        w.write(f"auth {mac}\n".encode())
        return (await asyncio.wait_for(r.readline(), WAIT)).decode().strip()
    finally:
        w.close()


async def test_a_board_keeps_no_project_secret(make_board, secrets, tmp_path):
    board = await make_board()
    assert (await push(board.address, make_project(tmp_path, "1.0", app_files("1.0"),
                                                   secrets))).ok
    cfg = settings(board)
    assert set(cfg) >= {"id", "login", "sign"} and not {"pw", "key"} & set(cfg)
    assert cfg["login"] == secrets.login_key(cfg["id"])
    assert cfg["sign"] == secrets.board_signing_key(cfg["id"])
    everything = b"".join(board_tree(board.root).values())
    for secret in (PASSWORD, KEY, hashlib.sha256(PASSWORD.encode()).hexdigest()):
        assert secret.encode() not in everything
    assert known_boards(secrets.path) == {cfg["id"]: board.address}  # for bundles


async def test_one_boards_keys_do_not_open_another(make_board, secrets, tmp_path):
    a, b = await make_board("a"), await make_board("b")
    stolen = settings(a)
    assert stolen["id"] != settings(b)["id"]
    # Its login key logs in to that board only (which its thief already holds).
    assert await login_with_key(a.port, stolen["login"]) == "ok"
    assert await login_with_key(b.port, stolen["login"]) == "err denied wrong password"
    # Its signing key signs for that board only.
    release = make_project(tmp_path, "6.6", app_files("6.6"), secrets).build()
    manifest = json.loads(release.manifest("", next_seq()))
    manifest["sig"] = sign(stolen["sign"], manifest)
    before = board_tree(b.root)
    link = AgentLink("127.0.0.1", b.port, PASSWORD)
    await link.open()
    try:
        try:
            await link.begin(json.dumps(manifest).encode(), release.size)
            raise AssertionError("board b took a release signed with board a's key")
        except OtaError as e:
            assert e.kind == "signature"
    finally:
        await link.close()
    assert board_tree(b.root) == before


async def test_installing_over_an_old_agent_replaces_its_secrets(make_board, secrets):
    board = await make_board()
    old = {"port": board.port, "pw": hashlib.sha256(PASSWORD.encode()).hexdigest(), "key": KEY}
    (board.root / "config" / "mptui_agent.json").write_text(json.dumps(old))
    result = await install(board.session, {"port": board.port}, secrets)
    assert result.upgraded_from == "1.x"
    cfg = settings(board)
    assert not {"pw", "key"} & set(cfg) and KEY not in json.dumps(cfg)
    await board.session.hard_reset()
    assert (await board.wait_agent())["id"] == cfg["id"]
