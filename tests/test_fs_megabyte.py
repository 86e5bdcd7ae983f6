"""A 1 MB file at 115200 baud is slow, not failed (issue 11, item 2: timeouts scale with the link
rate). Written (Python source: deflated, about 25 s) and read back (the board sends it as it is:
about 95 s at the wire's 11,520 B/s), byte-identical, the board's ring never overrun. The longest
test in the suite on purpose; keep it to this one file."""

from __future__ import annotations

from pathlib import Path

import pytest

import mptui
from mptui.board import Session

MEGABYTE = 1 << 20


def source_megabyte() -> bytes:
    """1 MB of real Python source (mptui's own, repeated)."""
    src = b"".join(p.read_bytes() for p in sorted(Path(mptui.__file__).parent.rglob("*.py")))
    return (src * (1 + MEGABYTE // len(src)))[:MEGABYTE]


@pytest.mark.timeout(300)  # about 2 minutes of wire time; the suite's default is 120 s
async def test_a_megabyte_at_115200_baud_is_slow_not_failed(board_root):
    data = source_megabyte()
    async with Session("virtual:mb?link=uart:115200", root=board_root) as s:
        await s.fs.write("/big.py", data)
        assert (board_root / "big.py").read_bytes() == data
        assert await s.fs.read("/big.py") == data
        assert s.transport.board.wire.dropped == 0
