"""The agent's own manifest check (release.verify), run in the real MicroPython runtime, case by
case: what it takes and what it refuses, with the refusal's code. And the host's key derivations
pinned to known answers: a changed derivation would lock every installed board out."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import subprocess

import pytest

from mptui.agent import __file__ as agent_init
from mptui.services.ota.keys import (
    auth_response,
    backoff_wait,
    board_id,
    login_key,
    next_seq,
    sign,
    signing_key,
    signing_payload,
)
from mptui.virtual.runtime import RuntimeOptions

KEY = hashlib.sha256(b"a board's signing key").hexdigest()
SHA = "ab" * 32


def run_agent(tmp_path, body: str) -> list[str]:
    """Run `body` in the MicroPython runtime with the agent importable; its printed lines."""
    from pathlib import Path

    shutil.copytree(Path(agent_init).parent, tmp_path / "mptui_agent",
                    ignore=shutil.ignore_patterns("*.md", "__pycache__"))
    script = tmp_path / "t.py"
    script.write_text(f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\n{body}")
    out = subprocess.run([*RuntimeOptions().command(), str(script)], capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr + out.stdout
    return out.stdout.split("\n")[:-1]


def manifest(**change) -> dict:
    m = {"version": "2.0", "seq": 10, "files": {"app.py": [5, SHA], "lib/x.py": [3, SHA]}}
    m.update(change)
    return {k: v for k, v in m.items() if v is not None}


def signed(m: dict, key: str = KEY) -> dict:
    return {**m, "sig": sign(key, m)}


# (case, manifest as sent, the board's state {top, v}, expected: "ok" or the Reject code)
CASES = [
    ("good", signed(manifest()), {"top": 9, "v": "1.0"}, "ok"),
    ("first release", signed(manifest(seq=1)), {"top": 0, "v": None}, "ok"),
    ("unsigned", manifest(), {"top": 0}, "signature"),
    ("other key", signed(manifest(), hashlib.sha256(b"other").hexdigest()), {"top": 0}, "signature"),
    ("sig not hex", {**manifest(), "sig": "zz" * 32}, {"top": 0}, "signature"),
    ("sig a number", {**manifest(), "sig": 7}, {"top": 0}, "signature"),
    ("sig cut", {**signed(manifest()), "sig": signed(manifest())["sig"][:62]}, {"top": 0},
     "signature"),
    ("version changed", {**signed(manifest()), "version": "2.1"}, {"top": 0}, "signature"),
    ("seq changed", {**signed(manifest()), "seq": 11}, {"top": 0}, "signature"),
    ("file hash changed", {**signed(manifest()), "files": {"app.py": [5, "cd" * 32],
                                                           "lib/x.py": [3, SHA]}},
     {"top": 0}, "signature"),
    ("downgrade added", {**signed(manifest()), "downgrade": True}, {"top": 0}, "signature"),
    ("replay: same seq", signed(manifest()), {"top": 10, "v": "1.0"}, "replay"),
    ("replay: older seq", signed(manifest()), {"top": 11, "v": "1.0"}, "replay"),
    ("older version", signed(manifest(version="1.9")), {"top": 9, "v": "2.0"}, "downgrade"),
    ("same version", signed(manifest(version="2.0")), {"top": 9, "v": "2.0"}, "ok"),
    ("older, downgrade signed", signed(manifest(version="1.9", downgrade=True)),
     {"top": 9, "v": "2.0"}, "ok"),
    ("older, downgrade not True", signed(manifest(version="1.9", downgrade=1)),
     {"top": 9, "v": "2.0"}, "downgrade"),
    ("seq 0", signed(manifest(seq=0)), {"top": 0}, "manifest"),
    ("seq true", signed(manifest(seq=True)), {"top": 0}, "manifest"),
    ("seq text", {**manifest(), "seq": "10"}, {"top": 0}, "manifest"),
    ("no seq", manifest(seq=None), {"top": 0}, "manifest"),
    ("version empty", signed(manifest(version="")), {"top": 0}, "manifest"),
    ("version 64", signed(manifest(version="1" * 64)), {"top": 0}, "ok"),
    ("version 65", signed(manifest(version="1" * 65)), {"top": 0}, "manifest"),
    ("version newline", signed(manifest(version="2.0\nseq 99")), {"top": 0}, "manifest"),
    ("version a number", {**manifest(), "version": 2}, {"top": 0}, "manifest"),
    ("files a list", {**manifest(), "files": ["app.py"]}, {"top": 0}, "manifest"),
    ("entry short", manifest(files={"a.py": [5]}), {"top": 0}, "manifest"),
    ("entry long", signed(manifest(files={"a.py": [5, SHA, 1]})), {"top": 0}, "manifest"),
    ("size text", signed(manifest(files={"a.py": ["5", SHA]})), {"top": 0}, "manifest"),
    ("hash short", signed(manifest(files={"a.py": [5, SHA[:63]]})), {"top": 0}, "manifest"),
    ("hash a number", signed(manifest(files={"a.py": [5, 1]})), {"top": 0}, "manifest"),
    ("not json", "{", {"top": 0}, "manifest"),
    ("absolute path", signed(manifest(files={"/a.py": [5, SHA]})), {"top": 0}, "manifest"),
    ("dot dot", signed(manifest(files={"a/../b.py": [5, SHA]})), {"top": 0}, "manifest"),
    ("empty part", signed(manifest(files={"a//b.py": [5, SHA]})), {"top": 0}, "manifest"),
    ("backslash", signed(manifest(files={"a\\b.py": [5, SHA]})), {"top": 0}, "manifest"),
    ("control char", signed(manifest(files={"a\x01.py": [5, SHA]})), {"top": 0}, "manifest"),
    ("path 200", signed(manifest(files={"a" * 200: [5, SHA]})), {"top": 0}, "ok"),
    ("path 201", signed(manifest(files={"a" * 201: [5, SHA]})), {"top": 0}, "manifest"),
    ("the agent", signed(manifest(files={"mptui_agent/x.py": [5, SHA]})), {"top": 0},
     "protected"),
    ("the config", signed(manifest(files={"config/mptui_agent.json": [5, SHA]})), {"top": 0},
     "protected"),
    ("boot.py", signed(manifest(files={"boot.py": [5, SHA]})), {"top": 0}, "protected"),
    ("the ota folder", signed(manifest(files={".ota_x/a": [5, SHA]})), {"top": 0}, "protected"),
]


def test_the_agent_takes_and_refuses_manifests_as_it_should(tmp_path):
    cases = [(json.dumps(m) if isinstance(m, dict) else m, st) for _, m, st, _ in CASES]
    lines = run_agent(tmp_path, (
        "import mptui_agent.release as R\n"
        f"for text, st in {cases!r}:\n"
        "    R.state = lambda st=st: st\n"
        "    try:\n"
        f"        m = R.verify(text, {KEY!r})\n"
        "        print('ok', m['version'], m['seq'])\n"
        "    except R.Reject as e:\n"
        "        print(e.code)\n"))
    got = {name: line.split()[0] for (name, *_), line in zip(CASES, lines, strict=True)}
    assert got == {name: want for name, _, _, want in CASES}
    good = lines[0].split()
    assert good == ["ok", "2.0", "10"]  # the manifest as sent, not a default


def test_a_board_with_no_key_takes_unsigned_manifests_and_still_refuses_replays(tmp_path):
    lines = run_agent(tmp_path, (
        "import mptui_agent.release as R\n"
        "R.state = lambda: {'top': 10}\n"
        f"for text in {[json.dumps(manifest(seq=11)), json.dumps(manifest())]!r}:\n"
        "    try:\n"
        "        print('ok', R.verify(text, '')['seq'])\n"
        "    except R.Reject as e:\n"
        "        print(e.code)\n"))
    assert lines == ["ok 11", "replay"]


@pytest.mark.parametrize("key_len", [0, 1, 32, 63, 64, 65, 100])
def test_the_agents_hmac_and_payload_are_the_hosts(tmp_path, key_len):
    key = bytes(range(key_len))
    msg = signing_payload(manifest(downgrade=True))
    lines = run_agent(tmp_path, (
        "import json\nfrom binascii import hexlify\n"
        "from mptui_agent.host import hmac, same\n"
        "from mptui_agent.release import payload\n"
        f"print(hexlify(hmac({key!r}, {msg!r})).decode())\n"
        f"print(payload(json.loads({json.dumps(manifest(downgrade=True))!r})) == {msg!r})\n"
        "print(same(b'abc', b'abc'), same(b'abc', b'abd'), same(b'abc', b'ab'),"
        " same(b'', b''), same(b'\\x01', b'\\x00'))\n"
        f"print(hexlify(hmac({'k' * key_len + 'é'!r}, {msg!r})).decode())\n"))  # a text key
    assert lines[0] == hmac.new(key, msg, hashlib.sha256).hexdigest()
    assert lines[1:3] == ["True", "True False False True False"]
    text_key = ("k" * key_len + "é").encode()
    assert lines[3] == hmac.new(text_key, msg, hashlib.sha256).hexdigest()


def test_the_hosts_keys_are_pinned_to_their_derivations():
    # Installed boards hold keys derived with these exact inputs: any change locks them out.
    board = "0123456789abcdef"
    assert login_key("pw", board) == hashlib.pbkdf2_hmac(
        "sha256", b"pw", b"mptui-login:0123456789abcdef", 100_000)
    assert login_key("pw", board).hex()[:16] == "886e8af9f786eb68"
    assert signing_key("k", board) == hmac.new(
        b"k", b"mptui-sign:0123456789abcdef", hashlib.sha256).hexdigest()
    nonce = "00ff" * 8
    assert auth_response("pw", nonce, board) == hmac.new(
        login_key("pw", board), bytes.fromhex(nonce), hashlib.sha256).hexdigest()
    m = manifest(files={"b.py": [1, "bb"], "a.py": [2, "aa"]})
    assert signing_payload(m) == b"2.0\nseq 10\na.py:aa\nb.py:bb"
    assert signing_payload({**m, "downgrade": True}) == b"2.0\nseq 10 downgrade\na.py:aa\nb.py:bb"
    assert signing_payload({**m, "downgrade": 1}) == b"2.0\nseq 10\na.py:aa\nb.py:bb"


def test_board_ids_backoff_and_seq_from_hostile_input():
    assert board_id("0123abcd") == "0123abcd" and board_id("0" * 32) == "0" * 32
    for bad in ("0123abc", "0" * 33, "0123ABCD", "0123abcd\n", " 0123abcd", 123, None):
        assert board_id(bad) == ""
    assert backoff_wait("err busy: wait 5 s") == 5.0
    assert backoff_wait("err busy: wait 6 s") is None
    assert backoff_wait("err busy: wait 1234 s") is None and backoff_wait("busy") is None
    assert next_seq(10**12) == 10**12 + 1
    assert next_seq() > 60_000_000  # seconds since 2024: above any seq of a year ago


# Versions in order; those in one group are equal (the pre-release words' ranks, case).
# (A leading word sorts before numbers; 1.0.0 is after 1.0, as on boards already installed.)
GROUPS = [["v1.0", "V1_0"], ["0.9"], ["1.0dev1", "1.0.DEV1"], ["1.0dev2"],
          ["1.0a1", "1.0alpha1", "1.0A1"], ["1.0a2"], ["1.0b1", "1.0beta1", "1.0-Beta-1"],
          ["1.0c1", "1.0rc1", "1.0pre1", "1.0preview1", "1.0RC1"], ["1.0rc2"], ["1.0", "1_0"],
          ["1.0post1", "1.0POST1"], ["1.0z", "1.0Z"],
          ["1.0.0"], ["1.0.1"], ["1.9"], ["1.10"], ["2.0"], ["10"]]


def test_version_order_and_equality_on_the_board_and_the_host(tmp_path):
    from mptui.services.ota.keys import older

    rank = {v: n for n, group in enumerate(GROUPS) for v in group}
    pairs = [(a, b) for a in rank for b in rank]
    want = [str(int(rank[a] < rank[b])) for a, b in pairs]
    assert [str(int(older(a, b))) for a, b in pairs] == want
    lines = run_agent(tmp_path, (
        "from mptui_agent.release import older\n"
        f"for a, b in {pairs!r}:\n    print(int(older(a, b)))\n"))
    assert lines == want


def test_the_boards_file_keeps_good_ids_only_and_is_rewritten_only_on_change(tmp_path):
    from mptui.services.ota.keys import boards_file, known_boards, remember_board

    secrets = tmp_path / "secrets.toml"
    path = boards_file(secrets)
    remember_board(secrets, "NOT-AN-ID", "x")
    assert not path.exists() and known_boards(secrets) == {}
    remember_board(secrets, "0123abcd", "192.168.1.5")
    inode = path.stat().st_ino
    remember_board(secrets, "0123abcd", "192.168.1.5")  # seen again where it was: no write
    assert path.stat().st_ino == inode
    remember_board(secrets, "0123abcd", "w" * 300)
    assert path.stat().st_ino != inode
    assert known_boards(secrets) == {"0123abcd": "w" * 200}  # (a hostile file: cut short)
    path.write_text('{"0123abcd": 5, "bad id": "x", "fedcba98": ["a"]}')
    assert known_boards(secrets) == {"0123abcd": "5", "fedcba98": "['a']"}
    for text in ("[1, 2]", "{", ""):
        path.write_text(text)
        assert known_boards(secrets) == {}
