"""The board filesystem API against the real runtime, on the fast helper path and on the plain
raw-REPL fallback; the core of it on the fast link, a 115200-baud UART and an ESP8266 too (the
`link_profile` fixture: no byte may be lost to the board's 256-byte stdin ring)."""

import asyncio
import binascii
import errno
import hashlib
import os
from dataclasses import replace

import pytest
from helpers import load_helper, until

from mptui.board import BoardDisconnected, BoardError, BoardExecError, BoardOSError
from mptui.board.fs import TMP_SUFFIX
from mptui.board.helper import part_source

HOSTILE = [
    "q'uote",
    'd"ouble',
    "back\\slash",
    "new\nline",
    "'); import os; os.remove('victim')#",
    '"""; import os; os.remove("victim")#',
    "ünïcödé € 漢字",
    "tab\tand space",
]


async def test_all_byte_values_and_random_data_round_trip(fs_session, board_root, link_profile):
    fs = fs_session.fs
    every = bytes(range(256)) * 3
    await fs.write("/every.bin", every)
    assert (board_root / "every.bin").read_bytes() == every
    assert await fs.read("/every.bin") == every
    if fs_session.helper is not False:
        blob = os.urandom(link_profile.size(1_000_000, 6_000))
    else:
        blob = os.urandom(link_profile.size(20_000, 1_500))
    await fs.write("blob.bin", blob)
    assert await fs.read("blob.bin") == blob
    assert await fs.sha256("blob.bin") == hashlib.sha256(blob).hexdigest()
    await fs.write("empty", b"")
    assert await fs.read("empty") == b""


