"""The pipelined write stream (board/batch.py, the helper's wb) when its words are damaged on
the way: the board's answer about a file counts only when it arrived whole and belongs to this
call; a damaged call, a stream out of step or a silent board is damage, sent again, then one
error per file. Each against the real virtual board, the board's files read back."""

from __future__ import annotations

import errno
import os
import re

import pytest
from helpers import load_helper

from mptui.board import Session
from mptui.board.errors import BoardError, BoardOSError, Damaged
from mptui.board.fs import TMP_SUFFIX
from mptui.board.fs_write import WRITE_TRIES
from mptui.board.helper import guarded


def _watch_stream(session):
    """Counts the write calls sent (`calls`), keeps what the board sent during each (`said`),
    and lets a test change what the host sends (`outgoing`; `code`: a piece of code as a
    whole, as the link would damage it on its way) or what it reads (`incoming`)."""
    repl, transport = session.repl, session.transport
    send_code, take, write = repl.send_code, repl.take, transport.write
    w = {"calls": 0, "said": [], "outgoing": None, "incoming": None, "code": None}

    async def counted_send_code(code, *rest):
        data = code.encode() if isinstance(code, str) else code
        if b"_mptui.wb(" in data:
            w["calls"] += 1
            w["said"].append(bytearray())
        await send_code(w["code"](data) if w["code"] else data, *rest)

    def watched_take() -> bytes:
        data = take()
        if w["said"] and data:
            w["said"][-1].extend(data)
            if w["incoming"]:
                data = w["incoming"](data)
        return data

    async def watched_write(data: bytes) -> None:
        if w["outgoing"]:
            data = w["outgoing"](data)
        await write(data)

    repl.send_code, repl.take, transport.write = counted_send_code, watched_take, watched_write
    return w


def _status_lines(said: bytes) -> list[bytes]:
    return [part.split(b"\n", 1)[0] for part in said.split(b"\x02")[1:]]


async def test_a_late_answer_from_an_earlier_call_never_marks_another_file_written(
        session, board_root):
    """m3 is damaged in every call; the retry's stream first meets the earlier call's answer
    'file 0 written' (late, or repeated on the way) and its own answers are lost: that must
    not mark m3 (the retry's file 0) as written."""
    await load_helper(session)
    files = [(f"/m{k}.bin", os.urandom(300), None) for k in range(5)]
    marker = files[3][1][:32]
    w = _watch_stream(session)
    damaged = []

    def outgoing(data: bytes) -> bytes:
        i = data.find(marker)
        if i >= 0:
            damaged.append(w["calls"])
            data = data[:i] + bytes([data[i] ^ 0x55]) + data[i + 1 :]
        return data

    replayed = []

    def incoming(data: bytes) -> bytes:
        if w["calls"] < 2:
            return data
        data = re.sub(rb"\x02[^\n]*\n", b"", data)  # the retry's own answers lost
        if len(replayed) < w["calls"] - 1:
            first = _status_lines(bytes(w["said"][0]))[0]  # the first call's 'file 0 written'
            replayed.append(first)
            return b"\x02" + first + b"\n" + data
        return data

    w["outgoing"], w["incoming"] = outgoing, incoming
    errors = await session.fs.write_many(files)
    assert damaged == list(range(1, WRITE_TRIES + 1)) and len(replayed) == WRITE_TRIES - 1
    assert isinstance(errors[3], Damaged) and "old file kept" in str(errors[3])
    assert not (board_root / "m3.bin").exists()
    for k in (0, 1, 2, 4):
        assert errors[k] is None and (board_root / f"m{k}.bin").read_bytes() == files[k][1]
    assert not [p for p in os.listdir(board_root) if p.endswith(TMP_SUFFIX)]


async def test_an_answer_damaged_on_the_way_is_not_taken_for_another_files(session, board_root):
    """The board's answer 'file 0 written' arrives with its index changed to 1 while file 1
    itself is damaged: file 1 is not reported written (the line's checksum fails), both go
    again and arrive."""
    await load_helper(session)
    files = [(f"/n{k}.bin", os.urandom(300), None) for k in range(2)]
    marker = files[1][1][:32]
    w = _watch_stream(session)
    changed = []

    def outgoing(data: bytes) -> bytes:
        i = data.find(marker)
        if i >= 0 and w["calls"] == 1:
            data = data[:i] + bytes([data[i] ^ 0x55]) + data[i + 1 :]
        return data

    def incoming(data: bytes) -> bytes:
        i = data.find(b", 0, ")
        if w["calls"] == 1 and not changed and i >= 0:
            changed.append(data)
            data = data[:i] + b", 1, " + data[i + 5 :]
        return data

    w["outgoing"], w["incoming"] = outgoing, incoming
    errors = await session.fs.write_many(files)
    assert changed and w["calls"] == 2
    assert errors == [None, None]
    for k in range(2):
        assert (board_root / f"n{k}.bin").read_bytes() == files[k][1]


