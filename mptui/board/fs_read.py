"""A file as the helper's `rd` streams it to the host: its size (8 hex digits) and 'h' (a
sha256 follows) or '-', the bytes as they are (exactly that many: no escapes), the sha256 (32
bytes). A byte lost on the way leaves the count short: the link's silence then says so, as the
check says a damaged byte; both are `Damaged` (fs.py reads again)."""

from __future__ import annotations

from collections.abc import Callable

from mptui.board.errors import BoardTimeout, Damaged
from mptui.board.repl import Repl

Progress = Callable[[int, int], None]  # (bytes done, bytes in all)


async def receive(repl: Repl, p: str, progress: Progress | None, quiet: float) -> bytes:
    """The file whose `rd` was just sent to the board; `quiet`: the seconds of silence that
    mean a byte was lost."""
    first = await repl.read_exact(1)
    if first == b"\x04":  # the board's error before any data (no such file, ...)
        repl.unread(first)
        await repl.follow()
        raise Damaged(f"{p}: the transfer ended early")
    try:
        head = first + await repl.read_exact(8, quiet)
        size = int(head[:8], 16)
        if head[8:9] not in (b"h", b"-"):
            raise ValueError(head)
        data = bytearray()
        if progress:
            progress(0, size)
        while len(data) < size:
            await repl.wait_data(quiet)
            chunk = repl.take()
            need = size - len(data)
            if len(chunk) > need:
                repl.unread(chunk[need:])
                chunk = chunk[:need]
            data += chunk
            if progress:
                progress(len(data), size)
        digest = await repl.read_exact(32, quiet) if head[8:9] == b"h" else b""
    except BoardTimeout:
        raise Damaged(f"{p}: the transfer ended early") from None
    except ValueError:
        raise Damaged(f"{p}: the transfer arrived damaged") from None
    import hashlib  # (here: listing or removing files loads no hashlib, nor the OpenSSL it brings)

    if digest and digest != hashlib.sha256(data).digest():
        raise Damaged(f"{p}: read verification failed (sha256 differs)")
    try:
        await repl.follow(timeout=quiet)
    except BoardTimeout:
        raise Damaged(f"{p}: the transfer ended early") from None
    return bytes(data)
