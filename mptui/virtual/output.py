"""The virtual board's output, made what a board sends.

The runtime (mpy/_mptui_stdio.py, mpy/startup.py) marks what it writes from Python with
control sequences `ESC _ <tag><kind>[<hex length>] ESC \\`, tag secret to the process:
- `o<n>`: n bytes of output follow, already as a board sends them (print and sys.stdout.write
  cooked there, sys.stdout.buffer bytes unchanged): passed on untouched;
- `f`: `/` is the board's folder now; `r`: boot.py/main.py are done.
Everything else is what the C runtime wrote itself (REPL prompts and echo, tracebacks, repr of
results): a board cooks that output, so a bare LF gets its CR here (the protocol strings
already end in CRLF and stay as they are).
"""

from __future__ import annotations

OUT, FS_READY, BOOTED = "out", "fs", "booted"
_ST = b"\x1b\\"  # string terminator
_MAX_BODY = 16  # bytes between the tag and ESC \ (kind + hex length)


class OutputDemux:
    """Feed it the PTY's bytes; get events: (OUT, bytes), (FS_READY, b""), (BOOTED, b"")."""

    def __init__(self, tag: bytes) -> None:
        self._intro = b"\x1b_" + tag
        self._buf = b""  # the start of what may be a control sequence
        self._left = 0  # bytes of a frame's payload still to come
        self._last_cr = False

    @property
    def holding(self) -> bool:
        """Bytes are held back (they may start a control sequence)."""
        return bool(self._buf) and not self._left

    def feed(self, data: bytes) -> list[tuple[str, bytes]]:
        events: list[tuple[str, bytes]] = []
        buf = self._buf + data if self._buf else data
        self._buf = b""
        while buf:
            if self._left:
                n = min(self._left, len(buf))
                self._out(events, buf[:n])
                self._left -= n
                self._last_cr = False
                buf = buf[n:]
                continue
            i = buf.find(self._intro)
            if i < 0:
                keep = _partial_suffix(buf, self._intro)
                self._out(events, self._cook(buf[: len(buf) - keep]))
                self._buf = buf[len(buf) - keep :]
                break
            self._out(events, self._cook(buf[:i]))
            start = i + len(self._intro)
            end = buf.find(_ST, start, start + _MAX_BODY + len(_ST))
            if end < 0 and len(buf) - start < _MAX_BODY + len(_ST):
                self._buf = buf[i:]  # the rest is still to come
                break
            event = self._control(buf[start:end]) if end >= 0 else None
            if event is None:  # not one of ours after all: plain output
                self._out(events, self._cook(buf[i : i + 1]))
                buf = buf[i + 1 :]
                continue
            if event != OUT:
                events.append((event, b""))
            buf = buf[end + len(_ST) :]
        return events

    def flush(self) -> bytes:
        """What is held back, as output (it did not turn into a control sequence)."""
        if self._left:
            return b""
        held, self._buf = self._buf, b""
        return self._cook(held)

    def _control(self, body: bytes) -> str | None:
        kind, arg = body[:1], body[1:]
        if kind == b"o":
            if not arg or arg.strip(b"0123456789abcdef"):
                return None
            self._left = int(arg, 16)
            return OUT
        if not arg:
            return {b"f": FS_READY, b"r": BOOTED}.get(kind)
        return None

    def _cook(self, data: bytes) -> bytes:
        """Bare LF -> CRLF (a CRLF stays, also across reads)."""
        if not data:
            return b""
        head = b""
        if self._last_cr and data[:1] == b"\n":
            head, data = b"\n", data[1:]
        self._last_cr = data[-1:] == b"\r" if data else False
        return head + data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

    @staticmethod
    def _out(events: list[tuple[str, bytes]], data: bytes) -> None:
        if not data:
            return
        if events and events[-1][0] == OUT:
            events[-1] = (OUT, events[-1][1] + data)
        else:
            events.append((OUT, data))


def _partial_suffix(buf: bytes, marker: bytes) -> int:
    """Length of the longest end of `buf` that is a start of `marker`."""
    for n in range(min(len(marker) - 1, len(buf)), 0, -1):
        if buf.endswith(marker[:n]):
            return n
    return 0
