"""The one copier serves `mptui cp -r` and the Files tab (copy_paths) alike: the same tree
gives the same result and the same hash skip, both ways; and the ignore set's parts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from synchelp import board_files, make_tree

from mptui.services.boardfs import BoardFSAdapter
from mptui.services.copier import CopyOptions, copy_paths, move_paths
from mptui.services.ignore import IgnoreRules, UploadPolicy
from mptui.services.localfs import LocalFS
from mptui.services.secret_scan import secret_in

TREE = {"main.py": "print('hi')\n", "lib/a.py": "A = 1\n", "lib/deep/b.bin": bytes(range(256)),
        "empty.txt": b"", ".git/HEAD": "ref\n", "lib/__pycache__/a.pyc": b"\x00",
        "keys/k.pem": b"-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n"}
SENT = {"proj/main.py", "proj/lib/a.py", "proj/lib/deep/b.bin", "proj/empty.txt"}


def cp(*args):
    r = subprocess.run([sys.executable, "-m", "mptui", "-d", "virtual:clitest", "cp", *args],
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    return r.stderr.splitlines()


async def test_cli_and_files_tab_copy_the_same_way(tmp_path, cli_env, session, board_root):
    src = tmp_path / "src"
    make_tree(src / "proj", TREE)
    local, board = LocalFS(), BoardFSAdapter(session)

    async def tab_copy(force=False):
        return await copy_paths(local, [str(src / "proj")], board, "/", None,
                                CopyOptions(force=force))

    err = cp("-r", str(src / "proj"), ":")
    result = await tab_copy()
    assert set(board_files(cli_env)) == set(board_files(board_root)) == SENT
    assert board_files(cli_env) == board_files(board_root)
    assert err[-1] == f"{result.files} copied, {result.unchanged} unchanged" == "4 copied, 0 unchanged"
    assert [line for line in err if "k.pem" in line] == [f"mptui: cp: {w}" for w in result.warnings]

    (src / "proj" / "lib" / "a.py").write_text("A = 2\n")
    err = cp("-r", str(src / "proj"), ":")
    result = await tab_copy()
    assert err[-1] == f"{result.files} copied, {result.unchanged} unchanged" == "1 copied, 3 unchanged"
    assert board_files(cli_env) == board_files(board_root)
    err = cp("-rf", str(src / "proj"), ":")
    result = await tab_copy(force=True)
    assert err[-1] == f"{result.files} copied, {result.unchanged} unchanged" == "4 copied, 0 unchanged"

    # and back down into a folder (proj/ in it): the same files, then nothing to copy
    (tmp_path / "cli-down").mkdir()
    (tmp_path / "tab-down").mkdir()
    for attempt in ("4 copied, 0 unchanged", "0 copied, 4 unchanged"):
        err = cp("-r", ":proj", str(tmp_path / "cli-down"))
        result = await copy_paths(board, ["/proj"], local, str(tmp_path / "tab-down"))
        assert err[-1] == f"{result.files} copied, {result.unchanged} unchanged" == attempt
    cli_down, tab_down = (
        {p.relative_to(tmp_path).as_posix().split("/", 1)[1]: p.read_bytes()
         for p in (tmp_path / side).rglob("*") if p.is_file()}
        for side in ("cli-down", "tab-down"))
    assert cli_down == tab_down == board_files(board_root)


# -- the ignore set ---------------------------------------------------------------------------


def test_why_names_the_rule(tmp_path):
    make_tree(tmp_path, {"env/pyvenv.cfg": "", "sub/.mptuiignore": "*.log\n", ".mptui-secrets.toml": ""})
    rules = IgnoreRules(root=tmp_path)
    rules.add("", ["build/", "!keep.pyc"])
    rules.load_dir("sub")
    assert rules.why(".git/config") == "in .git/: default rule '.git'"
    assert rules.why("build", True) == ".mptuiignore rule 'build/'"
    assert rules.why("sub/x.log") == "sub/.mptuiignore rule '*.log'"
    assert rules.why("env", True) == "default rule '(folders holding pyvenv.cfg)'"
    assert rules.why("keep.pyc") is None and rules.why("other.pyc") == "default rule '*.pyc'"
    assert rules.why("a/.mptui-secrets.toml") == "mptui's OTA secrets file (built in)"
    rules.add("", ["!.mptui-secrets.toml", "!env/"])  # a user rule cannot send the secrets
    assert rules.is_ignored(".mptui-secrets.toml") and not rules.is_ignored("env", True)


@pytest.mark.parametrize(("data", "what"), [
    (b"x = 1\n-----BEGIN RSA PRIVATE KEY-----\nAAA\n", "a private key (PEM RSA)"),
    (b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n", "a private key (PEM ENCRYPTED)"),
    (b"-----BEGIN OPENSSH PRIVATE KEY-----\n", "an OpenSSH private key"),
    (b"PuTTY-User-Key-File-3: ssh-ed25519\n", "a PuTTY private key"),
    (b'signing_key = "ab"\npassword = "x"\n', "mptui's OTA secrets (signing key, password)"),
    (b"# mptui OTA secrets: keep out\n", "mptui's OTA secrets (signing key, password)"),
    (b'password = "wifi"\n', None),  # a board's own settings: not mptui's secrets
    (b'signing_key = "ab"\nssid = "x"\n', None),
    (b"-----BEGIN CERTIFICATE-----\n", None),  # a certificate is public
    (b"-----BEGIN PUBLIC KEY-----\n", None),
    (bytes(range(256)) * 4, None),
])
def test_secrets_by_content(data, what):
    found = secret_in(data)
    assert (found.what if found else None) == what


def test_the_policy_says_how_to_send_one():
    pem = b"-----BEGIN PRIVATE KEY-----\n"
    assert UploadPolicy().refuse("k.pem", pem) == (
        "k.pem: looks like a private key (PEM): skipped (--allow-secrets sends it)")
    assert UploadPolicy(allow_secrets=True).refuse("k.pem", pem) is None
    assert UploadPolicy(allowed=("certs/*.pem",)).refuse("certs/k.pem", pem) is None
    assert UploadPolicy(allowed=("certs/*.pem",)).refuse("k.pem", pem)
    ota = b'signing_key = "ab"\n'
    assert UploadPolicy(allow_secrets=True).refuse("s.toml", ota) == (
        "s.toml: holds mptui's OTA secrets (signing key, password): never sent to a board")


def test_cp_dry_run_explains_and_copies_nothing(tmp_path, cli_env):
    make_tree(tmp_path / "proj", TREE)
    r = subprocess.run([sys.executable, "-m", "mptui", "-d", "virtual:clitest", "cp", "-rn",
                        "--explain", str(tmp_path / "proj"), ":"],
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert f"copy        {tmp_path / 'proj' / 'lib' / 'a.py'} -> /proj/lib/a.py (6 B)" in out
    assert [line for line in out if line.startswith("ignored")] == [
        f"ignored     {tmp_path / 'proj' / '.git'}/ (default rule '.git')",
        f"ignored     {tmp_path / 'proj' / 'lib' / '__pycache__'}/ (default rule '__pycache__')"]
    assert out[-1] == "dry run: 4 to copy, 0 unchanged, 2 ignored"
    assert "k.pem: looks like a private key" in r.stderr
    assert not cli_env.exists() or board_files(cli_env) == {}


async def test_a_move_keeps_what_it_did_not_send(tmp_path, session, board_root):
    make_tree(tmp_path / "proj", TREE)
    result = await move_paths(LocalFS(), [str(tmp_path / "proj")], BoardFSAdapter(session), "/")
    assert result.files == 4 and set(board_files(board_root)) == SENT
    left = {p.relative_to(tmp_path).as_posix() for p in (tmp_path / "proj").rglob("*") if p.is_file()}
    assert left == {"proj/.git/HEAD", "proj/lib/__pycache__/a.pyc", "proj/keys/k.pem"}
    assert not (tmp_path / "proj" / "lib" / "deep").exists()  # emptied: removed


# -- many files in one go ---------------------------------------------------------------------


async def test_a_package_goes_to_a_board_in_one_pipelined_write(tmp_path, session, board_root):
    """Twenty files: one piece of code run for their data (the write stream), not one per
    file; every file whole, progress for each one and for the whole copy ending at its size."""
    files = {f"pkg/m{i:02}.py": f"X = {i}\n" * (i * 30) for i in range(20)}
    make_tree(tmp_path / "proj", files)
    board = BoardFSAdapter(session)
    await board.mkdir("/proj")  # (and the helper is loaded: what is counted is the copy)
    await session.fs.tree_hashes("/proj")
    real, writes = session.transport.write, [0]

    async def counted(data: bytes) -> None:
        writes[0] += data.count(b"_mptui.wb(")
        await real(data)

    session.transport.write = counted
    seen = []
    result = await copy_paths(LocalFS(), [str(tmp_path / "proj" / "pkg")], board, "/proj",
                              seen.append)
    session.transport.write = real
    assert result.files == 20 and writes[0] == 1
    assert board_files(board_root) == {f"proj/{k}": v.encode() for k, v in files.items()}
    assert seen[-1].done == seen[-1].total == sum(len(v) for v in files.values())
    assert seen[-1].files_done == 20
    done = [p.done for p in seen]
    assert done == sorted(done)  # never backwards


async def test_one_file_the_board_refuses_raises_its_error_and_the_others_are_written(
        session, board_root):
    (board_root / "pkg").mkdir()
    files = [("/pkg/a.py", b"A = 1\n", None), ("/nodir/b.py", b"B = 2\n", None),
             ("/pkg/c.py", b"C = 3\n", None)]
    with pytest.raises(FileNotFoundError) as e:
        await BoardFSAdapter(session).write_many(files)
    assert e.value.filename == "/nodir/b.py"
    assert (board_root / "pkg" / "a.py").read_text() == "A = 1\n"
    assert (board_root / "pkg" / "c.py").read_text() == "C = 3\n"
    assert sorted(os.listdir(board_root)) == ["pkg"]
    assert sorted(os.listdir(board_root / "pkg")) == ["a.py", "c.py"]  # no temporary file left
