"""The filesystem API when things go wrong, against the real runtime: a link that damages
bytes on the way, transfers cancelled half-way (the board's side stopped and its temporary
file gone before the call returns), a filesystem that fills up, the board's own errors kept,
flow control, and the rules that choose the path (helper stream, plain raw REPL, WebREPL's
file channel). Metadata and tree operations at their edges: test_fs_edges.py."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest
from helpers import WEBREPL_PW, count_link_bytes, damage_once, load_helper, spy_writes, until

from mptui.board import BoardDisconnected, BoardError, BoardOSError, Session
from mptui.board.fs import CHANNEL_MIN_WRITE, READ_TRIES, TMP_SUFFIX
from mptui.board.fs_write import WRITE_TRIES
from mptui.transports.base import FileChannelError

TRANSFER_WAIT = 30  # seconds; only turns a hang into a failure


@pytest.fixture
async def wr_session(webrepl_board):
    """A session over WebREPL: the file channel beside the REPL."""
    s = Session(webrepl_board.url, password=WEBREPL_PW, reconnect=False)
    await s.connect()
    yield s
    await s.close()


def flip(data: bytes) -> bytes:
    return data[:100] + bytes([data[100] ^ 1]) + data[101:]


def truncate(data: bytes) -> bytes:
    return data[:-1]


def damage_channel(channel, name: str, change) -> list[str]:
    """channel.get's answer or channel.put's bytes go through `change`; returns the paths."""
    real, paths = getattr(channel, name), []

    async def damaged(path, *args, **kw):
        paths.append(path)
        if name == "put":
            return await real(path, change(args[0]), *args[1:], **kw)
        return change(await real(path, *args, **kw))

    setattr(channel, name, damaged)
    return paths


# -- damaged on the way ----------------------------------------------------------------------


@pytest.mark.parametrize("helper", [True, False])
async def test_a_read_damaged_once_is_made_again_and_whole(session, board_root, helper):
    data = b"x" * 50_000
    (board_root / "d.bin").write_bytes(data)
    if helper:
        await load_helper(session)  # what follows is the read alone
    else:
        session.loader.usable = False  # plain code: repr lines, then size and sha256
    damaged = damage_once(session.transport, b"xxxx", b"xyxx")
    await session.eval("0")  # (the reader already waiting used the link's own read)
    assert await session.fs.read("/d.bin") == data
    assert damaged


@pytest.mark.parametrize("helper", [True, False])
async def test_a_read_damaged_every_time_fails_with_one_line(session, board_root, helper):
    (board_root / "d.bin").write_bytes(b"x" * 5000)
    if helper:
        await load_helper(session)
    else:
        session.loader.usable = False
    real = session.transport.read
    damaged = damage_once(session.transport, b"xxxx", b"xyxx", times=10**6)
    await session.eval("0")
    with pytest.raises(BoardError) as e:
        await session.fs.read("/d.bin")
    assert str(e.value).startswith(f"/d.bin: damaged on the way {READ_TRIES} times (")
    assert "sha256 differs" in str(e.value) and "\n" not in str(e.value)
    assert len(damaged) >= READ_TRIES
    session.transport.read = real
    await session.eval("0")
    assert await session.fs.read("/d.bin") == b"x" * 5000


async def test_a_read_damaged_twice_is_whole_on_the_third_try(session, board_root):
    # Three tries in all (README: a damaged read is made again, up to three times). The
    # file's bytes come once per try: each damaged one spoils exactly one try.
    data = b"x" * 1000
    (board_root / "d.bin").write_bytes(data)
    await load_helper(session)
    damaged = damage_once(session.transport, b"xxxx", b"xyxx", times=2)
    await session.eval("0")
    assert await session.fs.read("/d.bin") == data
    assert len(damaged) == 2
    damaged = damage_once(session.transport, b"xxxx", b"xyxx", times=3)
    await session.eval("0")
    with pytest.raises(BoardError, match=r"^/d\.bin: damaged on the way 3 times \("):
        await session.fs.read("/d.bin")
    assert len(damaged) == 3


async def test_a_read_that_loses_a_byte_on_the_way_is_made_again(session, board_root):
    (board_root / "e.bin").write_bytes(b"x" * 1000)
    await load_helper(session)
    damaged = damage_once(session.transport, b"xxxx", b"xxx")  # one byte short
    await session.eval("0")  # (the reader already waiting used the link's own read)
    assert await session.fs.read("/e.bin") == b"x" * 1000
    assert damaged


@pytest.mark.parametrize("helper", [True, False], ids=["sha256", "size"])
async def test_a_channel_read_damaged_on_the_way_fails(wr_session, webrepl_board, helper):
    if not helper:
        wr_session.helper = False  # the board then checks the size only (no hashlib)
    fs, channel = wr_session.fs, wr_session.transport.file_channel
    fs.use_file_channel = True
    data = os.urandom(5000)
    (webrepl_board.root / "c.bin").write_bytes(data)
    real = channel.get
    paths = damage_channel(channel, "get", flip if helper else truncate)
    with pytest.raises(BoardError, match="read verification failed") as e:
        await fs.read("/c.bin")
    assert str(e.value).startswith("/c.bin: damaged on the way ") and "\n" not in str(e.value)
    assert paths == ["/c.bin"] * READ_TRIES  # made again each time
    channel.get = real
    assert await fs.read("/c.bin") == data


@pytest.mark.parametrize("helper", [True, False], ids=["sha256", "size"])
async def test_a_channel_write_damaged_on_the_way_keeps_the_old_file(wr_session, webrepl_board,
                                                                     helper):
    if not helper:
        wr_session.helper = False
    fs, channel, root = wr_session.fs, wr_session.transport.file_channel, webrepl_board.root
    fs.use_file_channel = True
    (root / "w.bin").write_bytes(b"old\n")
    real = channel.put
    paths = damage_channel(channel, "put", flip if helper else truncate)
    await wr_session.eval("0")
    sent = spy_writes(wr_session.transport)
    with pytest.raises(BoardError, match="write verification failed") as e:
        await fs.write("/w.bin", os.urandom(5000))
    assert str(e.value).startswith("/w.bin: ")
    assert b"\x03" not in sent  # no code of ours was left running: nothing to stop
    assert paths == ["/w.bin" + TMP_SUFFIX]
    assert sorted(os.listdir(root)) == ["w.bin"]  # the damaged copy removed, the old file kept
    assert (root / "w.bin").read_bytes() == b"old\n"
    channel.put = real
    new = os.urandom(5000)
    await fs.write("/w.bin", new)
    assert (root / "w.bin").read_bytes() == new


async def test_a_cancelled_channel_write_leaves_no_temporary_file(wr_session, webrepl_board):
    root = webrepl_board.root
    (root / "c.bin").write_bytes(b"before")
    wr_session.fs.use_file_channel = True
    sent = []
    task = asyncio.create_task(wr_session.fs.write("/c.bin", os.urandom(5_000_000),
                                                   progress=lambda d, t: sent.append(d)))
    tmp = root / ("c.bin" + TMP_SUFFIX)
    await until(lambda: sent and tmp.exists() and tmp.stat().st_size > 0, TRANSFER_WAIT,
                "bytes on the board")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(os.listdir(root)) == ["c.bin"] and (root / "c.bin").read_bytes() == b"before"


async def test_a_file_channel_failure_is_a_board_error_naming_the_file(wr_session, webrepl_board):
    fs, channel = wr_session.fs, wr_session.transport.file_channel
    fs.use_file_channel = True
    (webrepl_board.root / "c.bin").write_bytes(os.urandom(5000))

    async def failing(path, *args, **kwargs):
        raise FileChannelError("the board stopped answering (WebREPL)")

    channel.get = channel.put = failing
    for transfer in (fs.read("/c.bin"), fs.write("/c.bin", os.urandom(5000))):
        with pytest.raises(BoardError) as e:
            await transfer
        assert str(e.value) == "/c.bin: the board stopped answering (WebREPL)"
        assert not isinstance(e.value, BoardDisconnected)  # the link itself is fine
    assert sorted(os.listdir(webrepl_board.root)) == ["c.bin"]


async def test_which_transfers_take_the_file_channel(wr_session, webrepl_board):
    fs, channel, root = wr_session.fs, wr_session.transport.file_channel, webrepl_board.root
    puts = damage_channel(channel, "put", lambda data: data)
    gets = damage_channel(channel, "get", lambda data: data)
    assert CHANNEL_MIN_WRITE == 1024
    small, big = os.urandom(1023), os.urandom(1024)
    await fs.write("/small.bin", small)  # the channel's two extra round trips cost more
    await fs.write("/big.bin", big)
    assert await fs.read("/big.bin") == big  # with the helper, reads stream through the REPL
    assert (puts, gets) == (["/big.bin" + TMP_SUFFIX], [])

    fs.use_file_channel = True  # whatever the channel can carry
    room = channel.max_path_bytes - len(TMP_SUFFIX)
    longest, too_long = "/" + "n" * (room - 1), "/" + "n" * room
    await fs.write(longest, b"a")
    await fs.write(too_long, b"b")  # one byte over what the channel takes: the REPL
    await fs.write("/empty", b"")  # older boards never finish an empty PUT
    assert await fs.read("/small.bin") == small
    assert puts[1:] == [longest + TMP_SUFFIX] and gets == ["/small.bin"]

    fs.use_file_channel = False
    await fs.write("/big2.bin", big)
    assert await fs.read("/big2.bin") == big
    assert len(puts) == 2 and len(gets) == 1
    assert {p.name: p.read_bytes() for p in root.iterdir()} == {
        "small.bin": small, "big.bin": big, longest[1:]: b"a", too_long[1:]: b"b",
        "empty": b"", "big2.bin": big,
    }


# -- stopped half-way ------------------------------------------------------------------------


async def test_a_cancelled_write_is_undone_on_the_board_before_it_returns(fs_session, board_root):
    session = fs_session
    await session.fs.write("/c.bin", b"before")
    tmp = board_root / ("c.bin" + TMP_SUFFIX)
    size = 20_000_000 if session.helper is not False else 1_000_000
    task = asyncio.create_task(session.fs.write("/c.bin", os.urandom(size)))
    await until(lambda: tmp.exists() and tmp.stat().st_size > 0, TRANSFER_WAIT,
                "the first bytes on the board")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(os.listdir(board_root)) == ["c.bin"]  # the board removed its temporary file
    assert (board_root / "c.bin").read_bytes() == b"before"
    assert await session.fs.read("/c.bin") == b"before"


async def test_a_write_failing_on_the_host_is_undone_on_the_board(session, board_root):
    await session.fs.write("/f.bin", b"before")

    def broken_progress(done, total):  # e.g. the UI that shows it is gone
        raise RuntimeError("the progress bar broke")

    with pytest.raises(RuntimeError, match="progress bar"):
        await session.fs.write("/f.bin", os.urandom(2_000_000), progress=broken_progress)
    assert sorted(os.listdir(board_root)) == ["f.bin"]
    assert (board_root / "f.bin").read_bytes() == b"before"
    assert await session.eval("6*7") == 42


async def test_a_cancelled_read_stops_the_board_before_it_returns(session, board_root):
    # bytes streamed as they are: the raw REPL's end marker inside the file is not its end
    (board_root / "big.bin").write_bytes((os.urandom(1000) + b"\x04>") * 20_000)
    got = []
    task = asyncio.create_task(session.fs.read("/big.bin", progress=lambda d, t: got.append(d)))
    await until(lambda: got, TRANSFER_WAIT, "the first bytes read")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    seen = count_link_bytes(session.transport)
    assert await session.eval("6*7") == 42
    assert seen[0] < 1000  # the next operation's answer alone: the file stopped streaming


async def test_a_write_the_board_refuses_gives_its_own_error_at_once(fs_session, board_root):
    await fs_session.eval("1")
    sent = spy_writes(fs_session.transport)
    with pytest.raises(BoardOSError) as e:
        await fs_session.fs.write("/no/such/dir/f.bin", os.urandom(3000))
    assert str(e.value) == "/no/such/dir/f.bin: No such file or directory [ENOENT]"
    # the board said so and went on with the stream: nothing was sent to stop it (which
    # costs a wait for an answer)
    assert not sent.endswith(b"\x03") and b"A" + bytes(10) not in sent
    assert await fs_session.eval("1+1") == 2
    assert list(board_root.iterdir()) == []


async def test_a_read_the_board_refuses_gives_its_own_error(fs_session):
    with pytest.raises(BoardOSError) as e:
        await fs_session.fs.read("/missing.bin")
    assert str(e.value) == "/missing.bin: No such file or directory [ENOENT]"
    assert await fs_session.eval("1+1") == 2
    assert fs_session.link.squeeze == 0  # (only a MemoryError makes the blocks smaller)


@pytest.fixture(params=["helper", "plain"])
async def small_fs(request, board_root):
    """A board with a 64 KB filesystem (16 blocks of 4 KiB, 2 of them the root's): a file
    `f.bin` holding b"old" (1 block) and 40 KB of others (10), so 3 blocks, 12 KB, are free."""
    (board_root / "f.bin").write_bytes(b"old")
    (board_root / "other.bin").write_bytes(bytes(40_000))
    s = Session("virtual:test?fs=64k", root=board_root)
    await s.connect()
    if request.param == "plain":
        s.helper = False
    yield s
    await s.close()


@pytest.mark.parametrize("size", [100_000, 20_000], ids=["many-blocks", "within-the-window"])
async def test_a_full_filesystem_mid_write_gives_the_boards_error(small_fs, board_root, size):
    free = "import os\ns=os.statvfs('/')\nprint(s[0]*s[3])"
    assert await small_fs.exec(free) == b"12288\r\n"
    with pytest.raises(BoardOSError) as e:  # the first 12 KB go: the transfer had begun
        await small_fs.fs.write("/f.bin", os.urandom(size))
    assert str(e.value) == "/f.bin: No space left on device [ENOSPC]"
    assert sorted(os.listdir(board_root)) == ["f.bin", "other.bin"]  # the temporary name gone
    assert (board_root / "f.bin").read_bytes() == b"old"  # the old file survives
    assert await small_fs.eval("1+1") == 2  # the stream it cut short left nothing behind
    assert await small_fs.exec(free) == b"12288\r\n"  # its blocks are free again
    await small_fs.fs.write("/f.bin", b"n" * 12288)  # what fits, fits (the old block is kept
    assert (board_root / "f.bin").read_bytes() == b"n" * 12288  # until the rename: 3 + 1)


async def test_a_full_filesystem_refuses_a_folder_and_an_overwrite_in_place(small_fs, board_root):
    """A folder needs two blocks (its metadata pair); a file overwritten in place keeps its
    old blocks until it is closed (littlefs copies on write)."""
    await small_fs.fs.write("/g.bin", bytes(8192))  # 2 of the 3 free blocks
    with pytest.raises(BoardOSError, match="No space left on device"):
        await small_fs.fs.mkdir("/d")
    assert not (board_root / "d").exists()
    out = await small_fs.exec(
        "f=open('other.bin','wb')\ntry:\n for i in range(3):\n  f.write(bytes(4096))\n"
        "except OSError as e:\n print(e.errno)\nf.close()\nimport os\n"
        "print(os.stat('other.bin')[6])")
    assert out.split() == [b"28", b"4096"]  # its 10 old blocks held: 1 new fitted, not 10
    await small_fs.fs.rm("/g.bin")
    await small_fs.fs.mkdir("/d")
    assert (board_root / "d").is_dir()


# A board's file close writes out what the file still holds, and can fail as its writes did
# (littlefs: ENOSPC): the board's `open` made so for temporary files, the rest as it is
FAILING_CLOSE = """_real_open = open
class _Failing:
    def __init__(s, f):
        s.f, s.full = f, False
    def write(s, b):
        try:
            return s.f.write(b)
        except OSError:
            s.full = True
            raise
    def close(s):
        s.f.close()
        if s.full:
            raise OSError(28)
def open(p, m='r'):
    f = _real_open(p, m)
    return _Failing(f) if p.endswith('.mptui~') and 'w' in m else f
"""


async def test_a_close_that_fails_on_a_full_board_still_drops_the_temporary_file(small_fs,
                                                                                 board_root):
    """A write the full board refuses half-way, whose temporary file then fails to close too:
    the board's error, the old file, and no temporary file left beside it."""
    await small_fs.exec(FAILING_CLOSE)
    with pytest.raises(BoardOSError) as e:
        await small_fs.fs.write("/f.bin", os.urandom(20_000))
    assert str(e.value) == "/f.bin: No space left on device [ENOSPC]"
    assert sorted(os.listdir(board_root)) == ["f.bin", "other.bin"]
    assert (board_root / "f.bin").read_bytes() == b"old"
    assert await small_fs.eval("1+1") == 2


def damage_stream(session, times: int) -> list:
    """The link flips a byte in the first `times` writes of file data (what follows a write
    call of the helper); the list returned gets an item each time."""
    write, repl, flipped, calls = session.transport.write, session.repl, [], [0]
    send_code = repl.send_code

    async def counted_send_code(code, *rest):
        await send_code(code, *rest)  # (the call itself arrives whole: its stream is damaged)
        if b"_mptui.wb(" in (code.encode() if isinstance(code, str) else code):
            calls[0] += 1

    async def damaging_write(data: bytes) -> None:
        if calls[0] > len(flipped) and len(flipped) < times and len(data) > 100:
            flipped.append(data)
            data = data[:60] + bytes([data[60] ^ 1]) + data[61:]
        await write(data)

    repl.send_code, session.transport.write = counted_send_code, damaging_write
    return flipped


async def test_a_write_damaged_once_is_sent_again_and_arrives_whole(session, board_root):
    (board_root / "d.bin").write_bytes(b"old")
    await load_helper(session)
    data = os.urandom(50_000)  # (random: it goes as it is, not deflated)
    flipped = damage_stream(session, 1)
    await session.fs.write("/d.bin", data)
    assert len(flipped) == 1
    assert sorted(os.listdir(board_root)) == ["d.bin"]
    assert (board_root / "d.bin").read_bytes() == data


async def test_a_write_damaged_twice_arrives_whole_on_the_third_try(session, board_root):
    # Three tries in all (README: a damaged write is sent again, up to three times).
    (board_root / "d.bin").write_bytes(b"old")
    await load_helper(session)
    data = os.urandom(50_000)
    flipped = damage_stream(session, 2)
    await session.fs.write("/d.bin", data)
    assert len(flipped) == 2
    assert sorted(os.listdir(board_root)) == ["d.bin"]
    assert (board_root / "d.bin").read_bytes() == data


async def test_a_write_damaged_every_time_keeps_the_old_file(session, board_root):
    (board_root / "d.bin").write_bytes(b"old")
    await load_helper(session)
    flipped = damage_stream(session, WRITE_TRIES)
    with pytest.raises(BoardError) as e:
        await session.fs.write("/d.bin", os.urandom(50_000))
    assert str(e.value) == f"/d.bin: damaged on the way {WRITE_TRIES} times; old file kept"
    assert len(flipped) == WRITE_TRIES
    assert sorted(os.listdir(board_root)) == ["d.bin"]
    assert (board_root / "d.bin").read_bytes() == b"old"
    assert await session.eval("6*7") == 42


async def test_a_byte_lost_in_the_stream_is_made_up_for_and_the_file_sent_again(session,
                                                                               board_root):
    """The board reads whole units: with a byte of the stream lost it waits for one that
    never comes. After a silence the host pads the stream, the board finds it out of step,
    and the file goes again."""
    (board_root / "d.bin").write_bytes(b"old")
    await load_helper(session)
    write, send_code, lost, on = session.transport.write, session.repl.send_code, [], [False]

    async def watched_send_code(code, *rest):
        await send_code(code, *rest)
        on[0] = b"_mptui.wb(" in (code.encode() if isinstance(code, str) else code)

    async def losing_write(data: bytes) -> None:
        if on[0] and not lost and len(data) > 100:
            lost.append(data[60])  # (of the file's bytes: its frame header is 50)
            data = data[:60] + data[61:]
        await write(data)

    session.repl.send_code, session.transport.write = watched_send_code, losing_write
    data = os.urandom(20_000)
    await session.fs.write("/d.bin", data)
    assert lost
    assert sorted(os.listdir(board_root)) == ["d.bin"]
    assert (board_root / "d.bin").read_bytes() == data


@pytest.mark.parametrize("check", ["sha256", "crc32"])
async def test_a_name_damaged_in_the_stream_writes_no_other_file(session, board_root, check):
    """A byte of a file's name changed on the way (here into the name of the file before it):
    the board's check (sha256, or crc32 on a board without hashlib) covers the name with the
    data, so nothing is written under the wrong name, and the file goes again."""
    for k in range(2):
        (board_root / f"m{k}.py").write_bytes(b"old")
    if check == "crc32":  # a hashlib without sha256, from the board's first look on
        await session.exec("import sys\nclass _H:\n pass\nsys.modules['hashlib'] = _H")
    await load_helper(session, ("wb",))
    assert session.caps.sha256 is (check == "sha256")
    write, changed = session.transport.write, []

    async def damaging_write(data: bytes) -> None:
        if b"/m1.py" in data and not changed:
            changed.append(data)
            data = data.replace(b"/m1.py", b"/m0.py", 1)
        await write(data)

    session.transport.write = damaging_write
    files = [(f"/m{k}.py", f"X = {k}\n".encode() * 50, None) for k in range(2)]
    assert await session.fs.write_many(files) == [None, None]
    assert changed
    assert {p.name: p.read_bytes() for p in board_root.iterdir()} == {
        "m0.py": files[0][1], "m1.py": files[1][1]}


@pytest.mark.parametrize("times", [1, WRITE_TRIES])
async def test_a_plain_write_damaged_on_the_way_is_sent_again(session, board_root, times):
    """Without the helper: a byte of a write call's data changed on the way; the board's check
    refuses the file, which goes again (up to WRITE_TRIES times, then one line, old file kept)."""
    (board_root / "d.bin").write_bytes(b"old")
    session.helper = False
    send_code, damaged = session.repl.send_code, []

    async def damaging_send_code(code, *rest):
        text = code.encode() if isinstance(code, str) else code
        if text.startswith(b"_mptui_w(b'xxxx") and len(damaged) < times:  # a try's first
            damaged.append(text)
            text = text.replace(b"xxxx", b"xyxx", 1)
        await send_code(text, *rest)

    session.repl.send_code = damaging_send_code
    data = b"x" * 512 + b"z" * 1488  # four write calls a try
    if times < WRITE_TRIES:
        await session.fs.write("/d.bin", data)
        assert (board_root / "d.bin").read_bytes() == data
    else:
        with pytest.raises(BoardError) as e:
            await session.fs.write("/d.bin", data)
        assert str(e.value) == f"/d.bin: damaged on the way {WRITE_TRIES} times; old file kept"
        assert (board_root / "d.bin").read_bytes() == b"old"
    assert len(damaged) == times
    assert sorted(os.listdir(board_root)) == ["d.bin"]


async def test_the_host_never_has_more_in_flight_than_the_board_has_room_for(board_root):
    """Flow control on a UART's 256-byte ring: every byte of the stream goes only once the
    board has acknowledged enough units that the ring can hold it."""
    async with Session("virtual:flow?link=uart:115200", root=board_root) as s:
        await load_helper(s)
        repl, seen = s.repl, {"acks": 0, "sent": 0, "worst": 0, "on": False}
        take, write, send_code = repl.take, s.transport.write, repl.send_code

        async def watched_send_code(code, *rest):
            await send_code(code, *rest)
            seen["on"] = b"_mptui.wb(" in (code.encode() if isinstance(code, str) else code)

        def counted_take() -> bytes:
            data = take()
            if seen["on"]:
                seen["acks"] += data.count(b"\x01")
            return data

        async def watched_write(data: bytes) -> None:
            if seen["on"]:
                seen["sent"] += len(data)
                unit = s.link.sizes(s.caps).unit
                seen["worst"] = max(seen["worst"], seen["sent"] - seen["acks"] * unit)
            await write(data)

        repl.send_code, repl.take, s.transport.write = watched_send_code, counted_take, watched_write
        data = os.urandom(20_000)
        await s.fs.write("/flow.bin", data)
        assert (board_root / "flow.bin").read_bytes() == data
        assert 200 < seen["worst"] <= 256 - 8
        assert s.transport.board.wire.dropped == 0


async def test_a_hostile_row_in_the_tree_hashes_is_one_line_naming_it(session, board_root):
    name, data = "n" * 70, b"hello"
    (board_root / name).write_bytes(data)
    await load_helper(session)
    digest = hashlib.sha256(data).hexdigest()
    damaged = damage_once(session.transport, f"'{digest}'".encode(), b"None")
    await session.eval("0")
    with pytest.raises(BoardError) as e:
        await session.fs.tree_hashes("/")
    assert damaged
    row = str(((name,), len(data), None))
    assert str(e.value) == f"unreadable answer from the board: {row[:60]!r}"


async def test_a_hostile_row_in_a_listing_is_one_line_naming_it(session, board_root):
    name = "n" * 70
    (board_root / name).write_bytes(b"hello")
    await load_helper(session)
    damaged = damage_once(session.transport, b"',), 5)", b"',), None)")  # no size
    await session.eval("0")
    with pytest.raises(BoardError) as e:
        await session.fs.ls("/")
    assert damaged
    assert str(e.value) == f"unreadable answer from the board: {str(((name,), None))[:60]!r}"


async def test_lost_acknowledgements_do_not_stall_a_write(board_root):
    """A UART link loses the board's first four acknowledgements (a whole window's worth):
    after a silence the host counts them as come, and the file arrives whole."""
    async with Session("virtual:acks?link=uart:115200", root=board_root) as s:
        await load_helper(s)
        real, lost, ready = s.transport.read, [], []

        async def read() -> bytes:
            out = bytearray()
            for b in await real():
                if b == 6:  # the board is ready: acknowledgements (1) follow
                    ready.append(b)
                if ready and b == 1 and len(lost) < 4:
                    lost.append(b)
                    continue
                out.append(b)
            return bytes(out)

        s.transport.read = read
        await s.eval("0")  # (the reader already waiting used the link's own read)
        data = os.urandom(3_000)
        await s.fs.write("/a.bin", data)
        assert (board_root / "a.bin").read_bytes() == data
        assert len(lost) == 4
