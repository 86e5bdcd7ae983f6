"""Reads as the helper streams them, against the real runtime on each link profile: the
file's bytes as they are (every byte value), counted by the size the board gives first and
checked by its sha256 after; the session's first read sends the read function as it is (the
board not probed: fewer bytes) and the next ones use the helper in the board's RAM."""

from __future__ import annotations

import os

import pytest
from helpers import damage_once

from mptui.board import BoardOSError

ALL_BYTES = bytes(range(256)) * 12 + os.urandom(3000)


async def test_the_first_read_goes_without_the_probe_and_the_next_through_the_helper(
        session, board_root, link_profile):
    (board_root / "a.bin").write_bytes(ALL_BYTES)
    (board_root / "empty").write_bytes(b"")
    assert await session.fs.read("/a.bin") == ALL_BYTES
    assert session.caps is None and not session.loader.parts  # (the function went as it is)
    assert await session.fs.read("/empty") == b""
    assert session.caps is not None and "rd" in session.loader.parts
    assert await session.fs.read("/a.bin") == ALL_BYTES


async def test_a_first_read_that_loses_a_byte_is_made_again_whole(session, board_root):
    data = b"z" * 3000
    (board_root / "z.bin").write_bytes(data)
    await session.eval("0")  # (the reader waiting already used the link's own read)
    lost = damage_once(session.transport, b"zzzz", b"zzz")
    await session.eval("0")
    assert await session.fs.read("/z.bin") == data
    assert lost


async def test_a_first_read_of_a_missing_file_is_the_boards_own_error(session):
    with pytest.raises(BoardOSError) as e:
        await session.fs.read("/nope.bin")
    assert e.value.errno == 2 and e.value.path == "/nope.bin"
    await session.fs.write("/yes.bin", b"1")  # the session goes on
    assert await session.fs.read("/yes.bin") == b"1"
