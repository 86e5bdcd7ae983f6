"""How fast a board's link is, and what mptui does with it (`mptui speedtest`, `t` in the info
panel).

Measured, not assumed: the round trip (an empty exec), host -> board (code of comment lines
sent under raw-paste flow control, as transfers go), board -> host (output the board writes in a
loop), each timed as a whole minus the round trip; then the board's own answers (free heap,
deflate, binascii, hashlib) and the raw-paste window it granted. A first small burst each way
sizes the second so that it lasts about half a second whatever the link.

    result = await speedtest(session)
    for label, value in result.rows(): print(label, value)
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from mptui.board import BoardError, Session
from mptui.board.literal import NotALiteral, parse

FIRST = 1024  # bytes of the first burst each way
SPAN = 0.5  # seconds the second burst aims for
MAX_BYTES = 1 << 20
LINE = 64  # bytes of one comment line (host -> board) or one write (board -> host)
# the board's answers: each on its own, so a port without one still gives the rest
PROBE = """\
def _mptui_st():
 import gc, sys
 d = {}
 gc.collect()
 d['free'] = gc.mem_free()
 d['deflate'] = 0
 try:
  import deflate, io
  d['deflate'] = 1
  try:
   deflate.DeflateIO(io.BytesIO(), deflate.RAW).write(b'x')
   d['deflate'] = 2
  except Exception:
   pass
 except ImportError:
  pass
 try:
  import binascii
  d['binascii'] = True
 except ImportError:
  d['binascii'] = False
 try:
  import hashlib
  d['hashlib'] = [n for n in ('sha256', 'sha1', 'md5') if hasattr(hashlib, n)]
 except ImportError:
  d['hashlib'] = []
 d['mpy'] = getattr(sys.implementation, '_mpy', None)
 print(repr(d))
