"""The virtual board's output, made what a board sends.

The runtime (mpy/_mptui_stdio.py, mpy/startup.py) marks what it writes from Python with
control sequences that start `ESC _ <tag>`, the tag secret to the process:
- `o<seq: 2 hex><payload>ESC \\`: output already as a board sends it (print and
  sys.stdout.write cooked there, sys.stdout.buffer bytes unchanged), passed on untouched. In
  the payload ESC is `ESC !`. A frame cut short (a Ctrl-C in the middle of a write: ESC then
  anything but `!` or `\\`) is sent again whole with the same seq: what already came is dropped.
- `f ESC \\`: `/` is the board's folder now; `b ESC \\`: boot.py is done; `r ESC \\`:
  boot.py/main.py are done.
Everything else is what the C runtime wrote itself (REPL prompts and echo, tracebacks, repr of
results): a board cooks that output, so a bare LF gets its CR here (the protocol strings
already end in CRLF and stay as they are).
"""

from __future__ import annotations

OUT, FS_READY, BOOT_PY_DONE, BOOTED = "out", "fs", "boot.py", "booted"
_SIGNALS = {b"f": FS_READY, b"b": BOOT_PY_DONE, b"r": BOOTED}
ESC = 0x1B
_ST = b"\x1b\\"  # string terminator
_HEX = b"0123456789abcdef"


class OutputDemux:
    """Feed it the PTY's bytes; get events: (OUT, bytes), (FS_READY, b""), (BOOT_PY_DONE, b""),
    (BOOTED, b"").
    Bytes that may start a control sequence wait for the next feed."""

    def __init__(self, tag: bytes) -> None:
        self._intro = b"\x1b_" + tag
        self._held = b""  # the start of what may be a control sequence, or a lone ESC
        self._in_frame = False
        self._seq = -1  # the last frame's number
        self._have = 0  # payload bytes passed on for it
        self._got = 0  # payload bytes of the frame being read (repeats included)
        self._last_cr = False

    def feed(self, data: bytes) -> list[tuple[str, bytes]]:
        events: list[tuple[str, bytes]] = []
        buf = self._held + data if self._held else data
        self._held = b""
        i = 0
        while i < len(buf):
            i = self._frame_bytes(events, buf, i) if self._in_frame else self._plain(events, buf, i)
            if i < 0:  # the rest waits for more
                break
        return events

    def flush(self) -> bytes:
        """What is held back, as plain output (the runtime is gone)."""
        held, self._held = self._held, b""
        return b"" if self._in_frame else self._cook(held)

    # -- outside frames ---------------------------------------------------------------------

    def _plain(self, events: list, buf: bytes, i: int) -> int:
        k = buf.find(self._intro, i)
        if k < 0:
            keep = _partial_suffix(buf, self._intro, i)
            if keep:  # with a header cut short just before it, if any
                keep += self._cut_header(buf[i : len(buf) - keep])
            self._out(events, self._cook(buf[i : len(buf) - keep]))
            self._held = buf[len(buf) - keep :]
            return -1
        text = buf[i:k]
        self._out(events, self._cook(text[: len(text) - self._cut_header(text)]))
        start = k + len(self._intro)
        header = buf[start : start + 3]
        if header[:1] == b"o" and len(header) == 3 and not header[1:].strip(_HEX):
            self._start_frame(int(header[1:], 16))
            return start + 3
        if header[:1] in _SIGNALS and header[1:] == _ST:
            events.append((_SIGNALS[header[:1]], b""))
            return start + 3
        if len(header) < 3 and (ESC not in header or _ST.startswith(header[1:])):
            self._held = buf[k:]  # the rest of the header is still to come
            return -1
        cut = header.find(b"\x1b")
        if cut >= 0:  # a header cut short: drop it, read on from its ESC
            return start + cut
        self._out(events, self._cook(buf[k : k + 1]))  # not one of ours after all
        return k + 1

    def _cut_header(self, text: bytes) -> int:
        """Length of the frame headers cut short at the end of `text` (each is sent again)."""
        end, n = len(text), len(self._intro)
        while (at := text.rfind(b"\x1b_", 0, end)) >= 0:
            tail = text[at:end]
            cut = self._intro.startswith(tail) or (
                tail[:n] == self._intro and tail[n : n + 1] == b"o" and len(tail) <= n + 2
            )
            if not cut:
                break
            end = at
        return len(text) - end

    # -- inside a frame ---------------------------------------------------------------------

    def _start_frame(self, seq: int) -> None:
        if seq != self._seq:
            self._seq, self._have = seq, 0
        self._got = 0
        self._in_frame = True

    def _frame_bytes(self, events: list, buf: bytes, i: int) -> int:
        j = buf.find(b"\x1b", i)
        if j < 0:
            self._payload(events, buf[i:])
            return len(buf)
        self._payload(events, buf[i:j])
        if j + 1 == len(buf):
            self._held = buf[j:]
            return -1
        follow = buf[j + 1]
        if follow == ord("!"):
            self._payload(events, b"\x1b")
            return j + 2
        self._in_frame = False
        if follow == ord("\\"):
            return j + 2
        # cut short (it comes again): an ESC cut from its pair goes, the next ESC starts anew
        return j + 1 if follow == ESC else j

    def _payload(self, events: list, data: bytes) -> None:
        if not data:
            return
        skip = max(0, min(len(data), self._have - self._got))
        self._got += len(data)
        if skip < len(data):
            self._out(events, data[skip:])
            self._have = self._got
            self._last_cr = False

    # -- plain output -----------------------------------------------------------------------

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
    def _out(events: list, data: bytes) -> None:
        if not data:
            return
        if events and events[-1][0] == OUT:
            events[-1] = (OUT, events[-1][1] + data)
        else:
            events.append((OUT, data))


def _partial_suffix(buf: bytes, marker: bytes, start: int = 0) -> int:
    """Length of the longest end of `buf[start:]` that is a start of `marker`."""
    for n in range(min(len(marker) - 1, len(buf) - start), 0, -1):
        if buf.endswith(marker[:n]):
            return n
    return 0