async def test_a_damaged_write_call_is_sent_again(session, board_root):
    """The call that starts the stream arrives damaged (its guard stops it: OSError 5, the
    board's own traceback): damage, sent again, the file written; never a raw error."""
    (board_root / "c.bin").write_bytes(b"old")
    await load_helper(session)
    data = os.urandom(500)
    w = _watch_stream(session)
    hits = []

    def outgoing(out: bytes) -> bytes:
        i = out.find(b"_mptui.wb(")
        if i >= 0 and not hits:
            hits.append(out)
            out = out[:i] + b"_mptui.wc(" + out[i + 10 :]
        return out

    w["outgoing"] = outgoing
    await session.fs.write("/c.bin", data)
    assert hits and w["calls"] == 2
    assert (board_root / "c.bin").read_bytes() == data
    assert sorted(os.listdir(board_root)) == ["c.bin"]


async def test_a_path_damaged_on_the_way_never_names_another_file(session, board_root):
    """A byte of the file's path changed in the stream: the board checks the path before it
    opens anything, so no file appears under the damaged name; the file goes again."""
    await load_helper(session)
    data = os.urandom(400)
    w = _watch_stream(session)
    hits = []

    def outgoing(out: bytes) -> bytes:
        i = out.find(b"/p_target.bin")
        if i >= 0 and not hits and w["calls"] == 1:
            hits.append(out)
            out = out[:i] + b"/q_target.bin" + out[i + 13 :]
        return out

    w["outgoing"] = outgoing
    assert await session.fs.write_many([("/p_target.bin", data, None)]) == [None]
    assert hits and w["calls"] == 2
    assert sorted(os.listdir(board_root)) == ["p_target.bin"]
    assert (board_root / "p_target.bin").read_bytes() == data


async def test_a_stream_whose_answers_are_all_lost_ends_in_errors_and_the_link_works(
        board_root):
    """Everything the board says during the first call is lost (its acknowledgements, its
    answers, most of its end): write_many does not raise (the host times out waiting for the
    call's end); the files go again, and the link is usable."""
    async with Session("virtual:mute", root=board_root) as s:
        await load_helper(s)
        w = _watch_stream(s)
        ended = []

        def incoming(data: bytes) -> bytes:
            # the first call's words lost, its end but for the prompt's last \x04 too: the
            # host never sees the call end as it should
            if w["calls"] != 1 or ended:
                return data
            if w["said"][0].endswith(b"\x04\x04>"):
                ended.append(True)
                return b"\x04>"
            return b""

        w["incoming"] = incoming
        files = [(f"/s{k}.bin", os.urandom(2000), None) for k in range(2)]
        errors = await s.fs.write_many(files)
        assert ended and w["calls"] >= 2
        for (path, data, _), error in zip(files, errors, strict=True):
            assert error is None or isinstance(error, Damaged)
            on_board = board_root / path[1:]
            if error is None:
                assert on_board.read_bytes() == data
            else:
                assert not on_board.exists() or on_board.read_bytes() == data
        assert await s.eval("6*7") == 42
        assert not [p for p in os.listdir(board_root) if p.endswith(TMP_SUFFIX)]


async def test_a_byte_damaged_into_the_end_marker_does_not_leave_the_board_in_the_stream(
        session, board_root):
    """The board's first acknowledgement arrives as \\x04 (the REPL's end of output): the host
    takes the call as ended while the board still reads the stream with Ctrl-C off. The host
    must end that stream, send the file again, and leave the board answering."""
    await load_helper(session)
    data = os.urandom(400_000)  # (more than the host may have in flight: the board waits)
    w = _watch_stream(session)
    faked = []

    def incoming(out: bytes) -> bytes:
        i = out.find(b"\x01")
        if w["calls"] == 1 and not faked and i >= 0:
            faked.append(out)
            out = out[:i] + b"\x04" + out[i + 1 :]
        return out

    w["incoming"] = incoming
    assert await session.fs.write_many([("/e.bin", data, None)]) == [None]
    assert faked and w["calls"] == 2
    assert (board_root / "e.bin").read_bytes() == data
    assert sorted(os.listdir(board_root)) == ["e.bin"]
    assert await session.eval("6*7") == 42


