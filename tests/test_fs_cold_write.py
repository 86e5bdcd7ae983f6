"""A session's first write of data that does not compress (a command line's `cp` of a binary
file): the stream's write function goes with its call (helper.one_shot_write: no probe of the
board, no helper parts), against the real runtime on each link profile; the board's files
read back. What it did not write (damaged on the way, a board that cannot run it) goes the
usual way; what deflates, and every later write, goes through the helper."""

from __future__ import annotations

import asyncio
import os

import pytest
from helpers import run_cli, spy_writes, until

from mptui.board import BoardOSError
from mptui.board.batch import IntoFolder
from mptui.board.fs import TMP_SUFFIX
from mptui.board.helper import PROBE_CODE

ALL_BYTES = bytes(range(256)) + os.urandom(5000)  # (every byte value; it does not deflate)
ONE_SHOT = b"import io,deflate\nexec(deflate.DeflateIO(io.BytesIO(b'"


def _codes(session) -> list[bytes]:
    """From now on: each piece of code the session sends to the board."""
    repl, sent = session.repl, []
    real = repl.send_code

    async def send_code(code, *rest):
        sent.append(code.encode() if isinstance(code, str) else code)
        await real(code, *rest)

    repl.send_code = send_code
    return sent


async def test_the_first_write_sends_its_function_with_its_call(session, board_root,
                                                                 link_profile):
    (board_root / "a.bin").write_bytes(b"old")
    codes, wire = _codes(session), spy_writes(session.transport)
    await session.fs.write("/a.bin", ALL_BYTES)
    assert (board_root / "a.bin").read_bytes() == ALL_BYTES
    assert len(codes) == 1 and codes[0].startswith(ONE_SHOT)  # one call, no probe, no parts
    assert session.caps is None and not session.loader.parts
    # the stream's bytes, and little more than its function (the probe and the helper's
    # parts are about twice that)
    assert len(wire) < len(ALL_BYTES) + 1600
    # the next write: the board probed and the helper's stream loaded (their way from now)
    await session.fs.write("/b.bin", ALL_BYTES)
    assert (board_root / "b.bin").read_bytes() == ALL_BYTES
    assert PROBE_CODE.encode() in codes[1] and "wb" in session.loader.parts
    assert sorted(os.listdir(board_root)) == ["a.bin", "b.bin"]


async def test_a_first_write_that_deflates_goes_through_the_helper(board_root):
    """On a slow link what deflates goes deflated, through the helper's parts."""
    from mptui.board import Session

    source = b"".join(b"value_%d = %d  # a line of source\n" % (i, i) for i in range(300))
    async with Session("virtual:src?link=uart:115200", root=board_root) as s:
        codes = _codes(s)
        await s.fs.write("/s.py", source)
        assert not any(c.startswith(ONE_SHOT) for c in codes)
        assert s.caps is not None and "wb" in s.loader.parts
    assert (board_root / "s.py").read_bytes() == source


async def test_several_first_files_go_in_one_call_each_answered(session, board_root):
    """Files to a missing folder fail alone with the board's error; the others are written."""
    files = [("/x.bin", os.urandom(500), None), ("/nope/y.bin", os.urandom(700), None),
             ("/z.bin", b"", None), ("/w.bin", ALL_BYTES, None)]
    codes = _codes(session)
    errors = await session.fs.write_many(files)
    assert len(codes) == 1 and codes[0].startswith(ONE_SHOT)
    assert errors[0] is None and errors[2] is None and errors[3] is None
    assert isinstance(errors[1], BoardOSError) and errors[1].errno == 2
    assert errors[1].path == "/nope/y.bin"
    for path, data, _ in (files[0], files[2], files[3]):
        assert (board_root / path[1:]).read_bytes() == data
    assert sorted(os.listdir(board_root)) == ["w.bin", "x.bin", "z.bin"]


async def test_a_board_that_cannot_run_it_gets_the_file_the_usual_way(session, board_root):
    """A board without `deflate` (older firmware) fails the function before its stream: the
    file goes through the helper, probed, as if the first try had not been made."""
    await session.exec("import sys\nsys.modules['deflate']=None")
    codes = _codes(session)
    await session.fs.write("/n.bin", ALL_BYTES)
    assert (board_root / "n.bin").read_bytes() == ALL_BYTES
    assert codes[0].startswith(ONE_SHOT) and PROBE_CODE.encode() in codes[1]
    assert session.caps is not None and session.caps.deflate == 0
    assert sorted(os.listdir(board_root)) == ["n.bin"]


