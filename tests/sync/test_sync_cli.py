"""`mptui sync LOCAL :REMOTE`: the plan, the summary line, exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest
from synchelp import board_files, make_tree

from mptui.cli import build_parser, main
from mptui.commands.sync import sync_on

TREE = {"main.py": "print('hi')\n", "lib/a.py": "A = 1\n", "lib/b.py": "B = 2\n",
        "__pycache__/x.pyc": b"\x00"}


async def sync(session, capsys, *argv):
    """Run the command's work on the test board; (exit code, stdout, stderr)."""
    code = await sync_on(session, build_parser().parse_args(["sync", *argv]))
    out, err = capsys.readouterr()
    return code, out, err


async def test_plan_and_summary_lines(session, board_root, tmp_path, capsys):
    local = tmp_path / "proj"
    make_tree(local, TREE)

    code, out, _ = await sync(session, capsys, str(local), ":/")
    assert code == 0
    assert "new         lib/a.py (6 B)" in out
    assert out.splitlines()[-1].startswith("3 copied, 0 deleted, 0 unchanged")

    code, out, _ = await sync(session, capsys, str(local), ":/")
    assert out.splitlines() == ["up to date: nothing to copy", "0 copied, 0 deleted, 3 unchanged"]

    (local / "lib" / "b.py").write_text("B = 3\n")
    make_tree(board_root, {"extra.py": "x"})
    code, out, _ = await sync(session, capsys, "--dry-run", "--delete", str(local), ":/")
    assert out.splitlines() == ["changed     lib/b.py (6 B)", "delete      extra.py",
                                "dry run: 1 to copy, 1 to delete, 2 unchanged"]
    assert (board_root / "lib" / "b.py").read_text() == "B = 2\n"

    code, out, _ = await sync(session, capsys, str(local), ":/")
    assert "board only  extra.py (kept; --delete removes it)" in out
    assert out.splitlines()[-1].startswith("1 copied, 0 deleted, 2 unchanged")

    code, out, _ = await sync(session, capsys, "--delete", str(local), ":/")
    assert out.splitlines()[-1] == "0 copied, 1 deleted, 3 unchanged"
    assert set(board_files(board_root)) == {"main.py", "lib/a.py", "lib/b.py"}


async def test_board_folder_that_is_a_file(session, board_root, tmp_path, capsys):
    make_tree(board_root, {"afile": "x"})
    (tmp_path / "p").mkdir()
    code, _, err = await sync(session, capsys, str(tmp_path / "p"), ":/afile")
    assert code == 1
    assert err.strip() == "mptui: sync: /afile: not a folder on the board"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["LOCAL", "/no-colon"], "must start with ':'"),
        (["missing-folder", ":/"], "not a local folder"),
        (["LOCAL", ":/", "--after", "reset"], "--after needs --watch"),
        (["LOCAL", ":/", "--watch", "--dry-run"], "do not go together"),
    ],
)
def test_usage_errors(tmp_path, capsys, argv, message):
    argv = [str(tmp_path) if a == "LOCAL" else a for a in argv]
    assert main(["-d", "virtual:never-started", "sync", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_the_installed_command(tmp_path, cli_env):
    """The whole program, as a user runs it (its own process, its own virtual board)."""
    make_tree(tmp_path / "proj", TREE)
    run = subprocess.run(
        [sys.executable, "-m", "mptui", "-d", "virtual:clitest", "sync", str(tmp_path / "proj"),
         ":/"], check=False, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1].startswith("3 copied, 0 deleted, 0 unchanged")
    assert set(board_files(cli_env)) == {"main.py", "lib/a.py", "lib/b.py"}
