"""Content diffs between local files and a board's (services/rdiff.py, `mptui diff`): the
unified diff of what a copy would change, binary files marked, a file not on the board all
new; the same for a sync plan's changed files."""

from __future__ import annotations

from helpers import run_cli

from mptui.services.boardfs import BoardFSAdapter
from mptui.services.localfs import LocalFS
from mptui.services.rdiff import diff_bytes, file_diff, plan_item_diff
from mptui.services.sync import CHANGED, Syncer


def test_diff_bytes_text_binary_same():
    d = diff_bytes(b"a\nb\nc\n", b"a\nB\nc\n", "x.py", ":x.py")
    assert d.text.splitlines() == ["--- :x.py", "+++ x.py", "@@ -1,3 +1,3 @@", " a", "-B", "+b",
                                   " c"]
    assert not d.same and not d.binary and d.summary == ":x.py -> x.py: +1 -1 lines"
    assert diff_bytes(b"same", b"same", "x", ":x").same
    b = diff_bytes(b"\x00\x01", b"text\n", "x.bin", ":x.bin")
    assert b.binary and b.text == "" and "binary files x.bin (2 B)" in b.summary
    assert diff_bytes(b"\xff\xfe", b"x", "x", ":x").binary  # not UTF-8: binary
    no_eol = diff_bytes(b"a\n", b"a", "x", ":x").text
    assert "\\ No newline at end of file" in no_eol


async def test_file_diff_reads_the_board_now(session, board_root, tmp_path):
    (tmp_path / "m.py").write_text("print(1)\nprint(2)\n")
    (board_root / "m.py").write_text("print(1)\n")
    d = await file_diff(LocalFS(), str(tmp_path / "m.py"), BoardFSAdapter(session), "/m.py")
    assert d.text.endswith("@@ -1 +1,2 @@\n print(1)\n+print(2)\n")
    (board_root / "m.py").write_text("print(1)\nprint(2)\n")  # changed behind our back
    d = await file_diff(LocalFS(), str(tmp_path / "m.py"), BoardFSAdapter(session), "/m.py")
    assert d.same
    d = await file_diff(LocalFS(), str(tmp_path / "m.py"), BoardFSAdapter(session), "/new.py")
    assert d.board_name == ":/new.py (not on the board)"
    assert d.text.endswith("@@ -0,0 +1,2 @@\n+print(1)\n+print(2)\n")


async def test_plan_items_diff(session, board_root, tmp_path):
    local = tmp_path / "proj"
    local.mkdir()
    (local / "main.py").write_text("x = 2\n")
    (local / "data.bin").write_bytes(b"\x00new")
    (board_root / "main.py").write_text("x = 1\n")
    (board_root / "data.bin").write_bytes(b"\x00old")
    syncer = Syncer(LocalFS(), local, BoardFSAdapter(session), "/")
    plan = await syncer.plan()
    diffs = {i.path: await plan_item_diff(syncer, plan, i) for i in plan.of(CHANGED)}
    assert diffs["main.py"].text.splitlines()[-2:] == ["-x = 1", "+x = 2"]
    assert diffs["data.bin"].binary


def test_cli_diff(isolated_env, tmp_path):
    board = isolated_env / "data" / "boards" / "default"
    board.mkdir(parents=True)
    (board / "main.py").write_text("a = 1\n")
    (tmp_path / "main.py").write_text("a = 2\n")
    r = run_cli("-d", "virtual", "diff", str(tmp_path / "main.py"), ":main.py")
    assert r.returncode == 1  # they differ, as diff(1) says it
    assert r.stdout.decode().splitlines()[2:] == ["@@ -1 +1 @@", "-a = 1", "+a = 2"]
    (board / "main.py").write_text("a = 2\n")
    r = run_cli("-d", "virtual", "diff", str(tmp_path / "main.py"), ":main.py")
    assert (r.returncode, r.stdout) == (0, b"")
    (board / "b.bin").write_bytes(b"\x00\x01")
    r = run_cli("-d", "virtual", "diff", str(tmp_path / "main.py"), ":b.bin")
    assert r.returncode == 1 and r.stdout.decode() == (
        f"Binary files {tmp_path / 'main.py'} and :b.bin differ\n")
    r = run_cli("-d", "virtual", "diff", ":main.py", str(tmp_path / "main.py"))
    assert r.returncode == 2
