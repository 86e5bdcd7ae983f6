"""The board-side helper's source, made small for the wire, and the codec of its streams."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

ESC = b"\x1b"


@lru_cache(maxsize=1)
def helper_source() -> str:
    """helper.py without comments, blank lines, or more indentation than needed."""
    lines = []
    for line in (Path(__file__).with_name("mpy") / "helper.py").read_text().splitlines():
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        lines.append(" " * ((len(line) - len(stripped)) // 4) + stripped)
    return "\n".join(lines) + "\n"


HEADER = 5  # a block's length, in hex


def encode_block(data: bytes) -> bytes:
    """Host -> board: a length header, then the data with ESC and Ctrl-A..D escaped (so that
    bytes left over after a failure are harmless to the raw REPL)."""
    body = data.replace(ESC, b"\x1bE")
    for i, letter in enumerate(b"ABCD", 1):
        body = body.replace(bytes([i]), bytes([27, letter]))
    return b"%05x" % len(body) + body


def encode_blocks(data: bytes, size: int, exact: bool = False) -> Iterator[tuple[int, bytes]]:
    """(bytes of data done, block) for `data` in blocks of `size` bytes; with `exact`, `size`
    bounds the block's body as sent (escapes double some bytes), not the data in it."""
    start = 0
    while start < len(data):
        n = size
        block = encode_block(data[start : start + n])
        while exact and len(block) - HEADER > size:
            n = max(1, min(n - 1, n * size // (len(block) - HEADER)))
            block = encode_block(data[start : start + n])
        start += n
        yield min(start, len(data)), block


class StreamDecoder:
    """Board -> host: undo the helper's escapes across chunk boundaries; ESC H ends the data
    and the sha256 (hex) follows."""

    def __init__(self) -> None:
        self._carry = b""
        self.ended = False
        self.trailer = bytearray()

    def feed(self, chunk: bytes) -> bytes:
        if self.ended:
            self.trailer += chunk
            return b""
        data = self._carry + chunk
        self._carry = b""
        # Every ESC starts a pair (a literal ESC is sent as ESC E), so find() cannot misalign.
        end = data.find(b"\x1bH")
        if end >= 0:
            self.ended = True
            self.trailer += data[end + 2 :]
            data = data[:end]
        elif data.endswith(ESC):
            data, self._carry = data[:-1], ESC
        return data.replace(b"\x1bD", b"\x04").replace(b"\x1bN", b"\n").replace(b"\x1bE", ESC)

