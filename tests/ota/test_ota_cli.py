"""The `mptui ota` command line: init, install over the engine, bundle, errors; the project
file's rules."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from mptui.services.ota.install import agent_version
from mptui.services.ota.project import ProjectError, glob_match, ignored, load_project


def cli(*args, cwd, env=None, check=True):
    proc = subprocess.run([sys.executable, "-m", "mptui", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})}, check=False)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_init_writes_project_secrets_and_gitignore(tmp_path):
    out = cli("ota", "init", "--version", "0.3.0", cwd=tmp_path)
    secrets = (tmp_path / ".mptui-secrets.toml").read_text()
    assert "password = " in secrets and "signing_key = " in secrets
    for line in secrets.splitlines()[1:]:  # no secret value ever reaches the terminal
        value = line.split("=", 1)[1].strip().strip('"')
        assert value not in out.stdout + out.stderr
    assert stat.S_IMODE((tmp_path / ".mptui-secrets.toml").stat().st_mode) == 0o600
    assert "/.mptui-secrets.toml" in (tmp_path / ".gitignore").read_text().splitlines()
    project = load_project(tmp_path / "mptui.toml")
    assert project.version == "0.3.0" and project.agent["port"] == 2018
    assert project.agent["bind"] == "127.0.0.1"  # loopback unless asked (PROTOCOL.md)
    assert set(project.files()) == {"main.py"}
    assert "password=set" in repr(project.secrets) and project.secrets.password not in repr(project.secrets)
    again = cli("ota", "init", cwd=tmp_path, check=False)
    assert again.returncode == 2 and "already has an [ota] table" in again.stderr


def test_install_over_the_engine_and_bundle(tmp_path):
    cli("ota", "init", "--no-password", cwd=tmp_path)
    data = tmp_path / "data"
    (tmp_path / "app" / "lib").mkdir()
    (tmp_path / "app" / "lib" / "util.py").write_text("X = 1\n")
    (tmp_path / "app" / "__pycache__").mkdir()
    (tmp_path / "app" / "__pycache__" / "junk.pyc").write_bytes(b"x")
    out = cli("-d", "virtual:inst", "ota", "install", "--port", "2345", "--no-reset", cwd=tmp_path,
              env={"MPTUI_DATA_DIR": str(data)})
    assert f"agent {agent_version()} installed" in out.stdout and "boot.py hook added" in out.stdout
    board = data / "boards" / "inst"
    settings = json.loads((board / "config" / "mptui_agent.json").read_text())
    assert settings["port"] == 2345 and settings["login"] == "" and settings["bind"] == "127.0.0.1"
    # the board keeps its own signing key, never the project's
    project = load_project(tmp_path / "mptui.toml")
    assert project.secrets.signing_key not in json.dumps(settings)
    assert settings["sign"] == project.secrets.board_signing_key(settings["id"])
    assert (board / "mptui_agent" / "ota.mpy").exists() and not (board / "mptui_agent" / "ota.py").exists()
    out = cli("-d", "virtual:inst", "ota", "install", "--py", "--no-reset", cwd=tmp_path,
              env={"MPTUI_DATA_DIR": str(data)})
    assert "boot.py hook already there" in out.stdout
    assert (board / "mptui_agent" / "ota.py").exists() and not (board / "mptui_agent" / "ota.mpy").exists()

    out = cli("ota", "bundle", "-o", "b", cwd=tmp_path)
    assert "2 files" in out.stdout and "signed for 1 board" in out.stdout
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert set(manifest["files"]) == {"main.py", "lib/util.py"}
    assert list(manifest["sigs"]) == [settings["id"]] and len(manifest["sigs"][settings["id"]]) == 64
    for _size, sha in manifest["files"].values():
        assert (tmp_path / "b" / "f" / sha).is_file()


def test_usage_errors_exit_2(tmp_path):
    r = cli("ota", "push", "-d", "ota://127.0.0.1:1", cwd=tmp_path, check=False)
    assert r.returncode == 2 and "mptui.toml" in r.stderr
    cli("ota", "init", cwd=tmp_path)
    r = cli("ota", "push", cwd=tmp_path, check=False)
    assert r.returncode == 2 and "which board?" in r.stderr
    r = cli("ota", "push", "--all", cwd=tmp_path, check=False)
    assert r.returncode == 2 and "no boards listed" in r.stderr
    r = cli("ota", "push", "-d", "ota://127.0.0.1:1", cwd=tmp_path, check=False)
    assert r.returncode == 1 and "FAILED: board unreachable" in r.stdout
    (tmp_path / "app" / "boot.py").write_text("x")
    r = cli("ota", "bundle", cwd=tmp_path, check=False)
    assert r.returncode == 2 and "boot.py" in r.stderr and "protected" in r.stderr


@pytest.mark.parametrize("rel,pattern,match", [
    ("main.py", "**", True), ("lib/a/b.py", "lib/**", True), ("lib/a/b.py", "*.py", True),
    ("lib/a/b.py", "lib/*.py", False), ("lib/b.py", "lib/*.py", True), ("x/lib/b.py", "lib/**", False),
    ("a.txt", "*.py", False),
])
def test_glob(rel, pattern, match):
    assert glob_match(rel, pattern) is match


@pytest.mark.parametrize("rel,pattern,match", [
    ("lib/__pycache__/a.pyc", "__pycache__/", True), ("a.pyc", "*.pyc", True),
    (".git/config", ".*", True), ("lib/.hidden", ".*", True), ("tests/x.py", "tests/", True),
    ("lib/tests.py", "tests/", False), ("docs/a/b.md", "docs/**", True), ("main.py", ".*", False),
])
def test_ignore(rel, pattern, match):
    assert ignored(rel, pattern) is match


def test_bad_project_files(tmp_path):
    toml = tmp_path / "mptui.toml"
    for text, words in (('[ota]\n', "version"), ('[ota]\nversion = "1"\nmpy = "x"\n', "mpy"),
                        ('[ota]\nversion = "1"\n[ota.agent]\nport = "x"\n', "port"),
                        ('[ota\n', "mptui.toml"), ('x = 1\n', "[ota]")):
        toml.write_text(text)
        with pytest.raises(ProjectError, match=words):
            load_project(toml)


def test_install_warns_when_the_agent_listens_beyond_the_board(tmp_path):
    cli("ota", "init", cwd=tmp_path)
    env = {"MPTUI_DATA_DIR": str(tmp_path / "data")}
    quiet = cli("-d", "virtual:w", "ota", "install", "--no-reset", cwd=tmp_path, env=env)
    assert "warning" not in quiet.stderr  # loopback: as init wrote it
    loud = cli("-d", "virtual:w", "ota", "install", "--bind", "0.0.0.0", "--no-reset",
               cwd=tmp_path, env=env)
    assert "warning" in loud.stderr and "OTA on 0.0.0.0:2018 listens beyond the board" in loud.stderr
    settings = json.loads((tmp_path / "data/boards/w/config/mptui_agent.json").read_text())
    assert settings["bind"] == "0.0.0.0"
