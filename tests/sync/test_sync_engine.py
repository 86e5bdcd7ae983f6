"""Sync against a real (virtual) board: plans, copies only what changed, deletes, ignores,
cleans up after interrupted copies, compiles to .mpy."""

from __future__ import annotations

import os

import pytest
from synchelp import board_files, board_session, make_tree

from mptui.board import BoardError
from mptui.services.boardfs import BoardFSAdapter
from mptui.services.localfs import LocalFS
from mptui.services.mpy import MpyCompiler, MpyError
from mptui.services.sync import CHANGED, EXTRA, NEW, SAME, Syncer, SyncOptions

PROJECT = {
    "main.py": "import lib.util\nprint(lib.util.VALUE)\n",
    "boot.py": "# boot\n",
    "lib/__init__.py": "",
    "lib/util.py": "VALUE = 42\n",
    "lib/data/table.bin": bytes(range(256)) * 8,
    "notes.log": "not for the board\n",
    "lib/__pycache__/util.cpython-311.pyc": b"\x00pyc",
    "lib/old.pyc": b"\x00pyc",
    ".git/HEAD": "ref: refs/heads/main\n",
    ".mptuiignore": "*.log\n",
}
SYNCED = {k: v for k, v in PROJECT.items()
          if not k.endswith((".log", ".pyc")) and not k.startswith(".")}


def _bytes(tree):
    return {k: v.encode() if isinstance(v, str) else v for k, v in tree.items()}


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    make_tree(root, PROJECT)
    return root


def syncer_for(session, project, remote="/", **options):
    return Syncer(LocalFS(), project, BoardFSAdapter(session), remote, SyncOptions(**options))


async def test_first_sync_copies_all_and_second_nothing(session, board_root, project):
    syncer = syncer_for(session, project)
    plan = await syncer.plan()
    assert {i.path for i in plan.to_copy} == set(SYNCED)
    assert {i.path for i in plan.folders_to_make} == {"lib", "lib/data"}
    result = await syncer.apply(plan)
    assert (result.copied, result.deleted, result.unchanged) == (len(SYNCED), 0, 0)
    assert board_files(board_root) == _bytes(SYNCED)

    again = syncer_for(session, project)  # a fresh start: hashes come from the board
    plan = await again.plan()
    assert plan.up_to_date and not plan.to_copy
    result = await again.apply(plan)
    assert result.summary() == f"0 copied, 0 deleted, {len(SYNCED)} unchanged"


async def test_only_the_changed_file_is_copied(session, board_root, project):
    syncer = syncer_for(session, project)
    await syncer.apply(await syncer.plan())
    (project / "lib" / "util.py").write_text("VALUE = 43\n")

    plan = await syncer_for(session, project).plan()
    assert [(i.kind, i.path) for i in plan.items if i.kind != SAME] == [(CHANGED, "lib/util.py")]
    result = await syncer.apply(plan)
    assert (result.copied, result.unchanged) == (1, len(SYNCED) - 1)
    assert (board_root / "lib" / "util.py").read_text() == "VALUE = 43\n"
    out = await session.exec("import sys\nsys.modules.pop('lib.util',None)\nimport lib.util\n"
                             "print(lib.util.VALUE)")
    assert out.strip() == b"43"


async def test_delete_removes_what_is_only_on_the_board(session, board_root, project):
    make_tree(board_root, {"stale.py": "x", "old/a.py": "a", "old/deep/b.py": "b",
                           "lib/gone.py": "g", "__pycache__/keep.pyc": "k",
                           "debug.log": "ignored here, so kept there"})
    keep = syncer_for(session, project)
    plan = await keep.plan()
    assert {(i.path, i.is_dir, i.files) for i in plan.of(EXTRA)} == {
        ("stale.py", False, 0), ("old", True, 2), ("lib/gone.py", False, 0)}
    assert plan.to_delete == []
    await keep.apply(plan)
    assert (board_root / "stale.py").exists()

    syncer = syncer_for(session, project, delete=True)
    result = await syncer.apply(await syncer.plan())
    assert result.deleted == 3
    assert board_files(board_root) == {**_bytes(SYNCED), "__pycache__/keep.pyc": b"k",
                                       "debug.log": b"ignored here, so kept there"}