async def test_a_first_write_damaged_on_the_way_is_sent_again_whole(session, board_root):
    """A byte of the first stream's data changed on the way: the board's check drops it, and
    the file goes again (the usual way), whole; no temporary file stays."""
    (board_root / "d.bin").write_bytes(b"old")
    data = os.urandom(5000)
    marker = data[2000:2016]
    real, hits = session.transport.write, []

    async def write(out: bytes) -> None:
        i = out.find(marker)
        if i >= 0 and not hits:
            hits.append(i)
            out = out[:i] + bytes([out[i] ^ 0x20]) + out[i + 1 :]
        await real(out)

    session.transport.write = write
    codes = _codes(session)
    await session.fs.write("/d.bin", data)
    assert hits and codes[0].startswith(ONE_SHOT) and len(codes) > 1
    assert (board_root / "d.bin").read_bytes() == data
    assert sorted(os.listdir(board_root)) == ["d.bin"]


async def test_a_cancelled_first_write_leaves_the_old_file_and_a_usable_board(board_root):
    from mptui.board import Session

    (board_root / "c.bin").write_bytes(b"before")
    tmp = board_root / ("c.bin" + TMP_SUFFIX)
    async with Session("virtual:cancel?link=uart:115200", root=board_root) as s:
        codes = _codes(s)
        task = asyncio.create_task(s.fs.write("/c.bin", os.urandom(200_000)))
        await until(lambda: tmp.exists() and tmp.stat().st_size > 0, 30,
                    "the first bytes on the board")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert codes[0].startswith(ONE_SHOT)
        assert sorted(os.listdir(board_root)) == ["c.bin"]  # the board dropped its temporary
        assert (board_root / "c.bin").read_bytes() == b"before"
        assert await s.eval("6*7") == 42


@pytest.mark.parametrize("way", ["one-shot", "helper", "plain"])
async def test_a_file_never_takes_the_place_of_a_folder(session, board_root, way):
    """littlefs removes an empty folder as it removes a file: the rename fallback of every
    write (for ports that will not rename onto a file) must not, or an empty folder becomes a
    file. The folder stays, the error says why, no temporary is left."""
    (board_root / "empty").mkdir()
    (board_root / "full").mkdir()
    (board_root / "full" / "f").write_bytes(b"kept")
    if way == "helper":
        await session.fs.write("/warm.py", b"x = 1\n" * 50)  # probed, helper loaded
    elif way == "plain":
        session.helper = False
    for folder in ("/empty", "/full"):
        with pytest.raises(BoardOSError) as e:
            await session.fs.write(folder, ALL_BYTES)
        assert "EISDIR" in str(e.value)
    assert (board_root / "empty").is_dir() and not any((board_root / "empty").iterdir())
    assert (board_root / "full" / "f").read_bytes() == b"kept"
    assert not [p for p in board_root.rglob("*") if p.name.endswith(TMP_SUFFIX)]
    await session.fs.write("/empty/a.bin", ALL_BYTES)  # the board still takes files
    assert (board_root / "empty" / "a.bin").read_bytes() == ALL_BYTES


async def test_a_target_that_is_a_folder_is_asked_about_in_the_one_shot_call(
        session, board_root, link_profile):
    """`cp FILE :DEST` with DEST a folder: the board says so in the write's own call (no
    round trip first), and the file goes into it; a file or nothing there: DEST itself."""
    (board_root / "lib").mkdir()
    (board_root / "lib" / "a.bin").write_bytes(b"old")
    codes = _codes(session)
    assert await session.fs.write_many([(IntoFolder("/lib", "a.bin"), ALL_BYTES, None)]) == [None]
    assert len(codes) == 1 and codes[0].startswith(ONE_SHOT)
    assert (board_root / "lib" / "a.bin").read_bytes() == ALL_BYTES
    assert sorted(os.listdir(board_root)) == ["lib"]
    assert sorted(os.listdir(board_root / "lib")) == ["a.bin"]


@pytest.mark.parametrize("there", ["file", "nothing"])
async def test_a_target_that_is_no_folder_is_written_as_named(session, board_root, there):
    if there == "file":
        (board_root / "t.bin").write_bytes(b"old")
    codes = _codes(session)
    await session.fs.write(IntoFolder("/t.bin", "a.bin"), ALL_BYTES)
    assert len(codes) == 1 and codes[0].startswith(ONE_SHOT)
    assert (board_root / "t.bin").read_bytes() == ALL_BYTES
    assert sorted(os.listdir(board_root)) == ["t.bin"]


