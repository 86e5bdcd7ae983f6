"""Sync at its edges, against a real (virtual) board: what a plan counts and reports, what is
only on the board (whole folders, folders that keep an ignored file, names that are not one,
mptui's secrets file), local names and files that change between plan and apply, and the
scope of a partial plan. The common cases: test_sync_engine.py."""

from __future__ import annotations

import os

import pytest
from synchelp import board_files, make_tree

from mptui.services.boardfs import BoardFSAdapter
from mptui.services.localfs import LocalFS
from mptui.services.sync import CHANGED, EXTRA, NEW, SAME, Syncer, SyncOptions

KEY = b"-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n"


def syncer_for(session, project, remote="/", **options):
    return Syncer(LocalFS(), project, BoardFSAdapter(session), remote, SyncOptions(**options))


async def test_what_a_plan_counts_and_apply_reports(session, board_root, tmp_path):
    project = tmp_path / "p"
    make_tree(project, {"a.py": "aa", "same.py": "same", "d/b.py": "bbb", "d/e/c.py": "c"})
    (project / "n").mkdir()
    make_tree(board_root, {"same.py": "same", "a.py": "old", "gone.py": "x", "d/e/stale": "1"})
    syncer = syncer_for(session, project, delete=True)
    plan = await syncer.plan()
    assert [(i.kind, i.path, i.is_dir, i.size) for i in plan.items] == [  # (folders both
        (NEW, "n", True, 0), (CHANGED, "a.py", False, 2), (NEW, "d/b.py", False, 3), (NEW, "d/e/c.py", False, 1),
        (SAME, "same.py", False, 4),
        (EXTRA, "d/e/stale", False, 1), (EXTRA, "gone.py", False, 1)]  # sides have: no item)
    assert plan.of(SAME, dirs=True) == [] and [i.path for i in plan.of(NEW, dirs=False)] == [
        "d/b.py", "d/e/c.py"]
    assert [i.path for i in plan.unchanged] == ["same.py"] and plan.copy_bytes == 6
    assert [i.path for i in plan.folders_to_make] == ["n"] and not plan.up_to_date
    done = []
    seen = []
    result = await syncer.apply(plan, progress=seen.append,
                                on_done=lambda item, what: done.append((what, item.path)))
    assert done == [("made", "n"), ("copied", "a.py"), ("copied", "d/b.py"), ("copied", "d/e/c.py"),
                    ("deleted", "d/e/stale"), ("deleted", "gone.py")]
    assert (result.copied, result.deleted, result.unchanged, result.bytes) == (3, 2, 1, 6)
    assert result.summary() == "3 copied, 2 deleted, 1 unchanged" and result.seconds >= 0
    assert seen[-1].done == seen[-1].total == 6 and seen[-1].files_done == 3
    assert board_files(board_root) == {"a.py": b"aa", "same.py": b"same", "d/b.py": b"bbb",
                                       "d/e/c.py": b"c"} and (board_root / "n").is_dir()
    assert (await syncer.plan()).up_to_date  # the tree it kept matches the board's
    assert (await syncer_for(session, project, delete=True).plan()).up_to_date


async def test_what_is_only_on_the_board(session, board_root, tmp_path):
    project = tmp_path / "p"
    make_tree(project, {".mptuiignore": "*.log\n", "main.py": "m", "kept/x.py": "x"})
    make_tree(board_root, {"old/a.py": "1", "old/sub/b.py": "2", "old/sub/c.py": "3",
                           "logs/run.log": "keep me", "logs/stale.py": "s",
                           "kept/y.py": "y", "main.py": "m", "empty/.keep": "",
                           "a\\b.py": "hostile", ".mptui-secrets.toml": "k"})
    (board_root / "empty" / ".keep").unlink()
    syncer = syncer_for(session, project, delete=True)
    plan = await syncer.plan()
    extras = [(i.path, i.is_dir, i.files) for i in plan.of(EXTRA)]
    assert extras == [("empty", True, 0),
                      ("kept/y.py", False, 0), ("logs/stale.py", False, 0), ("old", True, 3)]
    assert "'a\\\\b.py': the board lists a name that is not one; left alone" in plan.warnings
    assert (".mptui-secrets.toml: mptui's OTA secrets file is on the board: remove it "
            "(mptui rm :/.mptui-secrets.toml)") in plan.warnings
    await syncer.apply(plan)
    assert (await syncer.plan(only=["old", "empty"])).items == []  # the tree it keeps forgot
    assert board_files(board_root) == {  # the secrets file is never touched: the user's
        ".mptui-secrets.toml": b"k", "a\\b.py": b"hostile", "kept/x.py": b"x",
        "logs/run.log": b"keep me", "main.py": b"m"}
    assert sorted(os.listdir(board_root)) == [".mptui-secrets.toml", "a\\b.py", "kept", "logs",
                                              "main.py"]
    make_tree(board_root, {"old.py": "o"})
    plan = await syncer_for(session, project).plan()  # without delete: nothing to delete
    assert [i.path for i in plan.of(EXTRA)] == ["old.py"] and plan.to_delete == []
    assert plan.up_to_date


