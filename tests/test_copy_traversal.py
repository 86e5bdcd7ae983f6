"""Board-to-host copies from a board whose filesystem really lists hostile names (a Python VFS
mounted on the virtual board, see hostile_vfs.py): every name must be one path component;
the others are refused with a line naming them, and nothing lands outside the destination."""

from __future__ import annotations

import pytest
from helpers import run_cli
from hostile_vfs import BAD_DIR, BAD_IN_SUB, BAD_TOP, GOOD, host_files, mount, mount_code

from mptui.board import Session
from mptui.services.boardfs import BoardFSAdapter
from mptui.services.copier import copy_paths, move_paths, name_problem
from mptui.services.localfs import LocalFS

EXPECTED = {f"evil/{rel}" for rel in GOOD}


@pytest.mark.parametrize("name", [*BAD_TOP, BAD_DIR, BAD_IN_SUB, "/abs", "C:", "c:x", "x\\y"])
def test_names_that_are_not_one_component(name):
    assert name_problem(name)


@pytest.mark.parametrize("name", ["a", "main.py", ".hidden", "..x", "x..", "C", "ab:c", "é ü", "it's"])
def test_plain_names(name):
    assert name_problem(name) is None


def assert_contained(top, dest, escape) -> None:
    """The good files arrived under dest; nothing else appeared anywhere under top."""
    assert not escape.exists()
    files = host_files(top)
    assert {f for f in files if not f.startswith(("board", "mount.py"))} == {
        f"{dest.relative_to(top).as_posix()}/{rel}" for rel in EXPECTED}
    for rel, data in GOOD.items():
        assert (dest / "evil" / rel).read_bytes() == data


def assert_refusals(lines) -> None:
    """One line per hostile name, naming it (repr); none for the good ones."""
    text = "\n".join(lines)
    for name in [*BAD_TOP, BAD_DIR, BAD_IN_SUB]:
        assert repr(name) in text, name
    assert sum(repr(BAD_DIR) in line for line in lines) == 1  # a bad folder once, not per file
    assert "deep.txt" not in text  # inside a refused folder: not listed on its own
    assert "good.txt" not in text and "inner.txt" not in text


@pytest.fixture(params=["helper", "plain"])
async def hostile(request, tmp_path):
    """(session, the escape path) for a virtual board with /evil mounted."""
    escape = tmp_path / "abs-escape"
    (tmp_path / "board").mkdir()
    session = Session("virtual:test", root=tmp_path / "board")
    await session.connect()
    await mount(session, escape)
    if request.param == "plain":
        session.helper = False  # as when the helper cannot load
    yield session, escape
    await session.close()


async def test_the_copier_refuses_hostile_names(hostile, tmp_path):
    session, escape = hostile
    dest = tmp_path / "out" / "a" / "b" / "dest"
    dest.mkdir(parents=True)
    result = await copy_paths(BoardFSAdapter(session), ["/evil"], LocalFS(), str(dest))
    assert (result.files, result.bytes) == (2, sum(map(len, GOOD.values())))
    assert_refusals(result.refused)
    assert_contained(tmp_path, dest, escape)


async def test_a_hostile_name_chosen_as_a_source_is_refused(hostile, tmp_path):
    """The Files tab hands the copier the entries as listed: a bad one is refused too."""
    session, escape = hostile
    board = BoardFSAdapter(session)
    listed = await board.list("/evil")
    dest = tmp_path / "out" / "dest"
    dest.mkdir(parents=True)
    result = await copy_paths(board, listed, LocalFS(), str(dest))
    assert result.files == 2
    assert_refusals(result.refused)
    assert host_files(tmp_path / "out") == {"dest/good.txt", "dest/sub/inner.txt"}
    assert not escape.exists()
    # a move leaves what it did not copy where it was (and never deletes outside the folder)
    again = tmp_path / "out" / "again"
    again.mkdir()
    with pytest.raises(OSError):  # the hostile VFS is read-only: the removal fails, after
        await move_paths(board, listed, LocalFS(), str(again))
    assert host_files(again) == {"good.txt", "sub/inner.txt"}


def test_cp_r_from_a_hostile_board(bridge, tmp_path):
    """The CLI on a board served by a bridge (the VFS stays mounted between two commands)."""
    escape = tmp_path / "abs-escape"
    (tmp_path / "mount.py").write_text(mount_code(escape))
    assert run_cli("-d", bridge.socket_url, "run", str(tmp_path / "mount.py")).returncode == 0
    dest = tmp_path / "out" / "a" / "b" / "dest"
    dest.mkdir(parents=True)
    r = run_cli("-d", bridge.socket_url, "cp", "-r", ":evil", str(dest))
    assert r.returncode == 1, r.stderr  # something was not copied
    lines = r.stderr.decode().splitlines()
    refusals = [line for line in lines if "not a plain name" in line]
    assert all(line.startswith("mptui: cp: ") for line in refusals)
    assert len(refusals) == len(BAD_TOP) + 3  # and the escape, the folder, the one in sub/
    assert repr(str(escape)) in r.stderr.decode()
    assert_refusals(refusals)
    assert "2 copied, 0 unchanged" in lines
    assert_contained(tmp_path, dest, escape)
