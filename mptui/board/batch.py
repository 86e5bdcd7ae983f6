"""Files to a board in one pipelined stream: the host side of the helper's `wb` (its frames are
described there, in mpy/helper.py).

One raw-REPL call carries any number of files: no round trip per file, the board answers each
file as it is done. The stream is raw binary, read by the board in units it acknowledges, so
the host never has more in flight than the board has room for (adapt.LinkState). Compressible
files go as one deflate stream each (compressed in a thread while the last piece is on the
wire); the rest as they are. Every file is checked on the board (sha256, or crc32) before it
replaces the old one.

When the link loses bytes: silence from the board means an acknowledgement or some data was
lost, so the host sends a unit more (its next bytes, or padding once all is sent) until the
board finishes or says the stream is out of step; a file whose check failed or whose answer
never came is `Damaged` (fs.py sends those again). The board's answer about a file counts
only if it arrived whole (its checksum) and names this call (a token): a line damaged on the
way, or late from an earlier call, never marks another file as written. Cancelled, or
failing on this side, the host finishes the frame in flight, sends a stop frame, and waits
for the board to drop the file it had in hand.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import posixpath
import time
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from mptui.board.adapt import Caps, LinkState, RateMeter
from mptui.board.errors import BoardError, BoardExecError, BoardOSError, BoardTimeout, Damaged
from mptui.board.helper import deflate, guarded, one_shot_write
from mptui.board.literal import parse
from mptui.board.repl import Repl

Progress = Callable[[int, int], None]
DEFLATE_STEP = 32 * 1024  # bytes compressed per step (in a thread, while the last step moves)
SAMPLE = 16 * 1024  # bytes of a file compressed to decide whether the rest is worth it
WORTH = 0.85  # compressed / raw below which a file goes deflated
MIN_DEFLATE = 128  # smaller files go as they are


class IntoFolder(str):
    """A write's target that, when it names a folder on the board, means the file `name` in
    that folder (`cp FILE :DEST`): the one-shot call asks the board with the write itself;
    otherwise fs_write asks first."""

    name: str

    def __new__(cls, path: str, name: str) -> IntoFolder:  # noqa: PYI034 (3.10: no Self)
        self = super().__new__(cls, path)
        self.name = name
        return self

    def inside(self) -> str:
        return posixpath.join(self, self.name)


@dataclass
class Item:
    path: str  # board path, absolute (an IntoFolder one: resolved once the board said)
    data: bytes
    progress: Progress | None = None


@dataclass
class _File:
    start: int = -1  # where its frames begin and end in the stream
    end: int = -1
    size: int = 0
    shown: int = -1  # the progress last reported


def deflates(data: bytes, wbits: int) -> bool:
    """Is `data` worth deflating (with a window of 2**wbits bytes)? Its first SAMPLE bytes
    tell."""
    if len(data) < MIN_DEFLATE:
        return False
    sample = data[:SAMPLE]
    return len(deflate(sample, wbits, 6)) < WORTH * len(sample)


class WriteBatch:
    def __init__(self, repl: Repl, items: list[Item], caps: Caps, link: LinkState,
                 one_shot: bool = False) -> None:
        """one_shot: the call sends the write function with it (helper.one_shot_write; the
        helper need not be loaded; nothing is deflated)."""
        self.repl, self.items, self.caps, self.link = repl, items, caps, link
        self.one_shot = one_shot
        self.sizes = sizes = link.sizes(caps)
        self.unit = sizes.unit
        self.cap = sizes.window  # the window grows up to this while acknowledgements come
        self.window = sizes.window if link.careful else min(sizes.window, 8 * sizes.unit)
        # (None: never deflated)
        self.wbits = caps.wbits() if link.compress() and not one_shot else None
        self.results: list[BoardError | None] = [Damaged("no answer from the board")] * len(items)
        self.files = [_File(size=len(i.data)) for i in items]
        self.out = bytearray()  # produced, not sent yet
        self.frames: AsyncIterator[tuple[int, bytes]] | None = None
        self.sent = self.acks = 0
        self.ends: list[int] = []  # where the frames produced but not all sent end
        self.ended = False  # the board's output ended (its \x04)
        self.line: bytearray | None = None  # a status line coming
        self.probe_left = sizes.probe
        self.probe_times: list[float] = []
        self.pushes = 0  # units sent on silence (lost acknowledgements or data)
        self.ready = False  # the board has turned Ctrl-C off: the stream may come
        self.stopping = False  # stopping: no more progress reports
        self.meter = RateMeter()
        import random

        self.token = random.getrandbits(30)  # names this call in the board's answers
        # one-shot: the first file's target asked about (an IntoFolder), and the board's
        # word (\x07, right before its \x06) that it is a folder
        first = items[0].path if one_shot and items else None
        self.ask = first if isinstance(first, IntoFolder) else None
        self.folder = False

    # -- running ----------------------------------------------------------------------------

    async def run(self) -> list[BoardError | None]:
        """Send every file; per file None (written) or its error."""
        s = self.sizes
        if self.one_shot:
            ask = None if self.ask is None else str(self.ask)
            await self.repl.send_code(one_shot_write(f"{self.unit},{s.probe},{self.token},{ask!r}"))
        else:
            args = f"{self.unit},{self.wbits or 9},{s.probe},{s.buffer},{self.token}"
            await self.repl.send_code(guarded(f"_mptui.wb({args})"))
        self.frames = self._frames()
        self.repl.open_stream = s.frame + 16 + 2 * self.unit  # (until the board's end is read)
        try:
            await self._pump()
        except BaseException:
            await self._stop()
            raise
        rate = self.meter.rate()
        if rate:
            self.link.rate = rate
        await self._finish()
        return self.results

    async def _finish(self) -> None:
        """The call's end. Until it is read the board may still be in the stream (the \x04
        seen may have been a damaged byte): a timeout leaves `open_stream` for the next
        operation to end the stream with."""
        try:
            await self.repl.follow(timeout=self.link.patience(self.window))
            self.repl.open_stream = 0
        except BoardExecError as e:
            self.repl.open_stream = 0
            if e.exc_type not in ("Stop", "ValueError"):
                raise
            for i, r in enumerate(self.results):  # out of step: what was not answered may
                if isinstance(r, Damaged):  # have arrived damaged
                    self.results[i] = Damaged(f"damaged on the way ({e.exc_message})")

    async def _stop(self) -> None:
        """Stop the board's side at the next frame (cancelled, or this side failed)."""
        if self.ended or self.repl.closed:
            return
        with contextlib.suppress(Exception):
            await asyncio.shield(self._stop_now())

    async def _stop_now(self) -> None:
        self.stopping = True
        in_flight = next((end for end in self.ends if end > self.sent), self.sent)
        del self.out[in_flight - self.sent :]  # the frame being sent goes whole, then A
        self.out += b"A"
        self._pad()
        self.frames = None
        await asyncio.wait_for(self._pump(), self.link.patience(len(self.out) + self.window))
        self.repl.open_stream = 0
        with contextlib.suppress(BoardExecError):
            await self.repl.follow(timeout=self.link.patience(self.window))

    def _pad(self) -> None:
        """Padding to the end of a unit (the board reads whole units)."""
        self.out += bytes(-(self.sent + len(self.out)) % self.unit)

    async def _pump(self) -> None:
        """Send while the board has room, read its answers, until it ends."""
        while True:
            self._absorb()
            if self.ended:
                return
            room = self.window - (self.sent - self.acks * self.unit) if self.ready else 0
            if self.frames is not None and self.ready and len(self.out) < max(room, 1):
                await self._produce()
                continue
            if room > 0 and self.out:
                n = min(room, len(self.out))
                await self.repl.write(bytes(self.out[:n]))
                del self.out[:n]
                self.sent += n
                while self.ends and self.ends[0] <= self.sent:
                    self.ends.pop(0)
                continue
            try:
                await self.repl.wait_data(self.link.silence(self.window))
            except BoardTimeout:
                self._on_silence()

    async def _produce(self) -> None:
        assert self.frames is not None  # (produced only while there are frames to come)
        try:
            index, frame = await anext(self.frames)
        except StopAsyncIteration:
            self.frames = None
            self._pad()
            return
        f = self.files[index] if index >= 0 else None
        if f is not None and f.start < 0:
            f.start = self.sent + len(self.out)
        self.out += frame
        if f is not None:
            f.end = self.sent + len(self.out)
        self.ends.append(self.sent + len(self.out))

    def _on_silence(self) -> None:
        """No word from the board for a while: an acknowledgement or data was lost. One unit
        more goes (data if any, else padding), up to what any frame could still want."""
        self.pushes += 1
        if self.pushes * self.unit > 2 * 65536 + 4 * self.window:
            raise BoardTimeout("the board stopped answering during the transfer")
        self.ready = True  # (its word that it was ready may have been lost)
        self.acks += 1  # as if its acknowledgement had come
        if not self.out and self.frames is None:
            self.out += bytes(self.unit)

    # -- the board's answers ----------------------------------------------------------------

    def _absorb(self) -> None:
        data = self.repl.take()
        if not data:
            return
        now = time.monotonic()
        acks = self.acks
        i = 0
        while i < len(data):
            if self.line is not None:
                j = data.find(b"\n", i)
                if j < 0:
                    self.line += data[i:]
                    break
                self.line += data[i:j]
                self._status(bytes(self.line))
                self.line = None
                i = j + 1
                continue
            b = data[i]
            if b == 1:
                self.acks += 1
            elif b == 0 and self.probe_left:
                self._probe_byte(now)
            elif b == 2:
                self.line = bytearray()
            elif b == 6:
                self._ready()
            elif b == 7 and self.ask is not None and not self.ready:
                self.folder = True
            elif b == 4:
                self.ended = True
                self.repl.unread(data[i:])
                break
            i += 1  # (anything else: a byte damaged on the way)
        if self.acks != acks:
            self.pushes = 0
            self._acked()
        if not self.stopping:  # (last: a progress callback that fails leaves nothing unread)
            self._report()

    def _ready(self) -> None:
        """The board's \x06: the stream may come; the asked target resolved (a folder only
        on the board's word just before it: a lost \x06 leaves the target as it is, and a
        file never takes a folder's place)."""
        if self.ask is not None and not self.ready:
            self.items[0].path = self.ask.inside() if self.folder else str(self.ask)
        self.ready = True

    def _probe_byte(self, now: float) -> None:
        self.probe_left -= 1
        self.probe_times.append(now)
        if not self.probe_left:
            span = self.probe_times[-1] - self.probe_times[0]
            if self.link.probed(span):  # the link holds the host back: the window may grow
                self.cap = min(self.link.sizes(self.caps).window, 64 * self.unit)

    def _acked(self) -> None:
        done = self.meter.done = self.acks * self.unit
        if not self.link.careful and done >= self.window:
            self.window = min(2 * self.window, self.cap)

    def _report(self) -> None:
        """Progress: a file's share of the stream the board has taken (whole once it said
        the file is written)."""
        done = self.acks * self.unit
        for index, (f, item) in enumerate(zip(self.files, self.items, strict=True)):
            if not item.progress or f.start < 0 or (f.shown >= f.size and f.shown >= 0):
                continue
            if self.results[index] is None:
                shown = f.size
            else:
                part = min(1.0, (done - f.start) / max(1, f.end - f.start))
                shown = min(f.size - 1, int(f.size * part)) if f.size and done > f.start else -1
            if shown > f.shown:
                f.shown = shown
                item.progress(shown, f.size)

    def _status(self, line: bytes) -> None:
        body, _, check = line.removesuffix(b"\r").rpartition(b" ")
        if not check.isdigit() or int(check) != checksum(body):
            return  # damaged on the way: that file counts as unanswered
        try:
            token, index, units, kind, value = parse(body)
        except (TypeError, ValueError):  # not a literal (NotALiteral), or not five values
            return
        if token != self.token:
            return  # (a line from an earlier call)
        if type(units) is int:
            self.acks = max(self.acks, units)
        if type(index) is not int or not 0 <= index < len(self.items):
            return
        self.results[index] = None if kind is None else _error(self.items[index].path, kind, value)

    # -- the stream -------------------------------------------------------------------------

    async def _frames(self) -> AsyncIterator[tuple[int, bytes]]:
        frame = self.sizes.frame
        for index, item in enumerate(self.items):
            data, path = item.data, item.path.encode("utf-8")
            z = self._worth(data)
            yield index, (b"F" + len(path).to_bytes(2, "little") + len(data).to_bytes(4, "little")
                          + bytes([z]) + checksum(path).to_bytes(4, "little")
                          + self._digest(data) + path)
            if z:
                pending = bytearray()
                async for piece in self._deflated(data):
                    pending += piece
                    while len(pending) >= frame:
                        yield index, _data_frame(pending[:frame])
                        del pending[:frame]
                if pending:
                    yield index, _data_frame(pending)
            else:
                view = memoryview(data)
                for k in range(0, len(data), frame):
                    yield index, _data_frame(view[k : k + frame])
            yield index, b"."
        yield -1, b"E"

    def _worth(self, data: bytes) -> bool:
        """Deflate this file? Asked as its turn comes: the probe (before the stream) may have
        found a link faster than the board inflates."""
        return self.wbits is not None and self.link.compress() and deflates(data, self.wbits)

    def _digest(self, data: bytes) -> bytes:
        """The board's check of a file's data (its name has its own, checked before use)."""
        if self.caps.sha256:
            import hashlib

            return hashlib.sha256(data).digest()
        return binascii.crc32(data).to_bytes(4, "little") + bytes(28)

    async def _deflated(self, data: bytes) -> AsyncIterator[bytes]:
        assert self.wbits is not None  # (deflated only when the board inflates)
        c = zlib.compressobj(9, zlib.DEFLATED, -self.wbits, 9)
        if len(data) <= DEFLATE_STEP:
            yield c.compress(data) + c.flush()
            return
        view = memoryview(data)
        steps = [view[k : k + DEFLATE_STEP] for k in range(0, len(data), DEFLATE_STEP)]
        job = asyncio.ensure_future(asyncio.to_thread(c.compress, steps[0]))
        try:
            for k in range(len(steps)):
                out = await job
                if k + 1 < len(steps):
                    job = asyncio.ensure_future(asyncio.to_thread(c.compress, steps[k + 1]))
                else:
                    out += c.flush()
                yield out
        finally:
            job.cancel()


def checksum(data: bytes) -> int:
    """The helper's ck(): a short check of a path or an answer line (any one byte changed
    changes it)."""
    c = 0
    for x in data:
        c = (c * 31 + x) & 0xFFFFF
    return c


def _data_frame(data: bytes | bytearray | memoryview) -> bytes:
    return b"D" + len(data).to_bytes(4, "little") + bytes(data)


def _error(path: str, kind: str, value: object) -> BoardError:
    e: BoardExecError
    if kind == "OSError" and type(value) is int:
        e = BoardOSError(f"OSError: [Errno {value}]", "", value)
    elif kind == "ValueError" and value in ("sha256 mismatch", "size mismatch", "path mismatch"):
        return Damaged(f"{path}: damaged on the way ({value}); old file kept")
    else:
        e = BoardExecError(f"{kind}: {value}")
    e.path = path
    return e
