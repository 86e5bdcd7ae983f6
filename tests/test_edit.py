"""`mptui edit :PATH...` with a scripted editor (a Python script as $EDITOR) on the virtual
board: written back only when changed, created when absent, errors and exit codes."""

from __future__ import annotations

import json
import shlex
import sys

import pytest
from helpers import run_cli

EDITOR = """
import json, os, sys
path = sys.argv[-1]
with open(os.environ["EDIT_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
action = os.environ.get("EDIT_ACTION", "")
if action == "fail":
    sys.exit(3)
if action.startswith("append:"):
    with open(path, "a") as f:
        f.write(action[7:])
if action.startswith("write:"):
    with open(path, "w") as f:
        f.write(action[6:])
"""


@pytest.fixture
def root(isolated_env):
    path = isolated_env / "data" / "boards" / "default"
    path.mkdir(parents=True)
    return path


@pytest.fixture
def editor(tmp_path):
    script = tmp_path / "editor script.py"
    script.write_text(EDITOR)
    log = tmp_path / "log"

    def edit(*paths, action="", var="EDITOR", extra=()):
        command = shlex.join([sys.executable, str(script), *extra])
        env = {var: command, "EDIT_LOG": str(log), "EDIT_ACTION": action}
        if var == "VISUAL":
            env["EDITOR"] = "false"
        return run_cli("-d", "virtual", "edit", *paths, env=env)

    edit.calls = lambda: [json.loads(line) for line in log.read_text().splitlines()]
    return edit


def test_a_change_is_written_back(root, editor):
    (root / "main.py").write_bytes(b"print(1)\n")
    r = editor(":main.py", action="append:print(2)\n", extra=["--wait", "two words"])
    assert r.returncode == 0, r.stderr
    assert (root / "main.py").read_bytes() == b"print(1)\nprint(2)\n"
    assert b"wrote /main.py (18 B)" in r.stderr
    args = editor.calls()[0]
    assert args[:2] == ["--wait", "two words"]  # split as a shell would
    assert args[2].endswith("/main.py") and not args[2].startswith(str(root))  # a copy here
    assert sorted(p.name for p in root.iterdir()) == ["main.py"]  # no temporary file left


def test_unchanged_is_not_written(root, editor):
    (root / "main.py").write_bytes(b"print(1)\n")
    before = (root / "main.py").stat().st_mtime_ns
    r = editor(":main.py")
    assert r.returncode == 0, r.stderr
    assert b"/main.py unchanged: not written" in r.stderr
    assert (root / "main.py").stat().st_mtime_ns == before


def test_new_files_and_several_at_once_and_visual_first(root, editor):
    (root / "lib").mkdir()
    r = editor(":lib/new.py", "new2.py", action="write:X = 1\n", var="VISUAL")
    assert r.returncode == 0, r.stderr
    assert (root / "lib" / "new.py").read_bytes() == b"X = 1\n"
    assert (root / "new2.py").read_bytes() == b"X = 1\n"
    assert len(editor.calls()) == 2
    r = editor(":empty.py")  # saved empty: not created
    assert r.returncode == 0 and b"/empty.py left empty: not created" in r.stderr
    assert not (root / "empty.py").exists()


def test_errors(root, editor):
    (root / "main.py").write_bytes(b"old\n")
    r = editor(":main.py", action="fail")
    assert r.returncode == 1
    assert b"the editor exited with status 3: /main.py not written" in r.stderr
    assert (root / "main.py").read_bytes() == b"old\n"
    (root / "d").mkdir()
    r = editor(":d")
    assert r.returncode == 1 and r.stderr.decode().strip().endswith("is a folder, not a file")
    r = run_cli("-d", "virtual", "edit", ":main.py", env={"EDITOR": "no-such-editor-here",
                                                          "VISUAL": ""})
    assert r.returncode == 1
    assert "the editor 'no-such-editor-here' could not start" in r.stderr.decode()
    r = run_cli("-d", "virtual", "edit", ":main.py", env={"EDITOR": "vi 'unclosed", "VISUAL": ""})
    assert r.returncode == 2 and b"is not a command line" in r.stderr
