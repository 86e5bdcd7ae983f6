"""The board helper's last step of a write, `place(t, p)`: the checked temporary file takes
the file's name. On ports that will not rename onto an existing file it removes the old one
first, but only when the new one is there: a rename that failed for another reason (the
temporary file gone: a command run twice, a stale retry) never costs the board its file."""

from __future__ import annotations

import pytest
from helpers import load_helper

from mptui.board import BoardOSError


async def test_place_puts_the_new_file_in_the_old_ones_place(session, board_root):
    await load_helper(session)
    (board_root / "p.txt").write_text("old")
    (board_root / "p.txt.mptui~").write_text("new")
    await session.exec("_mptui.place('/p.txt.mptui~', '/p.txt')")
    assert sorted(p.name for p in board_root.iterdir()) == ["p.txt"]
    assert (board_root / "p.txt").read_text() == "new"


async def test_place_without_the_new_file_leaves_the_old_one(session, board_root):
    await load_helper(session)
    (board_root / "p.txt").write_text("precious")
    with pytest.raises(BoardOSError) as e:
        await session.exec("_mptui.place('/p.txt.mptui~', '/p.txt')")
    assert e.value.errname == "ENOENT"
    assert (board_root / "p.txt").read_text() == "precious"