async def test_ignore_rules_hold(session, board_root, project):
    (project / "lib" / ".mptuiignore").write_text("data/\n!*.pyc\n")
    (project / "lib" / "private.py").write_text("secret")
    (project / ".mptuiignore").write_text("*.log\nprivate.py\n")
    syncer = syncer_for(session, project)
    await syncer.apply(await syncer.plan())
    on_board = set(board_files(board_root))
    assert "lib/old.pyc" in on_board  # re-included by the deeper file
    assert not any(p.startswith("lib/data") for p in on_board)
    assert "lib/private.py" not in on_board and "notes.log" not in on_board
    assert not any(".git" in p or "__pycache__" in p for p in on_board)
    assert ".mptuiignore" not in on_board and "lib/.mptuiignore" not in on_board


async def test_a_plan_changes_nothing(session, board_root, project):
    make_tree(board_root, {"stale.py": "x", "main.py": "old"})
    before = board_files(board_root)
    plan = await syncer_for(session, project, delete=True).plan()
    assert plan.to_copy and plan.to_delete
    assert board_files(board_root) == before


async def test_leftovers_of_an_interrupted_copy_are_cleaned(session, board_root, project):
    make_tree(board_root, {"main.py.mptui~": "half", "lib/util.py.mptui~": "half"})
    syncer = syncer_for(session, project)
    plan = await syncer.plan()
    assert sorted(plan.leftovers) == ["lib/util.py.mptui~", "main.py.mptui~"]
    assert not any(i.path.endswith(".mptui~") for i in plan.items)
    await syncer.apply(plan)
    assert board_files(board_root) == _bytes(SYNCED)


async def test_into_a_folder_that_does_not_exist_yet(session, board_root, project):
    syncer = syncer_for(session, project, remote=":/apps/demo")
    plan = await syncer.plan()
    assert plan.make_root
    await syncer.apply(plan)
    assert board_files(board_root / "apps" / "demo") == _bytes(SYNCED)
    assert (await syncer_for(session, project, remote="/apps/demo").plan()).up_to_date


async def test_a_file_where_a_folder_goes(session, board_root, project):
    make_tree(board_root, {"lib": "a file", "main.py/x": "a folder"})
    plan = await syncer_for(session, project).plan()
    assert any("lib: a file on the board" in w for w in plan.warnings)
    assert any("main.py: a folder on the board" in w for w in plan.warnings)
    assert not any(i.path.startswith("lib/") for i in plan.to_copy)

    syncer = syncer_for(session, project, delete=True)
    plan = await syncer.plan()
    assert {i.path for i in plan.items if i.replace} == {"lib", "main.py"}
    await syncer.apply(plan)
    assert board_files(board_root) == _bytes(SYNCED)


async def test_compiled_to_mpy(session, board_root, project):
    syncer = syncer_for(session, project, mpy=("lib/**",))
    plan = await syncer.plan()
    copied = {i.path: i.source for i in plan.to_copy}
    assert copied["lib/util.mpy"] == "lib/util.py"
    assert "main.py" in copied and "boot.py" in copied  # run by name: never compiled
    await syncer.apply(plan)
    assert (board_root / "lib" / "util.mpy").read_bytes()[:1] == b"M"
    assert not (board_root / "lib" / "util.py").exists()
    out = await session.exec("import lib.util\nprint(lib.util.VALUE, lib.util.__file__)")
    value, file = out.split()
    assert value == b"42" and file.endswith(b"lib/util.mpy")
    assert (await syncer_for(session, project, mpy=("lib/**",)).plan()).up_to_date


