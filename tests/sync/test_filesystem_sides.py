"""The two-sided filesystem interface: one contract for a local folder and a real (virtual)
board, copies between them with progress, and no partial file after a cancel or a power loss."""

from __future__ import annotations

import asyncio
import os

import pytest
from synchelp import board_files, make_tree, sha

from mptui.services.boardfs import BoardFSAdapter
from mptui.services.copier import copy_paths, delete_paths, move_paths
from mptui.services.localfs import LocalFS

ALL_BYTES = bytes(range(256)) * 4 + b"\r\n\x04\x03\x01\x1b" * 50


@pytest.fixture(params=["local", "board"])
def side(request, tmp_path, board_root):
    """(fs, a folder to work in, the host folder behind it) for each side."""
    if request.param == "local":
        work = tmp_path / "local"
        work.mkdir()
        return LocalFS(), str(work), work
    return BoardFSAdapter(request.getfixturevalue("session")), "/", board_root


async def test_contract(side):
    fs, top, host = side
    d = fs.join(top, "dir")
    await fs.mkdir(fs.join(d, "a", "b"), parents=True)
    f = fs.join(d, "a", "b", "data.bin")
    await fs.write(f, ALL_BYTES)
    assert await fs.read(f) == ALL_BYTES
    assert (host / "dir/a/b/data.bin").read_bytes() == ALL_BYTES

    info = await fs.stat(f)
    assert (info.name, info.is_dir, info.size) == ("data.bin", False, len(ALL_BYTES))
    assert (await fs.stat(d)).is_dir
    assert [(i.name, i.is_dir) for i in await fs.list(fs.join(d, "a"))] == [("b", True)]
    assert [(e.path, e.is_dir) for e in await fs.walk(d)] == [
        ("a", True), ("a/b", True), ("a/b/data.bin", False)]
    assert (await fs.hashes(d))["a/b/data.bin"] == (len(ALL_BYTES), sha(ALL_BYTES))

    await fs.rename(f, fs.join(d, "moved.bin"))
    assert not await fs.exists(f)
    assert await fs.exists(fs.join(d, "moved.bin"))
    with pytest.raises(FileNotFoundError):
        await fs.stat(f)
    with pytest.raises(FileNotFoundError):
        await fs.read(f)
    with pytest.raises(FileExistsError):
        await fs.mkdir(d)
    with pytest.raises(OSError):
        await fs.rm(d)  # not empty
    await fs.rm(d, recursive=True)
    assert not (host / "dir").exists()
    total, free = await fs.df(top)
    assert total > 0 and 0 <= free <= total


async def test_names_are_data_not_code(side):
    fs, top, host = side
    name = "it's \"odd\"; import os; os.remove('x') #.py"
    await fs.write(fs.join(top, name), b"fine")
    assert (host / name).read_bytes() == b"fine"
    assert [i.name for i in await fs.list(top)] == [name]


async def test_copy_tree_local_to_board_and_back(tmp_path, session, board_root):
    local, board = LocalFS(), BoardFSAdapter(session)
    src = tmp_path / "src"
    tree = {"proj/main.py": "print(1)\n", "proj/lib/a.py": os.urandom(70_000),
            "proj/lib/deep/b.bin": ALL_BYTES, "proj/empty.txt": b""}
    make_tree(src, tree)
    (src / "proj" / "nothing").mkdir()
    seen = []

    result = await copy_paths(local, [str(src / "proj")], board, "/", progress=seen.append)

    assert (result.files, result.bytes) == (4, sum(len(v) for v in map(_bytes, tree.values())))
    assert board_files(board_root) == {k: _bytes(v) for k, v in tree.items()}
    assert (board_root / "proj" / "nothing").is_dir()
    last = seen[-1]
    assert (last.done, last.total, last.files_done, last.files_total) == (result.bytes,) * 2 + (4, 4)
    assert last.rate > 0 and last.fraction == 1.0
    dones = [p.done for p in seen]
    assert dones == sorted(dones)  # progress never goes back

    back = tmp_path / "back"
    back.mkdir()
    result = await copy_paths(board, ["/proj/lib", "/proj/main.py"], local, str(back))
    assert result.files == 3
    assert (back / "lib" / "deep" / "b.bin").read_bytes() == ALL_BYTES
    assert (back / "main.py").read_text() == "print(1)\n"


async def test_move_between_sides_and_delete(tmp_path, session, board_root):
    local, board = LocalFS(), BoardFSAdapter(session)
    make_tree(tmp_path / "src", {"m/a.txt": "a", "b.txt": "b"})
    await move_paths(local, [str(tmp_path / "src" / "m"), str(tmp_path / "src" / "b.txt")], board, "/")
    assert list((tmp_path / "src").iterdir()) == []
    assert board_files(board_root) == {"m/a.txt": b"a", "b.txt": b"b"}
    await move_paths(board, ["/b.txt"], board, "/m")  # same side: a rename
    assert board_files(board_root) == {"m/a.txt": b"a", "m/b.txt": b"b"}
    await delete_paths(board, ["/m"])
    assert board_files(board_root) == {}


def _bytes(v) -> bytes:
    return v.encode() if isinstance(v, str) else v


# -- nothing partial, ever ---------------------------------------------------------------------

BIG = os.urandom(600_000)
HUGE = os.urandom(2_500_000)  # more than the virtual board buffers: a download cannot come in one go
OLD = b"the old content\n"


async def _cancel_midway(start):
    """Run start(progress) as a task, cancelled once (as Esc in the UI does) by its own
    progress callback when it is under way and not done."""
    task = None
    cancelled = False

    def progress(p):
        nonlocal cancelled
        if not cancelled and 0 < p.done < p.total:
            cancelled = True
            task.cancel()

    task = asyncio.create_task(start(progress))
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_cancelled_upload_leaves_the_old_file(tmp_path, session, board_root):
    local, board = LocalFS(), BoardFSAdapter(session)
    (tmp_path / "big.bin").write_bytes(BIG)
    (board_root / "big.bin").write_bytes(OLD)

    await _cancel_midway(lambda progress: copy_paths(local, [str(tmp_path / "big.bin")], board, "/",
                                                     progress))

    assert board_files(board_root) == {"big.bin": OLD}  # no temporary file either
    assert await board.read("/big.bin") == OLD  # and the board carries on


async def test_cancelled_download_leaves_nothing_here(tmp_path, session, board_root):
    local, board = LocalFS(), BoardFSAdapter(session)
    (board_root / "big.bin").write_bytes(HUGE)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "big.bin").write_bytes(OLD)

    await _cancel_midway(lambda progress: copy_paths(board, ["/big.bin"], local, str(dest), progress))

    assert {p.name: p.read_bytes() for p in dest.iterdir()} == {"big.bin": OLD}
    assert await board.read("/big.bin") == HUGE


async def test_power_loss_during_upload_leaves_no_partial_file(tmp_path, session, board_root):
    local, board = LocalFS(), BoardFSAdapter(session)
    (tmp_path / "big.bin").write_bytes(BIG)
    (board_root / "big.bin").write_bytes(OLD)
    cut = False
    resets = session.transport.board.hard_resets

    def pull_the_plug(p):
        nonlocal cut
        if not cut and 0 < p.done < p.total // 2:
            cut = True
            session.transport.board.power_cycle()

    with pytest.raises(Exception) as failure:
        await copy_paths(local, [str(tmp_path / "big.bin")], board, "/", pull_the_plug)
    assert cut
    assert "reset" in str(failure.value) or "stopped" in str(failure.value)
    assert board_files(board_root) == {"big.bin": OLD}
    assert session.transport.board.hard_resets > resets