async def test_a_board_that_lost_the_helper_gets_it_again_and_the_files(session, board_root):
    """The helper went from the board's RAM unseen (a reset the session missed): the write's
    NameError loads it again and the files go; no error reaches the caller."""
    await load_helper(session)
    await session.exec("del _mptui")
    files = [(f"/h{k}.py", f"X = {k}\n".encode() * 50, None) for k in range(3)]
    assert await session.fs.write_many(files) == [None, None, None]
    for path, data, _ in files:
        assert (board_root / path[1:]).read_bytes() == data
    assert await session.eval("'wb' in _mptui.p") is True


async def test_a_plain_write_whose_last_step_never_ran_is_not_reported_written(
        session, board_root):
    """Without the helper (plain code): the step that checks and renames the file arrives
    with its call turned into a comment (a byte damaged into '#'): it runs nothing and raises
    nothing. The write must not be reported done: it goes again, and no temporary stays."""
    (board_root / "pl.bin").write_bytes(b"old")
    session.helper = False  # (plain raw-REPL code, as on a board that cannot take the helper)
    data = os.urandom(1500)
    w = _watch_stream(session)
    hits = []

    def code(data: bytes) -> bytes:
        i = data.find(b"\nexec(globals()")
        if i >= 0 and not hits and b"_mptui_fin" in data:
            hits.append(data)
            data = data[:i] + b"#" + data[i + 1 :]
        return data

    w["code"] = code
    await session.fs.write("/pl.bin", data)
    assert hits
    assert (board_root / "pl.bin").read_bytes() == data
    assert sorted(os.listdir(board_root)) == ["pl.bin"]


async def test_a_helper_part_whose_import_is_damaged_is_loaded_again(board_root):
    """A helper part's check arrives with its import damaged (ImportError on the board): that
    is damage, not a board that cannot take the helper; the part goes again and the write
    uses it (the slow plain path, much more exposed to a lossy link, is not taken)."""
    async with Session("virtual:imp", root=board_root) as s:
        w = _watch_stream(s)
        hits = []

        def code(data: bytes) -> bytes:
            if not hits and b"from binascii import crc32" in data and b"_mptui_s=" in data:
                hits.append(data)
                data = data.replace(b"from binascii import crc32", b"from binascii import crcu2")
            return data

        w["code"] = code
        async with s.operation() as repl:  # (probed: the write loads the helper's parts,
            await s.loader.probe(repl)  # not the first write's function sent with its call)
        data = os.urandom(2000)
        await s.fs.write("/i.bin", data)
        assert hits and s.helper is True and w["calls"] == 1
        assert (board_root / "i.bin").read_bytes() == data


async def test_a_failed_write_whose_clean_up_is_lost_leaves_no_temporary_file(board_root):
    """Without the helper (plain code): the board refuses a write half-way with its own error
    (its filesystem full: not damage, so not sent again) and every call that would drop the
    temporary file arrives damaged (the board's guard runs none of them). The operation's
    checked sweep at its end drops it all the same: nothing stays beside the old file once
    mptui says the write failed."""
    (board_root / "f.bin").write_bytes(b"old")
    (board_root / "other.bin").write_bytes(bytes(40_000))  # 3 blocks of 64 KB stay free
    async with Session("virtual:full?fs=64k", root=board_root) as s:
        s.helper = False
        w = _watch_stream(s)
        damaged = []

        def code(data: bytes) -> bytes:
            if b"_mptui_f.close()" in data and b"gone" in data:  # the write's clean-up
                damaged.append(data)
                data = data.replace(b"gone", b"gome", 1)
            return data

        w["code"] = code
        with pytest.raises(BoardOSError) as e:
            await s.fs.write("/f.bin", os.urandom(20_000))
        assert e.value.errno == errno.ENOSPC
        assert len(damaged) == 3  # (each try at it lost)
        assert sorted(os.listdir(board_root)) == ["f.bin", "other.bin"]
        assert (board_root / "f.bin").read_bytes() == b"old"
        assert await s.eval("6*7") == 42


async def test_a_guarded_call_damaged_after_its_check_never_both_runs_and_fails(session):
    """A byte of the guard's own code (after the payload it checks) dropped or changed on the
    way: the call either runs and says nothing wrong, or fails having run nothing. (A call
    whose code ran and then failed, its clean-up line damaged, was taken for a helper lost:
    reloaded, and once that reload was damaged too, a file written was reported failed.)"""
    marker = "_mptui_ran"
    call = guarded(f"{marker}=1")
    tail = call.index(b"\n", call.index(b"_mptui_s=") + 12)  # (the payload's literal ends)
    both = []
    for i in range(tail, len(call)):
        for damaged in (call[:i] + call[i + 1 :], call[:i] + b"#" + call[i + 1 :]):
            await session.exec(f"{marker}=0")
            try:
                await session.exec(damaged)
                failed = False
            except BoardError:
                failed = True
            if failed and await session.eval(marker) == 1:
                both.append(damaged[tail:])
    assert both == []
