"""Secrets never leave the host: a folder made by `mptui ota init` sent to a real (virtual)
board by sync (the CLI), cp -r and watch; the secrets file never arrives, a private key only on
purpose, links to files outside the folder only on purpose, and --explain says which rule left
each file out. (The Files tab: tests/tui/test_files_secrets.py; OTA: tests/ota.)"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from synchelp import board_files, make_tree
from test_watch_mode import watching

PEM = (b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgwMbRvI0MBZhpF\n"
       b"-----END RSA PRIVATE KEY-----\n")
OPENSSH = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----\n"
SECRETS = ".mptui-secrets.toml"


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "mptui", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.fixture
def ota_folder(tmp_path):
    """A folder set up with `mptui ota init`, plus what a project holds: a git folder, a
    virtualenv, a private key, a link to a file outside."""
    proj = tmp_path / "proj"
    proj.mkdir()
    r = cli("ota", "init", cwd=proj)
    assert r.returncode == 0, r.stderr
    assert (proj / SECRETS).is_file()
    make_tree(proj, {".git/config": "[core]\n", "venv/pyvenv.cfg": "home = /usr\n",
                     "venv/lib/site.py": "x\n", "myenv/pyvenv.cfg": "home = /usr\n",
                     "myenv/m.py": "y\n", "certs/device.key": PEM, "lib/util.py": "U = 1\n",
                     "lib/util.pyc": b"\x00", "notes.txt~": "backup\n"})
    (tmp_path / "outside.txt").write_text("outside\n")
    (proj / "link.txt").symlink_to(tmp_path / "outside.txt")
    (proj / "inner-link.py").symlink_to(proj / "lib" / "util.py")
    return proj


SENT = {"mptui.toml", ".gitignore", "app/main.py", "lib/util.py", "inner-link.py"}


def lines_naming(text: str, word: str) -> list[str]:
    return [line for line in text.splitlines() if word in line]


def test_cli_sync_of_an_ota_folder(ota_folder, cli_env):
    board = cli_env
    make_tree(board / "x", {SECRETS: "put there by an older mptui\n"})
    r = cli("-d", "virtual:clitest", "sync", str(ota_folder), ":/x")
    assert r.returncode == 0, r.stderr
    assert set(board_files(board / "x")) == SENT | {SECRETS}  # kept (ignored), pointed out
    sent_line, on_board = lines_naming(r.stderr, SECRETS)
    assert "never sent to a board" in sent_line
    assert on_board == ("mptui: warning: .mptui-secrets.toml: mptui's OTA secrets file is on the "
                        "board: remove it (mptui rm :/x/.mptui-secrets.toml)")
    (board / "x" / SECRETS).unlink()
    [line] = lines_naming(r.stderr, "certs/device.key")
    assert "private key" in line and "--allow-secrets" in line
    [line] = lines_naming(r.stderr, "link.txt")
    assert "outside the folder" in line and "--follow-symlinks" in line

    r = cli("-d", "virtual:clitest", "sync", "--allow-secrets", "--follow-symlinks",
            str(ota_folder), ":/x")
    assert r.returncode == 0, r.stderr
    files = board_files(board / "x")
    assert set(files) == SENT | {"certs/device.key", "link.txt"}
    assert files["link.txt"] == b"outside\n" and files["certs/device.key"] == PEM
    assert not list(board.rglob(SECRETS)) and lines_naming(r.stderr, SECRETS)

    r = cli("-d", "virtual:clitest", "sync", "--dry-run", "--explain", str(ota_folder), ":/x")
    assert r.returncode == 0, r.stderr
    explained = [line.split(None, 1)[1] for line in r.stdout.splitlines()
                 if line.startswith("ignored")]
    assert explained == [
        ".git/ (default rule '.git')",
        "lib/util.pyc (default rule '*.pyc')",
        "myenv/ (default rule '(folders holding pyvenv.cfg)')",
        "notes.txt~ (default rule '*~')",
        "venv/ (default rule 'venv/')",
    ]


def test_user_rules_override_defaults_never_the_secrets_file(ota_folder, cli_env):
    (ota_folder / ".mptuiignore").write_text(f"!myenv/\n!{SECRETS}\n!*.pyc\napp/\n")
    r = cli("-d", "virtual:clitest", "sync", "--dry-run", "--explain", str(ota_folder), ":/")
    assert r.returncode == 0, r.stderr
    assert "new         myenv/m.py" in r.stdout and "new         lib/util.pyc" in r.stdout
    assert "ignored     app/ (.mptuiignore rule 'app/')" in r.stdout
    assert SECRETS not in r.stdout and lines_naming(r.stderr, SECRETS)


def test_cp_r_leaves_the_secrets_file_out_with_one_line_and_refuses_it_named(ota_folder,
                                                                             cli_env):
    board = cli_env
    r = cli("-d", "virtual:clitest", "cp", "-r", str(ota_folder), ":")
    assert r.returncode == 0, r.stderr  # left out of a folder: a note, not an error
    assert set(board_files(board / "proj")) == SENT
    [line] = lines_naming(r.stderr, SECRETS)
    assert line == f"mptui: cp: {ota_folder / SECRETS}: mptui's OTA secrets file (built in): never sent to a board"
    assert lines_naming(r.stderr, "device.key") and lines_naming(r.stderr, "link.txt")

    for extra in ((), ("--allow-secrets",)):
        r = cli("-d", "virtual:clitest", "cp", *extra, str(ota_folder / SECRETS), ":")
        assert r.returncode == 1
        assert r.stderr.splitlines() == [
            f"mptui: cp: {ota_folder / SECRETS}: mptui's OTA secrets file (built in): never sent to a board"]
        assert not list(board.rglob(SECRETS))

    # the same content under another name: still mptui's secrets, never sent
    copy = ota_folder.parent / "backup.toml"
    copy.write_bytes((ota_folder / SECRETS).read_bytes())
    r = cli("-d", "virtual:clitest", "cp", "--allow-secrets", str(copy), ":")
    assert r.returncode == 1 and "never sent to a board" in r.stderr
    assert not (board / "backup.toml").exists()

    # a key named on its own: refused unless asked for
    r = cli("-d", "virtual:clitest", "cp", str(ota_folder / "certs/device.key"), ":")
    assert r.returncode == 1 and "--allow-secrets sends it" in r.stderr
    assert not (board / "device.key").exists()
    r = cli("-d", "virtual:clitest", "cp", "--allow-secrets", str(ota_folder / "certs/device.key"), ":")
    assert r.returncode == 0, r.stderr
    assert (board / "device.key").read_bytes() == PEM


def test_the_secrets_file_an_mptui_toml_names(tmp_path, cli_env):
    proj = tmp_path / "p"
    make_tree(proj, {"mptui.toml": '[ota]\nversion = "1"\nsecrets = "keys/fleet.toml"\n',
                     "keys/fleet.toml": "# whatever it holds\nx = 1\n", "main.py": "m\n",
                     "id_ed25519": OPENSSH})
    r = cli("-d", "virtual:clitest", "sync", str(proj), ":/")
    assert r.returncode == 0, r.stderr
    assert set(board_files(cli_env)) == {"mptui.toml", "main.py"}
    assert lines_naming(r.stderr, "keys/fleet.toml") and lines_naming(r.stderr, "OpenSSH")


async def test_watch_never_uploads_the_secrets_file(ota_folder, session, board_root):
    async with watching(session, ota_folder) as events:
        await events.wait(lambda e: e.kind == "watching", "watching")
        assert not list(board_root.rglob(SECRETS))
        warned = [e.detail for e in events.seen if e.kind == "warning"]
        assert any(SECRETS in w for w in warned)
        mark = len(events.seen)
        (ota_folder / SECRETS).write_text((ota_folder / SECRETS).read_text() + "# again\n")
        (ota_folder / "app" / "new.py").write_text("N = 1\n")
        await events.wait(lambda e: e.kind == "uploaded" and e.path == "app/new.py",
                          "the upload of app/new.py", after=mark)
        os.replace(ota_folder / SECRETS, ota_folder / "moved.toml")  # same content, new name
        (ota_folder / "app" / "two.py").write_text("T = 2\n")
        await events.wait(lambda e: e.kind == "uploaded" and e.path == "app/two.py",
                          "the upload of app/two.py", after=mark)
        assert not list(board_root.rglob(SECRETS)) and not (board_root / "moved.toml").exists()
