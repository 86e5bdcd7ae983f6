"""The host's side of `mptui mount`: a folder served to the board over the session's own stream.

The board's code (mpy/mount.py) mounts a filesystem at /remote whose every call is one request
on the board's stdout and one reply on its stdin (the framing is described there). Here,
`MountServer.feed` takes the requests out of the board's output before anything else sees it
(the REPL protocol, the console), and answers each one, in order, through the handler (what
the folder is and what may be reached in it: mptui.services.mount). Everything a request holds
is hostile: a malformed one gets EINVAL, never a crash, and nothing is run for it but the
handler's methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from collections.abc import Awaitable, Callable
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from mptui.errors import MptuiError

logger = logging.getLogger(__name__)

MOUNT_POINT = "/remote"
START = 0x18
HEADER = 9  # \x18 M <op> <length, 6 hex>
OPS = frozenset(b"SVLORWKCDMXN")
MAX_REQUEST = 1 << 20  # a write's block is far smaller; a longer "request" is output
NO_HANDLE = 255  # an open whose whole file came with the reply
CREDIT_TIMEOUT = 30.0  # seconds a piece of a reply waits for the board's credit
_HEX = frozenset(b"0123456789abcdef")
# what the board's errno numbers are (MicroPython uses Linux's), by name
_BOARD_ERRNO = {
    "EPERM": 1, "ENOENT": 2, "EIO": 5, "EBADF": 9, "EAGAIN": 11, "ENOMEM": 12, "EACCES": 13,
    "EEXIST": 17, "EXDEV": 18, "ENOTDIR": 20, "EISDIR": 21, "EINVAL": 22, "EMFILE": 24,
    "EFBIG": 27, "ENOSPC": 28, "EROFS": 30, "ENAMETOOLONG": 36, "ENOTEMPTY": 39, "ELOOP": 40,
    "ETIMEDOUT": 110,
}


class Handler(Protocol):
    """What serves the requests (paths are the board's, '/' being the mounted folder)."""

    def stat(self, path: str) -> tuple[int, int, int]: ...  # (mode, size, mtime)
    def statvfs(self, path: str) -> tuple[int, ...]: ...
    def listdir(self, path: str) -> list[tuple[str, int, int]]: ...  # (name, type, size)
    def open(self, path: str, mode: str, ahead: int) -> tuple[int, bytes]: ...
    def read(self, fd: int, n: int) -> bytes: ...
    def write(self, fd: int, data: bytes) -> int: ...
    def seek(self, fd: int, offset: int, whence: int) -> int: ...
    def close(self, fd: int) -> None: ...
    def remove(self, path: str) -> None: ...
    def mkdir(self, path: str) -> None: ...
    def rmdir(self, path: str) -> None: ...
    def rename(self, old: str, new: str) -> None: ...
    def close_all(self) -> None: ...


@lru_cache(maxsize=1)
def board_parts() -> tuple[str, ...]:
    """mpy/mount.py in its parts (one exec each), without comments and blank lines,
    indented by one space a level."""
    parts: list[list[str]] = [[]]
    for line in (Path(__file__).with_name("mpy") / "mount.py").read_text().splitlines():
        stripped = line.lstrip(" ")
        if line.startswith("# --- part"):
            parts.append([])
        if not stripped or stripped.startswith("#"):
            continue
        parts[-1].append(" " * ((len(line) - len(stripped)) // 4) + stripped)
    return tuple("\n".join(lines) + "\n" for lines in parts)


def mount_code(max_chunk: int, piece: int = 0, path: str = MOUNT_POINT) -> list[str]:
    """What the board runs to mount, one exec each; the last prints the block size it can take
    (at most `max_chunk`, less on a small heap). `piece`: see MountServer."""
    first, *rest = board_parts()
    return [f"{first}_mptui_mnt_setup({int(max_chunk)},{int(piece)})\ndel _mptui_mnt_setup\n",
            *rest,
            f"print(_mptui_mnt.chunk)\n_mptui_mnt.go({path!r})"]


def unmount_code(path: str = MOUNT_POINT) -> str:
    """Undo a mount (ours, or one left by a host that went away); quiet when there is none."""
    return (f"import os\ntry:\n from vfs import umount as _u\nexcept ImportError:\n"
            f" _u=os.umount\ntry:\n if os.getcwd().startswith({path!r}):\n  os.chdir('/')\n"
            f" _u({path!r})\nexcept OSError:\n pass\n_u=_mptui_mnt=None\ndel _u,_mptui_mnt")


def escape(data: bytes) -> bytes:
    """A reply's payload as sent: no byte of it acts on a REPL (see mpy/mount.py)."""
    data = data.replace(b"\x1b", b"\x1bE")
    for byte, letter in ((1, b"A"), (2, b"B"), (3, b"C"), (4, b"D"), (13, b"R"), (10, b"N")):
        data = data.replace(bytes([byte]), b"\x1b" + letter)
    return data


def reply(payload: bytes = b"", error: int | None = None) -> bytes:
    body = escape(str(error).encode() if error is not None else payload)
    return b"\x18" + (b"-" if error is not None else b"+") + b"%06x" % len(body) + body


def board_errno(e: OSError) -> int:
    """The board's number for a host OSError (Linux's; others are mapped by name)."""
    name = errno.errorcode.get(e.errno or 0, "")
    return _BOARD_ERRNO.get(name) or (e.errno if e.errno and 0 < e.errno < 256 else errno.EIO)


class MountServer:
    """Takes the mount's requests out of the board's output and answers them in order. On a
    link with a `ring` (the board's stdin loses what it cannot hold while busy) a long reply
    goes in pieces: no more than the ring in flight, one more piece for each \x06 credit."""

    def __init__(self, handler: Handler, write: Callable[[bytes], Awaitable[None]],
                 chunk: int, ring: int | None = None) -> None:
        self.handler = handler
        self.write = write
        self.chunk = chunk
        self.piece = max(16, (ring - 16) // 2) if ring else 0
        self._credits = 0
        self._credit = asyncio.Event()
        self._awaiting = False
        self.requests = 0  # answered so far
        self._held = bytearray()  # a request's start, or bytes that may begin one
        self._need = 0  # bytes of the current request's payload still to come
        self._op = 0
        self._payload = bytearray()
        self._queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._serve(), name="mptui-mount")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.handler.close_all()

    def reset(self) -> None:
        """The board rebooted: a request cut short is dropped, its files are closed, a reply
        waiting for credits given up."""
        self._held.clear()
        self._need = 0
        self._awaiting = False
        self._credit.set()
        self.handler.close_all()

    # -- the board's output ---------------------------------------------------------------

    def feed(self, data: bytes) -> bytes:
        """The board's output without the requests in it (those are queued to answer)."""
        if self._awaiting and 6 in data:  # the board reads a reply: its only output, credits
            self._credits += data.count(6)
            self._credit.set()
            data = data.replace(b"\x06", b"")
        out = bytearray()
        buf = bytes(self._held) + data if self._held else data
        self._held = bytearray()
        i = 0
        while i < len(buf):
            if self._need:
                take = buf[i : i + self._need]
                self._payload += take
                self._need -= len(take)
                i += len(take)
                if not self._need:
                    self._queue.put_nowait((self._op, bytes(self._payload)))
                continue
            j = buf.find(START, i)
            if j < 0:
                out += buf[i:]
                break
            out += buf[i:j]
            head = buf[j : j + HEADER]
            verdict = _header(head)
            if verdict is None:  # may be one: wait for the rest of it
                self._held += head
                break
            if verdict < 0:  # output that holds a \x18
                out.append(START)
                i = j + 1
                continue
            self._op, self._payload = head[2], bytearray()
            self._need = verdict
            i = j + HEADER
            if not verdict:
                self._queue.put_nowait((self._op, b""))
        return bytes(out)

    @property
    def busy(self) -> bool:
        """A request is on its way or waits for its answer."""
        return bool(self._need or self._held or not self._queue.empty())

    # -- answering --------------------------------------------------------------------------

    async def _serve(self) -> None:
        while True:
            op, payload = await self._queue.get()
            try:
                answer = reply(self.answer(op, payload))
            except OSError as e:
                answer = reply(error=board_errno(e))
            except Exception:  # a hostile request, or a bug: the board gets EINVAL
                logger.warning("mount: a request (%r) failed", chr(op), exc_info=True)
                answer = reply(error=errno.EINVAL)
            self.requests += 1
            try:
                await self._send(answer)
            except (MptuiError, OSError, asyncio.TimeoutError) as e:  # the session says more
                logger.info("mount: cannot answer the board: %s", e)

    async def _send(self, answer: bytes) -> None:
        piece = self.piece
        if not piece or len(answer) <= 8 + 2 * piece:
            await self.write(answer)
            return
        body = answer[8:]
        self._credits, self._awaiting = 0, True
        try:
            await self.write(answer[: 8 + 2 * piece])
            for start in range(2 * piece, len(body), piece):
                while not self._credits:
                    if not self._awaiting:
                        return  # the board was reset
                    self._credit.clear()
                    await asyncio.wait_for(self._credit.wait(), CREDIT_TIMEOUT)
                self._credits -= 1
                await self.write(body[start : start + piece])
        finally:
            self._awaiting = False

    def answer(self, op: int, payload: bytes) -> bytes:
        """The reply's payload for one request (OSError: the board raises it)."""
        h = self.handler
        if op in b"RWKC":
            if not payload:
                raise OSError(errno.EINVAL, "no file")
            fd, rest = payload[0], payload[1:]
            if op == ord("R"):
                return h.read(fd, max(0, min(int(rest, 16), self.chunk)))
            if op == ord("W"):
                return b"%x" % h.write(fd, rest)
            if op == ord("K"):
                offset, whence = (int(x, 16) for x in rest.split())
                return b"%x" % h.seek(fd, offset, whence)
            h.close(fd)
            return b""
        text = payload.decode("utf-8")
        if "\x00" in text and op not in b"ON":
            raise OSError(errno.EINVAL, "NUL in a path")
        if op == ord("S"):
            return b"%x %x %x" % h.stat(text)
        if op == ord("V"):
            return b" ".join(b"%x" % n for n in h.statvfs(text))
        if op == ord("L"):
            start, _, path = text.partition(" ")
            return self._listing(h.listdir(path), int(start, 16))
        if op == ord("O"):
            mode, _, path = text.partition("\x00")
            fd, data = h.open(path, mode, self.chunk)
            return bytes([fd]) + data
        if op == ord("N"):
            old, _, new = text.partition("\x00")
            h.rename(old, new)
            return b""
        {ord("D"): h.remove, ord("M"): h.mkdir, ord("X"): h.rmdir}[op](text)
        return b""

    def _listing(self, entries: list[tuple[str, int, int]], start: int) -> bytes:
        """One page of a listing: '+' (more follow) or '.', then `type size name\\0` each."""
        page = bytearray()
        for n, (name, kind, size) in enumerate(entries[start:], start):
            if len(page) >= self.chunk and n > start:
                return b"+" + bytes(page)
            page += b"%x %x " % (kind, size) + name.encode("utf-8") + b"\x00"
        return b"." + bytes(page)


def _header(head: bytes) -> int | None:
    """A request's payload length; -1 when `head` cannot start a request; None when it may
    (it is cut short)."""
    checks = (lambda b: b == ord("M"), lambda b: b in OPS) + (lambda b: b in _HEX,) * 6
    for k, b in enumerate(head[1:]):
        if not checks[k](b):
            return -1
    if len(head) < HEADER:
        return None
    n = int(head[3:], 16)
    return n if n <= MAX_REQUEST else -1
