"""Compressed writes (deflate, where the board inflates and the link is slow enough for it to
pay) give the same files as plain ones; boards without deflate or with too little heap fall
back; a 40 KB heap (an ESP8266's) takes every kind of transfer."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import load_helper, spy_writes

from mptui.board import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from engine import python_source

SOURCE = python_source(60_000)
FILES = {"random.bin": os.urandom(60_000), "source.py": SOURCE, "empty": b"", "one": b"1",
         "short.py": SOURCE[:300]}


async def write_counted(session, board_root, files: dict[str, bytes]) -> int:
    """Writes the files in one go; the bytes the host sent meanwhile."""
    sent = spy_writes(session.transport)
    errors = await session.fs.write_many([(f"/{n}", d, None) for n, d in files.items()])
    assert errors == [None] * len(files)
    for name, data in files.items():
        assert (board_root / name).read_bytes() == data, name
    return len(sent)


@pytest.mark.parametrize("slow", [True, False], ids=["deflated", "as-is"])
async def test_compressed_and_plain_writes_give_the_same_files(session, board_root, slow):
    await load_helper(session)
    assert session.caps.inflate  # (the unix port's deflate decompresses)
    if slow:
        session.link.rate = 11_520.0  # as measured on a UART: the board has time to inflate
    sent = await write_counted(session, board_root, FILES)
    total = sum(len(d) for d in FILES.values())
    if slow:  # the source went deflated (a third of it or less), the random bytes as they are
        assert 60_000 < sent < 60_000 + len(SOURCE) // 3 + 2_000
    else:
        assert sent > total


@pytest.mark.parametrize("change", [{"deflate": 0}, {"iobase": False}, {"free": 6_000}],
                         ids=["no-deflate", "no-iobase", "little-heap"])
async def test_a_board_that_cannot_inflate_gets_the_bytes_as_they_are(session, board_root, change):
    await load_helper(session)
    session.link.rate = 11_520.0
    session.loader.caps = replace(session.caps, **change)
    sent = await write_counted(session, board_root, {"source.py": SOURCE})
    assert sent > len(SOURCE)


async def test_an_esp8266_heap_takes_every_transfer(board_root):
    """40 KB of heap: a 1 MB file each way, source deflated, a 20-file package, hashes."""
    async with Session("virtual:small?heap=40k", root=board_root) as s:
        s.link.rate = 11_520.0  # (compressed as on its UART, at the fast link's speed)
        big = os.urandom(1_000_000)
        await s.fs.write("/big.bin", big)
        assert (board_root / "big.bin").read_bytes() == big
        assert await s.fs.read("/big.bin") == big
        assert s.caps.free < 45_000
        await s.fs.mkdir("/pkg")
        package = {f"pkg/m{i:02}.py": python_source(300 + 200 * i) for i in range(20)}
        await write_counted(s, board_root, package)
        assert await s.fs.read("/pkg/m19.py") == package["pkg/m19.py"]
        hashes = await s.fs.tree_hashes("/pkg")
        assert len(hashes) == 20


async def test_a_write_measures_the_link_for_the_next_choices(board_root):
    # The rate a stream measured is kept: it sizes later frames, silences and patience (a
    # UART link: its stream takes long enough to be measured).
    async with Session("virtual:m?link=uart:115200", root=board_root) as s:
        await load_helper(s)
        assert s.link.rate is None
        data = os.urandom(12_000)
        await s.fs.write("/m.bin", data)
        assert (board_root / "m.bin").read_bytes() == data
        assert s.link.rate is not None and 0 < s.link.rate < 300_000