async def test_local_names_and_files_that_change_before_apply(session, board_root, tmp_path):
    project = tmp_path / "p"
    make_tree(project, {"a.py": "a", "b.py": "b", "c.py": "c"})
    (project / os.fsdecode(b"bad\xff.py")).write_text("x")
    syncer = syncer_for(session, project)
    plan = await syncer.plan()
    assert "'bad\\udcff.py': the name is not UTF-8; skipped" in plan.warnings
    assert [i.path for i in plan.to_copy] == ["a.py", "b.py", "c.py"]
    (project / "a.py").unlink()  # gone since the plan
    (project / "b.py").write_bytes(KEY)  # a key since the plan: the bytes sent are checked
    result = await syncer.apply(plan)
    assert result.copied == 1 and board_files(board_root) == {"c.py": b"c"}
    with pytest.raises(NotADirectoryError):
        await syncer_for(session, project / "c.py").plan()


async def test_a_partial_plan_takes_only_its_scope(session, board_root, tmp_path):
    project = tmp_path / "p"
    outside = tmp_path / "outside.py"
    outside.write_text("o")
    make_tree(project, {".mptuiignore": "*.log\n", "a.py": "a", "x.log": "l", "d/b.py": "b",
                        "keys/k.pem": KEY})
    (project / "link.py").symlink_to(outside)
    make_tree(board_root, {"stale.py": "s", "d/old.py": "o", "half.py.mptui~": "h"})
    syncer = syncer_for(session, project, delete=True)
    await syncer.refresh()
    plan = await syncer.plan(only=["x.log", "link.py", "nothing.py", "keys/k.pem", "d", "/", ""])
    assert [(i.kind, i.path) for i in plan.items] == [
        (NEW, "d/b.py"), (EXTRA, "d/old.py")]  # not stale.py: out of scope
    assert plan.leftovers == []  # cleaned by a whole sync, not a partial one
    assert plan.warnings == [
        "keys/k.pem: looks like a private key (PEM): skipped (--allow-secrets sends it)",
        "link.py: a link to a file outside the folder; skipped (--follow-symlinks sends it)"]
    plan = await syncer_for(session, project, delete=True).plan(only=["a.py"])
    assert [(i.kind, i.path) for i in plan.items] == [(NEW, "a.py")]
    follow = Syncer(LocalFS(), project, BoardFSAdapter(session), "/",
                    SyncOptions(policy=syncer.options.policy.__class__(follow_symlinks=True)))
    plan = await follow.plan(only=["link.py"])
    assert [(i.kind, i.path, i.size) for i in plan.items] == [(NEW, "link.py", 1)]


async def test_mpy_beside_its_py_is_copied_not_compiled(session, board_root, tmp_path):
    project = tmp_path / "p"
    make_tree(project, {"lib/u.py": "X = 1\n", "lib/u.mpy": b"M\x06", "lib/v.py": "Y = 2\n"})
    make_tree(board_root, {"lib/v.py": "Y = 0\n"})
    syncer = syncer_for(session, project, mpy=("lib/*.py",))
    plan = await syncer.plan()
    assert plan.warnings == ["lib/u.py: lib/u.mpy is here too; copied, not compiled"]
    assert plan.stale == ["lib/v.py"]  # it would shadow its .mpy: removed after the copies
    assert {i.path: i.source for i in plan.to_copy} == {
        "lib/u.mpy": "lib/u.mpy", "lib/u.py": "lib/u.py", "lib/v.mpy": "lib/v.py"}
    assert list(plan.compiled) == ["lib/v.mpy"]
    partial = await syncer.plan(only=["lib/v.py"])  # a .py in scope covers its .mpy
    assert sorted((i.kind, i.path) for i in partial.items) == [(NEW, "lib/v.mpy"),
                                                                (EXTRA, "lib/v.py")]
    assert partial.to_delete == []
    partial = await syncer_for(session, project, mpy=("lib/*.py",), delete=True).plan(
        only=["lib/v.py"])
    assert [i.path for i in partial.to_delete] == ["lib/v.py"]
