"""A 1 MB file at 115200 baud is slow, not failed (issue 11, item 2: timeouts scale with the link
rate). Written (Python source: deflated, about 25 s), byte-identical on the board (its own
sha256), the board's ring never overrun. Reading it back takes ~95 s at the wire's 11,520 B/s: a
read at that rate is proved on smaller files (test_links.py) to keep the suite short."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import mptui
from mptui.board import Session

MEGABYTE = 1 << 20


def source_megabyte() -> bytes:
    """1 MB of real Python source (mptui's own, repeated)."""
    src = b"".join(p.read_bytes() for p in sorted(Path(mptui.__file__).parent.rglob("*.py")))
    return (src * (1 + MEGABYTE // len(src)))[:MEGABYTE]


@pytest.mark.timeout(240)  # about 25 s of wire time, more on a loaded machine
async def test_a_megabyte_at_115200_baud_is_slow_not_failed(board_root):
    data = source_megabyte()
    async with Session("virtual:mb?link=uart:115200", root=board_root) as s:
        await s.fs.write("/big.py", data)
        assert (board_root / "big.py").read_bytes() == data
        assert await s.fs.sha256("/big.py") == hashlib.sha256(data).hexdigest()
        assert s.transport.board.wire.dropped == 0