_mptui_st()
del _mptui_st
"""
DEFLATE = ("none", "decompress only", "compress and decompress")


@dataclass
class Plan:
    """What mptui uses for transfers on this link."""

    block: int  # bytes the board reads and acknowledges at a time
    window: int  # bytes in flight at most
    compressed: bool  # deflated on the way to the board
    why: str = ""  # a few words on the choice


@dataclass
class SpeedTest:
    link: str = ""
    round_trip: float = 0.0  # seconds, median of three empty execs
    up: float = 0.0  # bytes a second host -> board (raw-paste)
    down: float = 0.0  # bytes a second board -> host
    up_bytes: int = 0
    down_bytes: int = 0
    raw_paste_window: int | None = None  # what the board granted (None: plain raw REPL)
    heap_free: int | None = None
    deflate: int = 0  # 0 none, 1 decompress only, 2 both
    binascii: bool = False
    hashlib: list[str] = field(default_factory=list)
    plan: Plan | None = None

    def rows(self) -> list[tuple[str, str]]:
        def rate(r: float) -> str:
            return f"{r / 1000:.1f} kB/s" if r < 1e6 else f"{r / 1e6:.2f} MB/s"

        rows = [
            ("link", self.link),
            ("round trip", f"{self.round_trip * 1000:.1f} ms"),
            ("host -> board", f"{rate(self.up)} ({self.up:.0f} B/s, {self.up_bytes} bytes)"),
            ("board -> host", f"{rate(self.down)} ({self.down:.0f} B/s, {self.down_bytes} bytes)"),
            ("raw-paste window", f"{self.raw_paste_window} bytes"
             if self.raw_paste_window else "none (plain raw REPL)"),
            ("free heap", f"{self.heap_free} bytes" if self.heap_free is not None else "not said"),
            ("deflate", DEFLATE[self.deflate] if 0 <= self.deflate < 3 else "?"),
            ("binascii", "yes" if self.binascii else "no"),
            ("hashlib", " ".join(self.hashlib) or "no"),
        ]
        if self.plan:
            p = self.plan
            rows.append(("transfers", f"blocks of {p.block} bytes, window {p.window} bytes, "
                         + ("compressed" if p.compressed else "uncompressed")
                         + (f" ({p.why})" if p.why else "")))
        return rows

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def speedtest(session: Session) -> SpeedTest:
    """Measure the link and ask the board; BoardError when its answers are not ours."""
    from mptui.services.info import link_text

    result = SpeedTest(link=link_text(session))
    times = []
    for _ in range(3):
        start = time.perf_counter()
        await session.exec("")
        times.append(time.perf_counter() - start)
    result.round_trip = rtt = statistics.median(times)
    up = await _up(session, FIRST, rtt)
    result.up_bytes = _size(up)
    result.up = await _up(session, result.up_bytes, rtt)
    down = await _down(session, FIRST, rtt)
    result.down_bytes = _size(down)
    result.down = await _down(session, result.down_bytes, rtt)
    result.raw_paste_window = session.repl.window if session.repl.raw_paste else None
    _answers(result, await session.exec(PROBE, timeout=20))
    result.plan = await plan(session, result)
    return result


def _size(rate: float) -> int:
    n = int(rate * SPAN) // LINE * LINE
    return max(2 * FIRST, min(MAX_BYTES, n))


async def _up(session: Session, n: int, rtt: float) -> float:
    line = "#" + "x" * (LINE - 2) + "\n"
    code = line * (n // LINE)
    start = time.perf_counter()
    await session.exec(code, timeout=30 + n / 1000)
    return n / max(time.perf_counter() - start - rtt, 1e-6)


async def _down(session: Session, n: int, rtt: float) -> float:
    code = f"import sys\n_b='x'*{LINE}\nfor _ in range({n // LINE}):\n sys.stdout.write(_b)\ndel _b"
    start = time.perf_counter()
    out = await session.exec(code, timeout=30 + n / 1000)
    elapsed = time.perf_counter() - start
    if len(out) != n // LINE * LINE:
        raise BoardError(f"the board sent {len(out)} bytes where {n} were asked")
    return n / max(elapsed - rtt, 1e-6)


def _answers(result: SpeedTest, out: bytes) -> None:
    """The probe's output, hostile until parsed (a literal only)."""
    try:
        d = parse(out)
    except NotALiteral:
        raise BoardError("the board's answer to the speed probe is not a literal") from None
    if not isinstance(d, dict):
        raise BoardError("the board's answer to the speed probe is not a dict")
    free, z = d.get("free"), d.get("deflate")
    result.heap_free = free if type(free) is int else None
    result.deflate = z if type(z) is int and 0 <= z <= 2 else 0
    result.binascii = d.get("binascii") is True
    names = d.get("hashlib")
    result.hashlib = [n for n in names if isinstance(n, str)][:3] if isinstance(names, list) else []


async def plan(session: Session, result: SpeedTest) -> Plan:
    """The sizes mptui's transfers use on this link with this board. The engine that learns
    them (a session's `link` and `caps`, when the session has them: board/adapt.py) decides,
    with the rate measured here; else the link profile's block size, halved to fit the free
    heap, as the file layer does."""
    link: Any = getattr(session, "link", None)
    caps: Any = getattr(session, "caps", None)
    loader: Any = getattr(session, "loader", None)
    if caps is None and hasattr(loader, "probe"):  # (not asked yet: no file moved so far)
        async with session.operation() as repl:
            caps = await loader.probe(repl)
    if hasattr(link, "sizes") and hasattr(link, "compress"):
        learned = type(link)(session.transport.profile)
        learned.rate = result.up
        sizes = learned.sizes(caps)
        wbits = caps.wbits() if caps is not None and hasattr(caps, "wbits") else None
        compressed = bool(learned.compress() and wbits)
        why = "deflate on the board, the wire slower than it inflates" if compressed else (
            "the board cannot inflate" if not wbits else "the wire is faster than the board inflates")
        return Plan(sizes.unit, sizes.window, compressed, why)
    profile = session.transport.profile
    block, free = profile.block_size, result.heap_free or -1
    while free > 0 and block > 256 and block * 16 > free:
        block //= 2
    window = profile.ring or block * max(1, profile.blocks_in_flight)
    return Plan(block, window, False, "this version sends bytes as they are")
