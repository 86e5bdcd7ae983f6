"""What mptui learns about a board and its link, and the transfer sizes it picks from that.

Nothing here is a user setting. `Caps` is what the board says about itself (one short probe per
boot: free heap, which modules it has, whether our helper is still in its RAM). `LinkState` is
what the link is, from the transport's profile and from how the link behaves:
- a link that may lose what the board cannot hold (a UART: `profile.ring`) never has more in
  flight than the ring holds: the board's helper acknowledges each unit it reads;
- a link that holds the host back (USB CDC, a PTY, TCP to a PTY) may have far more in flight,
  and the window grows while the acknowledgements keep coming;
- a link mptui cannot see behind (socket://, rfc2217://: `profile.learn`) starts as a ring;
  the first write asks the board for a short burst of output and times it: bytes faster than
  any UART carries mean USB or a PTY behind the bridge (and a write that then fails its check
  is sent again the careful way, see fs.py);
- the measured rate scales the silences that count as a lost link, and chooses compression:
  where the wire is slow, the board's CPU has time to inflate.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from mptui.transports.base import LinkProfile

RING_SLACK = 8  # bytes of a ring kept free (a stop frame and padding may follow the window)
PROBE = 256  # bytes of output the board bursts for the probe (once the stream may start)
FAST_BURST = 0.001  # seconds: a PROBE burst arriving within this is faster than any UART
FAST_RATE = 300_000  # bytes a second: above this, deflating on the board costs more than it saves
MAX_WINDOW = 64 * 1024
MAX_UNIT = 4096


@dataclass(frozen=True)
class Caps:
    """What a board said about itself (the probe in helper.py)."""

    free: int = -1  # free heap after gc.collect(), bytes; -1: unknown
    sha256: bool = False  # hashlib.sha256
    stdout_buffer: bool = False  # sys.stdout.buffer (binary output)
    deflate: int = 0  # 0: no deflate module, 1: decompress only, 2: compress too
    iobase: bool = False  # io.IOBase (a stream class written in Python)
    crc32: bool = False  # binascii.crc32
    platform: str = ""
    helper: str = ""  # the version of our helper still in its RAM ('' none)
    parts: tuple[str, ...] = ()  # the parts of it loaded

    @classmethod
    def parse(cls, value: object) -> Caps:
        """From the probe's answer; ValueError when it is not one."""
        if not (isinstance(value, tuple) and len(value) == 9):
            raise ValueError("not a probe answer")
        free, sha, buf, z, iob, crc, plat, ver, parts = value
        if not (type(free) is int and isinstance(plat, str) and isinstance(ver, str)
                and isinstance(parts, str) and type(z) in (int, bool)):
            raise ValueError("not a probe answer")
        return cls(free, bool(sha), bool(buf), int(z), bool(iob), bool(crc), plat[:40], ver,
                   tuple(p for p in parts.split(",") if p))

    @property
    def inflate(self) -> bool:
        """Can the board take a deflate stream from the host as it comes?"""
        return self.deflate >= 1 and self.iobase

    def wbits(self, stream: bool = True) -> int | None:
        """The deflate window (log2 bytes) the free heap affords (a sixteenth of it, leaving
        the helper and the program their room), or None: too little heap, or no deflate
        (stream: inflating as the data comes, which needs io.IOBase too)."""
        if not (self.inflate if stream else self.deflate):
            return None
        if self.free < 0:
            return 10
        if self.free < 16 * 512:
            return None
        return max(9, min(15, int(math.log2(self.free / 16))))


@dataclass
class Sizes:
    """One stream's sizes: the unit the board reads and acknowledges, the window (bytes in
    flight), the board's write buffer, a data frame's size, and the probe to ask for."""

    unit: int
    window: int
    buffer: int
    frame: int
    probe: int = 0


class LinkState:
    """The link as learned so far (kept by the session across operations)."""

    def __init__(self, profile: LinkProfile) -> None:
        self.profile = profile
        self.ring = profile.ring  # bytes in flight at most; None: the link holds the host back
        self.learn = profile.learn and profile.ring is not None
        self.rate: float | None = None  # bytes a second host -> board, as measured
        self.squeeze = 0  # halvings of the board's buffers after a MemoryError

    @property
    def careful(self) -> bool:
        return self.ring is not None

    def sizes(self, caps: Caps | None) -> Sizes:
        free = caps.free if caps and caps.free > 0 else -1
        if self.ring is not None:
            window = max(32, self.ring - RING_SLACK)
            unit = max(16, window // 4)
        else:
            window = self.profile.block_size * max(1, self.profile.blocks_in_flight)
            unit = max(32, min(window // 2, MAX_UNIT))
            window = min(window, MAX_WINDOW)
        buffer = 4096
        if free > 0:  # the unit and the buffer in a 32nd of the free heap (a fragmented
            room = (free >> self.squeeze) // 32  # heap, the helper, the program's own)
            while unit > 64 and unit + buffer > room:
                if buffer > unit:
                    buffer //= 2
                else:
                    unit //= 2
            while buffer > 128 and unit + buffer > room:
                buffer //= 2
        rate = self.rate or self.profile_rate()
        frame = int(max(2048, min(65536, rate * 0.3))) if rate else 65536
        return Sizes(unit, window, buffer, frame, PROBE if self.learn else 0)

    def profile_rate(self) -> float | None:
        return None if self.ring is None else 11_520.0  # a ring: assume a 115200-baud UART

    def compress(self) -> bool:
        """Is deflating worth it on this link (the wire slower than the board inflates)?"""
        rate = self.rate
        return self.ring is not None or (rate is not None and rate < FAST_RATE)

    def probed(self, span: float | None) -> bool:
        """The probe burst arrived over `span` seconds (None: not seen): a burst faster than
        a UART means the link holds the host back. Returns True when the link changed."""
        self.learn = False
        if span is not None and span < FAST_BURST:
            self.ring = None
            return True
        return False

    def distrust(self) -> None:
        """A write went wrong after the probe said the link holds the host back: back to the
        careful way for the rest of the session."""
        if self.profile.ring is not None:
            self.ring = self.profile.ring

    def silence(self, window: int) -> float:
        """Seconds without a byte from the board that mean something was lost (not a slow
        link: several windows' worth of time at the rate seen)."""
        rate = self.rate or self.profile_rate() or 1_000_000
        return max(1.0, 8 * window / rate)

    def patience(self, nbytes: int) -> float:
        """Seconds to allow for moving nbytes at the rate seen, with room to spare."""
        rate = self.rate or self.profile_rate() or 1_000_000
        return 2.0 + 3 * nbytes / rate


class RateMeter:
    """Bytes acknowledged over time while a stream runs (the link's rate, as the board takes
    it)."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.done = 0

    def rate(self) -> float | None:
        elapsed = time.monotonic() - self.start
        if self.done < 4096 or elapsed < 0.05:
            return None
        return self.done / elapsed