async def test_a_folder_target_after_the_first_write_is_asked_first(session, board_root):
    """Not one-shot (the board probed, the helper loaded): a stat says it is a folder."""
    await session.fs.write("/first.bin", ALL_BYTES)
    (board_root / "lib").mkdir()
    odd = "odd 'name\"\n.bin"  # (hostile names go into board code as repr())
    await session.fs.write(IntoFolder("/lib", odd), ALL_BYTES)
    await session.fs.write(IntoFolder("/plain.bin", "x.bin"), b"abc")
    assert (board_root / "lib" / odd).read_bytes() == ALL_BYTES
    assert (board_root / "plain.bin").read_bytes() == b"abc"
    assert sorted(os.listdir(board_root)) == ["first.bin", "lib", "plain.bin"]


def test_cp_into_a_folder_asks_the_board_in_its_write(isolated_env, tmp_path):
    """The command line's `cp -f FILE :DEST`, a fresh process: into DEST when it is a folder
    (without a trailing '/'), else DEST itself; no temporary file stays."""
    root = isolated_env / "data" / "boards" / "default"
    (root / "lib").mkdir(parents=True)
    src = tmp_path / "data.bin"
    src.write_bytes(ALL_BYTES)
    for dest in (":lib", ":lib/", ":other.bin", ":lib/x.bin"):
        r = run_cli("-d", "virtual", "cp", "-f", str(src), dest)
        assert r.returncode == 0, r.stderr
    assert (root / "lib" / "data.bin").read_bytes() == ALL_BYTES
    assert (root / "other.bin").read_bytes() == ALL_BYTES
    assert (root / "lib" / "x.bin").read_bytes() == ALL_BYTES
    assert sorted(os.listdir(root / "lib")) == ["data.bin", "x.bin"]
    assert sorted(os.listdir(root)) == ["lib", "other.bin"]


def test_cp_into_a_folder_sends_the_board_one_piece_of_code(isolated_env, tmp_path,
                                                            monkeypatch):
    """The folder question rides on the write's own call: a fresh `cp -f FILE :lib` sends the
    board the one-shot write and nothing else (no stat first)."""
    from mptui.board.repl import Repl
    from mptui.cli import main

    root = isolated_env / "data" / "boards" / "default"
    (root / "lib").mkdir(parents=True)
    src = tmp_path / "data.bin"
    src.write_bytes(ALL_BYTES)
    sent: list[bytes] = []
    send_code = Repl.send_code

    async def spy(self, code, *args, **kwargs):
        sent.append(code.encode() if isinstance(code, str) else bytes(code))
        return await send_code(self, code, *args, **kwargs)

    monkeypatch.setattr(Repl, "send_code", spy)
    assert main(["-d", "virtual", "cp", "-f", str(src), ":lib"]) == 0
    assert (root / "lib" / "data.bin").read_bytes() == ALL_BYTES
    assert len(sent) == 1 and sent[0].startswith(b"import io,deflate"), [c[:40] for c in sent]


async def test_bytes_literals_read_back_byte_for_byte_on_the_board(session):
    """The code's bytes literals (the one-shot function, the helper's parts, plain writes) use
    the shortest escapes: an octal escape before an octal digit must not take it in."""
    import hashlib

    from mptui.board.helper import bytes_literal

    tricky = [b"\x00", b"\x001", b"\x007", b"\x008", b"\x05\x05\x057", b"\\'\r\n\r",
              b"\x0012345", b"\x01\x37\x38\x00", bytes(range(256)) * 2, os.urandom(3000)]
    for data in tricky:
        code = b"import hashlib\nprint(hashlib.sha256(" + bytes_literal(data) + b").digest())"
        assert (await session.exec(code)).strip() == repr(hashlib.sha256(data).digest()).encode()


async def test_a_cancelled_write_into_a_folder_leaves_the_old_file(board_root):
    from mptui.board import Session
    from mptui.services.boardfs import BoardFSAdapter

    (board_root / "lib").mkdir()
    (board_root / "lib" / "c.bin").write_bytes(b"before")
    tmp = board_root / "lib" / ("c.bin" + TMP_SUFFIX)
    async with Session("virtual:cancel2?link=uart:115200", root=board_root) as s:
        board = BoardFSAdapter(s)
        task = asyncio.create_task(
            board.write_many([(IntoFolder("/lib", "c.bin"), os.urandom(200_000), None)]))
        await until(lambda: tmp.exists() and tmp.stat().st_size > 0, 30,
                    "the first bytes on the board, in the folder")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert sorted(os.listdir(board_root)) == ["lib"]
        assert sorted(os.listdir(board_root / "lib")) == ["c.bin"]
        assert (board_root / "lib" / "c.bin").read_bytes() == b"before"
        assert await s.eval("6*7") == 42