async def test_progress_reaches_the_total(session):
    seen = []
    data = os.urandom(100_000)
    await session.fs.write("p.bin", data, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (100_000, 100_000)
    assert seen[0][0] < 100_000  # step by step (the first window is smaller than the file)
    first, second = [], []  # several files in one stream: one's progress starts with its bytes
    await session.fs.write_many([("a.bin", data[:30_000], lambda d, t: first.append((d, t))),
                                 ("b.bin", data[:10_000], lambda d, t: second.append((d, t)))])
    assert first[-1] == (30_000, 30_000) and second[-1] == (10_000, 10_000)
    assert all(d > 0 for d, _ in first + second)
    seen.clear()
    await session.fs.read("p.bin", progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (100_000, 100_000)
    wrote, read = [], []  # an empty file is done at once, both ways
    await session.fs.write("empty", b"", progress=lambda done, total: wrote.append((done, total)))
    await session.fs.read("empty", progress=lambda done, total: read.append((done, total)))
    assert wrote == [(0, 0)] and read and set(read) == {(0, 0)}


async def test_progress_without_the_helper(session):
    session.helper = False  # writes know their size; reads learn it only at the end (-1)
    seen = []
    data = os.urandom(2000)
    await session.fs.write("p.bin", data, progress=lambda done, total: seen.append((done, total)))
    # one call per 512 bytes (a small heap compiles each): a step of progress each
    assert seen == [(512, 2000), (1024, 2000), (1536, 2000), (2000, 2000)]
    seen.clear()
    await session.fs.write("empty", b"", progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 0)]  # an empty file is done at once
    seen.clear()
    await session.fs.read("p.bin", progress=lambda done, total: seen.append((done, total)))
    assert seen == [(256 * i, -1) for i in range(1, 8)] + [(2000, -1)]


async def test_hostile_names_round_trip_and_execute_nothing(fs_session, board_root, link_profile):
    (board_root / "victim").write_text("still here")
    fs = fs_session.fs
    await fs.mkdir("/d")
    for name in HOSTILE:
        await fs.write(f"/d/{name}", name.encode())
        assert await fs.read(f"/d/{name}") == name.encode()
        await fs.mkdir(f"/d/{name} dir")
    names = {e.path for e in await fs.ls("/d")}
    assert names == set(HOSTILE) | {f"{n} dir" for n in HOSTILE}
    for name in HOSTILE:
        await fs.rename(f"/d/{name}", f"/d/{name}.moved")
        await fs.rm(f"/d/{name}.moved")
    assert (board_root / "victim").read_text() == "still here"
    assert sorted(os.listdir(board_root / "d")) == sorted(f"{n} dir" for n in HOSTILE)


async def test_listing_stat_mkdir_rm_and_hashes(fs_session, board_root, link_profile):
    fs = fs_session.fs
    await fs.mkdir("/a/b/c", parents=True)
    await fs.mkdir("/a/b/c", parents=True)  # -p: an existing folder is fine
    await fs.write("/a/one.txt", b"1")
    await fs.write("/a/b/two.txt", b"22")
    await fs.touch("/a/b/c/three")
    await fs.touch("/a/one.txt")  # touch leaves content alone
    assert await fs.read("/a/one.txt") == b"1"
    entries = await fs.ls("/a", recursive=True)
    assert [(e.path, e.is_dir, e.size) for e in entries] == [
        ("b", True, 0), ("b/c", True, 0), ("b/c/three", False, 0), ("b/two.txt", False, 2),
        ("one.txt", False, 1),
    ]
    assert [e.path for e in await fs.ls("/a")] == ["b", "one.txt"]
    assert [e.name for e in entries] == ["b", "c", "three", "two.txt", "one.txt"]
    st = await fs.stat("/a/b/two.txt")
    assert (st.is_dir, st.size) == (False, 2)
    assert (await fs.stat("/a/b")).is_dir
    hashes = await fs.tree_hashes("/a")
    assert hashes["b/two.txt"] == (2, hashlib.sha256(b"22").hexdigest())
    assert hashes["b/c"] == (-1, "")
    assert await fs.exists("/a/one.txt") and not await fs.exists("/nope")
    with pytest.raises(BoardOSError) as e:
        await fs.rmdir("/a")
    assert e.value.errname in ("ENOTEMPTY", "EEXIST", "EACCES")
    await fs.rm("/a", recursive=True)
    assert not (board_root / "a").exists()
    total, free = await fs.df()
    assert total > free > 0


async def test_errors_are_one_line_with_the_path(session):
    with pytest.raises(BoardOSError) as e:
        await session.fs.read("/no/such/file")
    assert str(e.value) == "/no/such/file: No such file or directory [ENOENT]"
    with pytest.raises(BoardError):
        await session.fs.rm("/", recursive=True)


async def test_board_path_cannot_escape_its_root(session, board_root, tmp_path):
    # As on a board's littlefs, a ".." above the root is EINVAL (lfs2_dir_find)
    (tmp_path / "outside.txt").write_text("host file")
    for path in ("/..", "/a/../../outside.txt", "../outside.txt"):
        with pytest.raises(BoardOSError) as e:
            await session.exec(f"f = open({path!r}, 'w'); f.write('x'); f.close()")
        assert e.value.errno == errno.EINVAL
    assert await session.fs.ls("/..") == []  # mptui makes it "/" before asking the board
    assert (tmp_path / "outside.txt").read_text() == "host file"
    assert await session.eval("__import__('os').listdir('/')") == []
    await session.exec("f = open('/a/../inside.txt', 'w'); f.write('x'); f.close()")
    assert (board_root / "inside.txt").read_text() == "x"


async def test_board_killed_mid_write_keeps_the_old_file(session, board_root):
    await session.fs.write("/keep.bin", b"old" * 1000)
    tmp = board_root / ("keep.bin" + TMP_SUFFIX)
    writing = asyncio.create_task(session.fs.write("/keep.bin", os.urandom(30_000_000)))
    await until(lambda: tmp.exists() and tmp.stat().st_size > 0, 30, "bytes on the board")
    session.transport.board.power_cycle()  # the power goes with the transfer under way
    with pytest.raises(BoardDisconnected):
        await writing
    await session.wait_connected(10)
    assert await session.fs.read("/keep.bin") == b"old" * 1000


async def test_helper_reloads_after_a_soft_reset(session):
    await session.fs.write("/x", b"1")
    await session.exec("import machine\ntry:\n machine.soft_reset()\nexcept SystemExit: pass")
    assert await session.fs.read("/x") == b"1"


def test_a_garbled_answer_is_a_board_error_not_a_crash():
    from mptui.board.fs import _lines, _literal

    assert _lines(b"('main.py', 25)\r\n('lib', -1)\r\n") == [("main.py", 25), ("lib", -1)]
    for garbage in (b"('new.py', 6)\r\nhello from main\r\n", b"\xff\xfe(1,", b"(1, 2"):
        with pytest.raises(BoardError, match="unreadable answer from the board"):
            _lines(garbage)
    with pytest.raises(BoardError):
        _literal(b"Traceback (most recent call last)")
    with pytest.raises(BoardError) as e:  # a long answer: its first 60 characters shown
        _literal(b"x" * 100)
    assert str(e.value) == f"unreadable answer from the board: {'x' * 60!r}"


def test_a_listed_row_of_another_shape_is_a_board_error():
    from mptui.board.fs import Entry, _entry

    assert _entry((("lib", "a.py"), 7)) == Entry("lib/a.py", False, 7, ("lib", "a.py"))
    assert _entry((("lib",), -1)) == Entry("lib", True, 0, ("lib",))
    for row in ((("a",), "7"), (("a",), True), ((), 1), (("a", 1), 1), ("a", 1), [("a",), 1],
                (("a",), 1, 2), None, 5):
        with pytest.raises(BoardError, match="unreadable answer from the board"):
            _entry(row)


# -- the helper on the board ---------------------------------------------------------------------


def damage_loads(session, part: str, times: int, error: bytes = b"OSError(5)") -> list[bytes]:
    """The first `times` sendings of the helper's `part` fail on the board with `error`
    (OSError 5: their check found them damaged); the list returned gets each sending of it."""
    check = b"!=%d:raise OSError(5)" % binascii.crc32(part_source(part).encode())
    send_code, sent = session.repl.send_code, []

    async def damaging_send_code(code, *rest):
        text = code.encode() if isinstance(code, str) else code
        if check in text:
            sent.append(text)
            if len(sent) <= times:
                text = text.replace(check, b"!=-1:raise " + error)
        await send_code(text, *rest)

    session.repl.send_code = damaging_send_code
    return sent


async def test_a_helper_part_damaged_on_the_way_is_sent_again(session, board_root):
    data = os.urandom(3000)
    (board_root / "f.bin").write_bytes(data)
    await load_helper(session, ("ls",))  # the probe and the base part
    sent = damage_loads(session, "rd", 2)
    assert await session.fs.read("/f.bin") == data
    assert len(sent) == 3 and session.helper is True and "rd" in session.loader.parts


async def test_a_helper_part_damaged_every_time_is_given_up_after_three_operations(
        session, board_root):
    """Plain code meanwhile; a lossy link may spoil the next try too, so three operations
    try before the helper is given up for good."""
    data = os.urandom(3000)
    (board_root / "f.bin").write_bytes(data)
    await load_helper(session, ("ls",))
    sent = damage_loads(session, "rd", 10**6)
    seen = []
    for _ in range(4):
        assert await session.fs.read("/f.bin") == data
        seen.append((len(sent), session.helper))
    assert seen == [(3, True), (6, True), (9, False), (9, False)]  # (True: its other parts)


async def test_a_helper_the_board_lost_is_loaded_again(session, board_root):
    (board_root / "a.txt").write_text("a")
    await load_helper(session)
    await session.exec("del _mptui")  # (a program that cleared the globals)
    assert [e.path for e in await session.fs.ls("/")] == ["a.txt"]
    await session.exec("del _mptui.ls\n_mptui.p='base'")  # another tool loaded it afresh
    assert [e.path for e in await session.fs.ls("/")] == ["a.txt"]
    assert await session.eval("_mptui.p") == "base,ls"
    send_code, sent = session.repl.send_code, []

    async def counted_send_code(code, *rest):
        sent.append(code)
        await send_code(code, *rest)

    session.repl.send_code = counted_send_code
    with pytest.raises(BoardOSError) as e:  # the board's own error: no load, no second call
        await session.fs.ls("/missing")
    assert e.value.errname == "ENOENT" and len(sent) == 1
    await session.exec("_mptui.ls = lambda p, r: nowhere")  # a NameError of its own
    sent.clear()
    with pytest.raises(BoardExecError) as e2:
        await session.fs.ls("/")
    assert str(e2.value) == "NameError: name 'nowhere' isn't defined" and len(sent) == 1


async def test_a_probe_damaged_on_the_way_is_made_again_at_the_next_operation(session, board_root):
    data = os.urandom(3000)
    (board_root / "f.bin").write_bytes(data)
    assert await session.fs.read("/f.bin") == data  # (a session's first read goes one-shot)
    session.helper = None  # (not probed yet)
    send_code, probes = session.repl.send_code, []

    async def damaging_send_code(code, *rest):
        text = code.encode() if isinstance(code, str) else code
        if b"def _mptui_i():" in text:
            probes.append(text)
            if len(probes) == 1:
                text = text.replace(b"def _mptui_i():", b"def _mptui_i(:")  # a SyntaxError
        await send_code(text, *rest)

    session.repl.send_code = damaging_send_code
    assert await session.fs.read("/f.bin") == data  # plain code for this one
    assert len(probes) == 1 and session.helper is None
    assert await session.fs.read("/f.bin") == data
    assert len(probes) == 2 and session.helper is True


async def test_a_board_without_hashlib_has_its_hashes_made_here(session, board_root):
    data = os.urandom(3000)
    (board_root / "d").mkdir()
    (board_root / "d" / "f.bin").write_bytes(data)
    await session.exec("import sys\nclass _H:\n pass\nsys.modules['hashlib'] = _H")
    session.helper = None  # probed afresh: no sha256 on the board
    digest = hashlib.sha256(data).hexdigest()
    assert await session.fs.sha256("/d/f.bin") == digest
    assert session.caps is not None and not session.caps.sha256
    assert await session.fs.tree_hashes("/d") == {"f.bin": (3000, digest)}
    # the hash part (it needs sha256) never tried: the rest of the helper still in use
    assert "hash" not in session.loader.parts and session.helper is True


@pytest.mark.parametrize("times", [1, 2])
async def test_a_part_short_of_memory_loads_again_from_the_start_once(session, board_root, times):
    """A MemoryError loading a part (a fragmented heap): the old helper is let go, the heap
    collected, and the helper loaded from its base part; a second one gives it up."""
    data = os.urandom(3000)
    (board_root / "f.bin").write_bytes(data)
    await load_helper(session, ("ls",))
    bases = damage_loads(session, "base", 0)
    sent = damage_loads(session, "rd", times, b"MemoryError")
    assert await session.fs.read("/f.bin") == data
    assert len(sent) == 2 and len(bases) == 1  # base once more, after the collection
    if times == 1:
        assert session.helper is True and session.loader.parts == {"base", "rd"}
        assert await session.eval("_mptui.p") == "base,rd"
    else:
        assert session.helper is False  # plain code from now on


async def test_a_board_without_a_binary_stdout_gets_plain_code(session, board_root):
    """Its probe says sys.stdout has no `buffer` (old firmware): no part is sent, files go
    through plain raw-REPL code."""
    data = os.urandom(3000)
    (board_root / "f.bin").write_bytes(data)
    session.helper = None
    async with session.operation() as repl:
        caps = await session.loader.probe(repl)
    session.loader.caps = replace(caps, stdout_buffer=False)
    send_code, sent = session.repl.send_code, []

    async def spied_send_code(code, *rest):
        sent.append(code.encode() if isinstance(code, str) else code)
        await send_code(code, *rest)

    session.repl.send_code = spied_send_code
    assert await session.fs.read("/f.bin") == data
    await session.fs.write("/g.bin", data)
    assert (board_root / "g.bin").read_bytes() == data
    assert session.helper is False and not await session.eval("'_mptui' in globals()")
    assert sent and not [code for code in sent if b"_mptui." in code]  # no call of a part


def test_which_board_errors_mean_a_plain_write_was_damaged_on_the_way():
    """A plain write's code raises only the filesystem's OSErrors and MemoryError: any other
    error (or an OSError whose text is damaged, or EIO: the guard's) is damage, sent again."""
    from mptui.board.errors import BoardExecError, exec_error
    from mptui.board.fs_plain import damaged

    def error(last: str) -> BoardExecError:
        return exec_error(f"Traceback (most recent call last):\n  File \"<stdin>\"\n{last}")

    for last in ("ValueError: sha256 mismatch", "ValueError: size mismatch", "SyntaxError: invalid",
                 "NameError: name '_mptui_w' isn't defined", "IndentationError: unexpected",
                 "OSError: 5", "OSError: [Errno 5] EIO", "ValueError: invalid literal",
                 "OSError: mismatch", "TypeError: mismatch", "KeyError: _mptuui_s"):
        assert damaged(error(last)), last
    for last in ("OSError: [Errno 28] ENOSPC", "OSError: 2", "OSError: [Errno 2] ENOENT",
                 "MemoryError: memory allocation failed", "KeyboardInterrupt: "):
        assert not damaged(error(last)), last
    assert not damaged(BoardError("ValueError: sha256 mismatch"))  # not the board's traceback
