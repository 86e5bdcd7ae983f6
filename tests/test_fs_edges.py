"""The filesystem API at its edges, against the real runtime: exists/rm/mkdir/stat answers,
the board's root never removed, hashes made on the board, tree operations in one round trip,
stream blocks sized to the board's heap."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import replace

import pytest
from helpers import WEBREPL_PW, count_link_bytes, load_helper

from mptui.board import BoardError, BoardExecError, BoardOSError, Session
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


# -- a board short of memory -------------------------------------------------------------------

# The helper's function `fn` made to fail as a board's does when a buffer will not fit in its
# heap: the first `fails` calls (or every one, fails=-1) raise MemoryError, leaving 40 KB of
# garbage behind; a call made before that garbage was collected fails too (a fragmented heap).
# Each call's arguments are kept on the board (_mptui_asked) for the test to read back.
SHORT_OF_MEMORY = """import gc
_mptui_asked = []
_mptui_real = _mptui.{fn}
_mptui_litter = [1 << 30]  # (no garbage of ours yet)
def _mptui_short(*a):
    _mptui_asked.append(a)
    if {fails} < 0 or len(_mptui_asked) <= {fails} or gc.mem_alloc() > _mptui_litter[0]:
        g = bytearray(40000)
        _mptui_litter[0] = gc.mem_alloc() - 20000
        raise MemoryError('memory allocation failed')
    return _mptui_real(*a)
_mptui.{fn} = _mptui_short
"""


async def short_of_memory(session, fn: str, fails: int) -> None:
    await load_helper(session)
    await session.exec(SHORT_OF_MEMORY.format(fn=fn, fails=fails))
    await session.exec("gc.collect()")


async def asked(session) -> list[tuple]:
    """The arguments the board's short-of-memory function was called with."""
    return [tuple(a) for a in await session.eval("_mptui_asked")]


async def test_a_read_short_of_memory_goes_again_in_smaller_blocks(board_root):
    data = os.urandom(30_000)
    (board_root / "m.bin").write_bytes(data)
    async with Session("virtual:mem?heap=256k", root=board_root) as s:
        await short_of_memory(s, "rd", 1)
        assert await s.fs.read("/m.bin") == data
        (*_, first), (*_, second) = await asked(s)  # (path, its check, block size)
        assert second == first // 2 and s.link.squeeze == 1


async def test_reads_short_of_memory_shrink_their_blocks_four_times_at_most(board_root):
    (board_root / "m.bin").write_bytes(b"m" * 3000)
    async with Session("virtual:mem?heap=256k", root=board_root) as s:
        await short_of_memory(s, "rd", -1)
        calls = []
        for _ in range(6):
            with pytest.raises(BoardExecError) as e:
                await s.fs.read("/m.bin")
            assert str(e.value) == "MemoryError: memory allocation failed"
            assert e.value.path == "/m.bin"
            calls.append(len(await asked(s)) - sum(calls))
        assert calls == [2, 2, 2, 2, 1, 1]  # each read once more with blocks halved, to 4
        assert s.link.squeeze == 4
        sizes = [a[-1] for a in await asked(s)]
        assert sizes[0] > sizes[1] and sizes[-1] == sizes[-2] == sizes[7] < sizes[0] // 8
        assert await s.eval("6*7") == 42


async def test_a_write_short_of_memory_goes_again_in_smaller_buffers(board_root):
    (board_root / "w.bin").write_bytes(b"old")
    data = os.urandom(30_000)
    async with Session("virtual:mem?heap=256k", root=board_root) as s:
        await short_of_memory(s, "wb", 1)
        await s.fs.write("/w.bin", data)
        assert (board_root / "w.bin").read_bytes() == data
        assert sorted(os.listdir(board_root)) == ["w.bin"]
        first, second = await asked(s)  # (unit, deflate's window bits, probe, buffer)
        assert second[0] + second[3] < first[0] + first[3] and s.link.squeeze == 1


