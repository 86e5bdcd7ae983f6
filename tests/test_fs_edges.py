"""The filesystem API at its edges, against the real runtime: exists/rm/mkdir/stat answers,
the board's root never removed, hashes made on the board, tree operations in one round trip,
stream blocks sized to the board's heap."""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace

import pytest
from helpers import count_link_bytes, load_helper

from mptui.board import BoardError, BoardOSError
from mptui.board.adapt import Caps
from mptui.board.fs import Stat


async def test_exists_answers_false_only_for_a_missing_file(session, board_root):
    (board_root / "f.txt").write_text("x")
    assert await session.fs.exists("/f.txt") and not await session.fs.exists("/nope")
    with pytest.raises(BoardOSError) as e:  # anything else is an error, not an answer
        await session.fs.exists("/f.txt/inside")
    assert e.value.errname == "ENOTDIR"


async def test_rm_removes_a_folder_only_when_asked(fs_session, board_root):
    fs = fs_session.fs
    (board_root / "d" / "sub" / "deeper").mkdir(parents=True)
    (board_root / "d" / "sub" / "f").write_text("1")
    (board_root / "d" / "g").write_text("2")
    (board_root / "empty").mkdir()
    (board_root / "solo").write_text("3")
    with pytest.raises(BoardOSError):
        await fs.rm("/d")
    assert (board_root / "d" / "sub" / "f").read_text() == "1"
    await fs.rm("/d/g")
    assert sorted(os.listdir(board_root / "d")) == ["sub"]
    await fs.rm("/d", recursive=True)
    await fs.rm("/empty", recursive=True)
    await fs.rm("/solo", recursive=True)  # a file: removed as such
    assert list(board_root.iterdir()) == []
    with pytest.raises(BoardOSError) as e:
        await fs.rm("/gone", recursive=True)
    assert e.value.errname == "ENOENT"


async def test_mkdir_parents_stops_at_a_file_in_the_way(fs_session, board_root):
    fs = fs_session.fs
    (board_root / "file").write_text("x")
    for path in ("/file", "/file/sub"):
        with pytest.raises(BoardOSError):
            await fs.mkdir(path, parents=True)
    await fs.mkdir("/a")
    with pytest.raises(BoardOSError) as e:  # without parents, an existing folder is an error
        await fs.mkdir("/a")
    assert e.value.errname == "EEXIST"
    await fs.mkdir("/a/b/c", parents=True)
    assert (board_root / "a" / "b" / "c").is_dir() and (board_root / "file").read_text() == "x"


async def test_stat_gives_the_boards_size_and_mtime(session, board_root):
    (board_root / "f.txt").write_text("four")
    os.utime(board_root / "f.txt", (1_600_000_000, 1_700_000_000))  # accessed, modified
    (board_root / "d").mkdir()
    assert await session.fs.stat("/f.txt") == Stat(False, 4, 1_700_000_000)
    assert (await session.fs.stat("/d")).is_dir


async def test_blocks_shrink_to_leave_the_board_its_heap(session):
    """Read blocks are the link's size (16 KiB on the virtual board) unless 32 of them would
    not fit in the free heap the board reported; never below 256 bytes."""
    sizes = {}
    for free in (-1, 0, 1, 524_288, 524_287, 262_144, 1_000):
        session.loader.caps = Caps(free=free, sha256=True, stdout_buffer=True)
        sizes[free] = session.fs._block_size()
    assert sizes == {-1: 16384, 0: 256, 1: 256, 524_288: 16384, 524_287: 8192,
                     262_144: 8192, 1_000: 256}
    session.loader.caps = None
    assert session.fs._block_size() == 16384


async def test_hashes_are_made_on_the_board_when_it_can(session, board_root):
    data = os.urandom(500_000)
    digest = hashlib.sha256(data).hexdigest()
    (board_root / "d").mkdir()
    (board_root / "d" / "big.bin").write_bytes(data)
    await load_helper(session)
    seen = count_link_bytes(session.transport)
    await session.eval("0")  # (the reader already waiting used the link's own read)
    assert await session.fs.sha256("/d/big.bin") == digest
    assert await session.fs.tree_hashes("/d") == {"big.bin": (500_000, digest)}
    assert seen[0] < 2000  # the hashes came over the link, not the file
    # a board whose helper found no hashlib: the host hashes what it reads
    session.loader.caps = replace(session.caps, sha256=False)
    assert await session.fs.sha256("/d/big.bin") == digest
    assert await session.fs.tree_hashes("/d") == {"big.bin": (500_000, digest)}
    assert seen[0] > 2 * len(data)


async def test_an_executable_file_is_not_taken_for_a_folder(session, board_root):
    (board_root / "run.sh").write_text("x")
    (board_root / "run.sh").chmod(0o755)  # mode bits beyond the type: a VFS may report them
    assert not (await session.fs.stat("/run.sh")).is_dir
    assert [(e.path, e.is_dir) for e in await session.fs.ls("/")] == [("run.sh", False)]


def count_execs(transport) -> list[int]:
    """From now on: [pieces of code sent to run] (each a raw-paste request)."""
    real, sent = transport.write, [0]

    async def write(data: bytes) -> None:
        sent[0] += data.count(b"\x05A\x01")
        await real(data)

    transport.write = write
    return sent


async def test_tree_operations_take_one_round_trip_with_the_helper(session, board_root):
    (board_root / "t" / "a" / "b").mkdir(parents=True)
    for rel in ("t/one", "t/a/two", "t/a/b/three"):
        (board_root / rel).write_text(rel)
    await load_helper(session)
    execs = count_execs(session.transport)
    for call, args in ((session.fs.ls, ("/t", True)), (session.fs.tree_hashes, ("/t",)),
                       (session.fs.mkdir, ("/t/x/y/z", True)), (session.fs.rm, ("/t", True))):
        before = execs[0]
        await call(*args)
        assert execs[0] - before == 1, call.__name__
    assert list(board_root.iterdir()) == []


async def test_the_boards_root_is_never_removed(fs_session, board_root):
    (board_root / "keep.txt").write_text("x")
    for path in ("/", "", ":", "/.."):
        with pytest.raises(BoardError, match="refusing to remove the board's root folder"):
            await fs_session.fs.rm(path, recursive=True)
    assert (board_root / "keep.txt").read_text() == "x"