async def test_mpy_replaces_the_py_that_would_shadow_it(session, board_root, project):
    make_tree(board_root, {"lib/util.py": "VALUE = 0\n"})
    plan = await syncer_for(session, project, mpy=("lib/util.py",), delete=True).plan()
    assert [i.path for i in plan.to_delete] == ["lib/util.py"] and plan.stale == []
    syncer = syncer_for(session, project, mpy=("lib/util.py",))
    plan = await syncer.plan()
    assert plan.stale == ["lib/util.py"] and not plan.to_delete
    removed = []
    real_rm = syncer.remote.rm

    async def rm(path, *a, **kw):  # the .mpy is on the board before the .py goes
        removed.append((path, (board_root / "lib" / "util.mpy").exists()))
        return await real_rm(path, *a, **kw)

    syncer.remote.rm = rm
    await syncer.apply(plan)
    assert removed == [("/lib/util.py", True)]
    assert not (board_root / "lib" / "util.py").exists()
    out = await session.exec("import lib.util\nprint(lib.util.VALUE, lib.util.__file__)")
    value, file = out.split()
    assert value == b"42" and file.endswith(b"lib/util.mpy")


async def test_mpy_needs_a_matching_board():
    compiler = MpyCompiler()
    version = await compiler.emits()
    await compiler.check(version)
    with pytest.raises(MpyError, match=r"the board loads \.mpy v5\.0 but mpy-cross makes v"):
        await compiler.check((5, 0))
    with pytest.raises(MpyError, match="does not report its .mpy version"):
        await compiler.check(None)


async def test_a_partial_plan_for_watch(session, board_root, project):
    syncer = syncer_for(session, project, delete=True)
    await syncer.apply(await syncer.plan())
    (project / "lib" / "util.py").write_text("VALUE = 7\n")
    (project / "main.py").unlink()
    make_tree(project, {"lib/new/x.py": "x"})

    plan = await syncer.plan(only=["lib/util.py", "main.py", "lib/new"])
    assert sorted((i.kind, i.path) for i in plan.items if i.kind != SAME) == [
        (CHANGED, "lib/util.py"), (NEW, "lib/new"), (NEW, "lib/new/x.py"), (EXTRA, "main.py")]
    await syncer.apply(plan)
    assert (await syncer_for(session, project, delete=True).plan()).up_to_date


async def test_power_loss_during_a_sync_leaves_no_partial_file(board_root, project):
    """As from the command line (no reconnecting): the board dies mid-file; what it holds is
    whole files only, and the next sync cleans up and finishes."""
    (project / "big.bin").write_bytes(os.urandom(500_000))
    (board_root / "big.bin").write_bytes(b"old")
    session = await board_session("sync-kill", board_root, reconnect=False)
    syncer = syncer_for(session, project)
    plan = await syncer.plan()

    def pull_the_plug(p):
        if p.path.endswith("big.bin") and 0 < p.file_done < p.file_size // 2:
            session.transport.board.power_cycle()

    try:
        with pytest.raises(BoardError):
            await syncer.apply(plan, progress=pull_the_plug)
    finally:
        await session.close()
    assert (board_root / "big.bin").read_bytes() == b"old"
    for rel, data in board_files(board_root).items():
        if not rel.endswith(".mptui~"):
            assert rel == "big.bin" or data == _bytes(SYNCED)[rel]

    again = await board_session("sync-kill-2", board_root, reconnect=False)
    try:
        syncer = syncer_for(again, project)
        plan = await syncer.plan()
        assert plan.leftovers == [p for p in board_files(board_root) if p.endswith(".mptui~")]
        await syncer.apply(plan)
    finally:
        await again.close()
    assert board_files(board_root) == {**_bytes(SYNCED), "big.bin": (project / "big.bin").read_bytes()}


async def test_a_package_syncs_in_one_pipelined_write(session, board_root, tmp_path):
    """Twenty new files: one piece of code run for their data (the helper's write stream),
    not one per file; each reported copied, in order."""
    files = {f"pkg/m{i:02}.py": f"V = {i}\n" * (10 + i) for i in range(20)}
    make_tree(tmp_path / "proj", files)
    syncer = syncer_for(session, tmp_path / "proj")
    plan = await syncer.plan()
    real, writes = session.transport.write, [0]

    async def counted(data: bytes) -> None:
        writes[0] += data.count(b"_mptui.wb(")
        await real(data)

    session.transport.write, done = counted, []
    result = await syncer.apply(plan, on_done=lambda item, what: done.append((item.path, what)))
    session.transport.write = real
    assert result.copied == 20 and writes[0] == 1
    assert board_files(board_root) == _bytes(files)
    assert [p for p, what in done if what == "copied"] == sorted(files)