async def test_a_write_short_of_memory_stops_once_its_buffers_are_four_times_smaller(board_root):
    (board_root / "w.bin").write_bytes(b"old")
    async with Session("virtual:mem?heap=256k", root=board_root) as s:
        await short_of_memory(s, "wb", -1)
        s.link.squeeze = 3  # (halved three times already: one more, then the board's error)
        with pytest.raises(BoardExecError) as e:
            await s.fs.write("/w.bin", os.urandom(30_000))
        assert str(e.value) == "MemoryError: memory allocation failed"
        assert e.value.path == "/w.bin"
        assert len(await asked(s)) == 2 and s.link.squeeze == 4
        assert sorted(os.listdir(board_root)) == ["w.bin"]
        assert (board_root / "w.bin").read_bytes() == b"old"


# -- bytes as a slow link cuts them ----------------------------------------------------------


async def test_a_read_whose_answer_comes_a_byte_at_a_time_is_whole(fs_session, board_root):
    """A UART hands bytes over as they come: the size header before the file (8 hex digits),
    or a plain read's line ends, may be cut anywhere; blank lines between a plain read's
    lines (a terminal that doubles line ends) are no damage."""
    session, helper = fs_session, fs_session.helper is not False
    data = bytes(range(256))
    (board_root / "b.bin").write_bytes(data)
    (board_root / "empty").write_bytes(b"")  # its header alone, then the end
    if helper:
        await load_helper(session)
    follow = session.repl.follow

    async def byte_at_a_time(on_output=None, *args, **kw):  # the board's output as a UART gives it
        def split(chunk: bytes) -> None:
            chunk = chunk.replace(b"\n", b"\n\n")  # (the helper's stream escapes its \n)
            for i in range(len(chunk)):
                on_output(chunk[i : i + 1])

        return await follow(split if on_output else None, *args, **kw)

    session.repl.follow = byte_at_a_time
    got = []
    assert await session.fs.read("/b.bin", progress=lambda d, t: got.append((d, t))) == data
    total = 256 if helper else -1  # (a plain read learns the size at its end)
    assert got[-1] == (256, total) and all(t == total for _, t in got)
    got.clear()
    assert await session.fs.read("/empty", progress=lambda d, t: got.append((d, t))) == b""
    assert set(got) == ({(0, 0)} if helper else set()) and (got or not helper)


async def test_a_plain_read_whose_answer_never_came_is_no_empty_file(session, board_root):
    (board_root / "f.bin").write_bytes(b"data")
    session.helper = False
    follow = session.repl.follow

    async def answer_lost(on_output=None, *args, **kw):  # the board's lines never arrive
        return await follow(None, *args, **kw)

    session.repl.follow = answer_lost
    with pytest.raises(BoardError) as e:
        await session.fs.read("/f.bin")
    assert str(e.value).startswith("/f.bin: damaged on the way 3 times (")


# -- the file channel's last step ------------------------------------------------------------


async def test_a_channel_write_whose_last_step_is_damaged_names_no_other_file(webrepl_board):
    """The call that checks the file sent beside the REPL and puts it in place arrives
    damaged (another target name): the board refuses to run it."""
    root = webrepl_board.root
    (root / "w.bin").write_bytes(b"old")
    async with Session(webrepl_board.url, password=WEBREPL_PW, reconnect=False) as s:
        s.fs.use_file_channel = True
        await load_helper(s)
        send_code, damaged = s.repl.send_code, []

        async def damaging_send_code(code, *rest):
            text = code.encode() if isinstance(code, str) else code
            if b"fin(" in text and not damaged:
                damaged.append(text)
                text = re.sub(rb"/w\.bin(?=\\)", b"/v.bin", text, count=1)
            await send_code(text, *rest)

        s.repl.send_code = damaging_send_code
        with pytest.raises(BoardError) as e:
            await s.fs.write("/w.bin", os.urandom(5000))
        assert damaged and str(e.value).startswith("/w.bin: damaged on the way")
        assert sorted(os.listdir(root)) == ["w.bin"]  # no v.bin, no temporary file
        assert (root / "w.bin").read_bytes() == b"old"
