"""An OTA release never carries mptui's secrets file, even when the release folder is the
project folder and the user's `ignore` lets every dot file through; a private key goes only
when `allow_secrets` names it. Pushed to a board running the real agent (push and the CLI)."""

from __future__ import annotations

import asyncio
import json
import sys

from agentboards import app_files, board_tree, release_tree

from mptui.services.ota import push
from mptui.services.ota.project import Secrets, load_project
from mptui.services.ota.serve import write_bundle

SECRETS = ".mptui-secrets.toml"
PEM = b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"


async def cli(*args, cwd):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mptui", *args, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, out.decode(), err.decode()


async def test_a_release_of_the_project_folder_never_carries_the_secrets(make_board, secrets,
                                                                          tmp_path):
    board = await make_board()
    proj = tmp_path / "proj"
    proj.mkdir()
    code, _, err = await cli("ota", "init", "--source", ".", cwd=proj)
    assert code == 0, err
    toml = proj / "mptui.toml"
    toml.write_text(toml.read_text().replace('ignore = ["__pycache__/", "*.pyc", ".*"]',
                                             f'ignore = ["!{SECRETS}"]'))
    Secrets(proj / SECRETS, secrets.password, secrets.signing_key).save()  # the board's
    # (the source folder exists: init makes no main.py in it; the release brings its own)
    for rel, data in {**app_files("1.0"), "certs/dev.key": PEM}.items():
        (proj / rel).parent.mkdir(parents=True, exist_ok=True)
        (proj / rel).write_bytes(data)

    project = load_project(toml)
    files = project.files()
    assert set(files) == {*app_files("1.0"), "mptui.toml", ".gitignore"}
    assert project.warnings == [
        f"{SECRETS}: mptui's OTA secrets file (built in): never sent to a board",
        ("certs/dev.key: looks like a private key (PEM): skipped "
         "(list it in mptui.toml [ota] allow_secrets to send it)")]

    r = await push(board.address, project)
    assert r.ok, r.error
    await board.wait_run("1.0")
    assert release_tree(board.root) == files
    assert not [p for p in board_tree(board.root) if p.endswith((SECRETS, ".key"))]

    bundle = tmp_path / "bundle"
    write_bundle(project, bundle)
    assert set(json.loads((bundle / "manifest.json").read_text())["files"]) == set(files)

    # the command line says what it left out, once
    (proj / "lib" / "mod_a.py").write_text("V = '1.0'\n# changed\n")
    code, _, err = await cli("ota", "push", "-d", board.address, cwd=proj)
    assert code == 0, err
    assert err.count("certs/dev.key: looks like a private key") == 1
    assert not [p for p in board_tree(board.root) if p.endswith((SECRETS, ".key"))]

    toml.write_text(toml.read_text().replace("[ota]\n", '[ota]\nallow_secrets = ["certs/*.key"]\n'))
    project = load_project(toml)
    assert project.files()["certs/dev.key"] == PEM and len(project.warnings) == 1
