"""The filesystem without the helper (a board too short of memory for it, odd firmware): plain
raw-REPL code, slower, as safe. Code that changes files runs only if it arrived whole
(helper.guarded), and a written file replaces the old one only once its size and sha256 (or
crc32) are checked on the board.
"""

from __future__ import annotations

import binascii
import contextlib
import posixpath
from collections.abc import Callable
from typing import Any

from mptui.board.errors import BoardError, BoardExecError, BoardOSError, Damaged
from mptui.board.helper import arg, bytes_literal, guarded
from mptui.board.literal import NotALiteral, parse
from mptui.board.repl import Repl

Progress = Callable[[int, int], None]  # (bytes done, bytes in all)

CHUNK = 512  # bytes per write call (compiled on the board: a small heap's size)
TMP_SUFFIX = ".mptui~"  # a file being written, beside its final name


def board_path(path: str) -> str:
    """An absolute, normalised board path ('' and '.' are the root)."""
    p = posixpath.normpath("/" + path.strip().lstrip(":"))
    return "/" + p.lstrip("/")


def path(p: str) -> str:
    """A path in board code, padded against the compiler's interning (helper.arg)."""
    return f"{arg(p)}.rstrip('\\x00')"


def literal(out: bytes | str) -> Any:
    """A value the board printed with repr(). Garbled output (a running program's print mixed
    in, a line hit) is a BoardError, never a crash."""
    try:
        return parse(out)
    except NotALiteral as e:
        raise BoardError(f"unreadable answer from the board: {str(e)!r}") from e


def lines(out: bytes) -> list[Any]:
    return [literal(line) for line in out.decode("utf-8", "replace").splitlines() if line.strip()]


async def run(repl: Repl, code: str | bytes) -> bytes:
    """Code that changes files: run only if it arrived whole."""
    return await repl.exec(guarded(code))


async def ls(repl: Repl, p: str, recursive: bool, rel: tuple[str, ...] = ()) -> list[Any]:
    """(names, size or -1) rows, as the helper's ls gives them."""
    out = await repl.exec(
        f"import os\nfor e in os.ilistdir({path(p)}):\n"
        f" print(repr((e[0], -1 if e[1]&0x4000 else e[3] if len(e)>3 else "
        f"os.stat({path(p)}+'/'+e[0])[6])))"
    )
    rows = [((*rel, row[0]), *row[1:]) if isinstance(row, tuple) and row else row
            for row in lines(out)]
    if recursive:
        for row in list(rows):
            names = row[0] if isinstance(row, tuple) and len(row) == 2 else ()
            if (names and isinstance(names[-1], str) and row[1] == -1
                    and names[-1] not in ("", ".", "..") and "/" not in names[-1]):
                rows += await ls(repl, posixpath.join(p, names[-1]), True, names)
    return rows


async def mkdirs(repl: Repl, p: str) -> None:
    parts = [q for q in p.split("/") if q]
    for i in range(1, len(parts) + 1):
        sub = "/" + "/".join(parts[:i])
        await run(repl,
                  f"import os\ntry:\n os.mkdir({path(sub)})\nexcept OSError as e:\n"
                  f" if e.args[0]!=17 or not os.stat({path(sub)})[0]&0x4000: raise")


async def read(repl: Repl, p: str, progress: Progress | None) -> bytes:
    """The file's bytes as repr() lines, then its size and sha256 (b'' on a board without
    hashlib): checked here, Damaged when they disagree or a line is garbled."""
    data = bytearray()
    buf = bytearray()
    end: list[Any] = []

    def sink(chunk: bytes) -> None:
        buf.extend(chunk)
        while (i := buf.find(b"\n")) >= 0:
            line = bytes(buf[:i]).strip()
            del buf[: i + 1]
            if not line:
                continue
            try:
                value = literal(line)
            except BoardError as e:
                raise Damaged(f"{p}: damaged on the way (a garbled line)") from e
            if type(value) is tuple and not end:
                end.append(value)
            elif type(value) is bytes and not end:
                data.extend(value)
                if progress:
                    progress(len(data), -1)
            else:
                raise Damaged(f"{p}: damaged on the way (a garbled line)")

    await repl.exec(guarded(
        f"f=open({path(p)},'rb')\nn=0\ntry:\n from hashlib import sha256\n h=sha256()\n"
        "except ImportError:\n h=None\nwhile 1:\n b=f.read(256)\n if not b:break\n n+=len(b)\n"
        " if h:h.update(b)\n print(repr(b))\nf.close()\nprint(repr((n,h.digest() if h else b'')))"
    ), sink)
    size, digest = end[0] if len(end) == 1 and len(end[0]) == 2 else (-1, b"")
    import hashlib  # (here: listing or removing files loads no hashlib, nor the OpenSSL it brings)

    if size != len(data) or (digest and digest != hashlib.sha256(data).digest()):
        raise Damaged(f"{p}: damaged on the way (sha256 differs)")
    return bytes(data)


FINISH = """def _mptui_fin(t,p,n,d,cc):
 import os
 _mptui_f.close()
 try:
  from hashlib import sha256
  h=sha256()
 except ImportError:
  h=None
 try:
  from binascii import crc32
 except ImportError:
  crc32=None
 c=0
 with open(t,'rb') as f:
  while 1:
   b=f.read(512)
   if not b:break
   if h:h.update(b)
   elif crc32:c=crc32(b,c)
 if os.stat(t)[6]!=n or (h and h.digest()!=d) or (not h and crc32 and c!=cc):
  os.remove(t)
  raise ValueError('sha256 mismatch')
 try:
  os.rename(t,p)
 except OSError:
  if os.stat(p)[0]&0x4000:raise
  os.remove(p)
  os.rename(t,p)
"""


PLACED = "mptui-placed"  # what the board prints once the file has replaced the old one


async def write(repl: Repl, p: str, data: bytes, progress: Progress | None) -> None:
    """Write through a temporary name; checked, then renamed. (A failure part-way: the caller
    removes the temporary file, see remove_quietly.) A ValueError('sha256 mismatch') from the
    board: the bytes were damaged on the way. The board's word that the file is in place must
    come back whole (a call damaged into a comment runs nothing and raises nothing)."""
    tmp = p + TMP_SUFFIX
    await run(repl, f"_mptui_f=open({path(tmp)},'wb')\n_mptui_w=_mptui_f.write")
    for start in range(0, len(data), CHUNK):
        await repl.exec(b"_mptui_w(" + bytes_literal(data[start : start + CHUNK]) + b")")
        if progress:
            progress(min(start + CHUNK, len(data)), len(data))
    import hashlib

    digest = bytes_literal(hashlib.sha256(data).digest())
    out = await run(repl, (FINISH + f"_mptui_fin({path(tmp)},{path(p)},{len(data)},").encode()
                    + digest + f",{binascii.crc32(data)})\ndel _mptui_fin,_mptui_f,_mptui_w\n"
                    f"print({PLACED!r})".encode())
    if out.strip() != PLACED.encode():
        raise Damaged(f"{p}: no word from the board that it was written")
    if progress and not data:
        progress(0, 0)


async def remove_quietly(repl: Repl, tmp: str) -> bool:
    """After a stopped write: its temporary file goes (tried again when the answer that it
    went does not come whole: a lossy link). True once the board said it is gone; False
    leaves it to `sweep`."""
    for _ in range(3):
        with contextlib.suppress(Exception):
            out = await run(repl,
                            f"import os\ntry:\n _mptui_f.close()\nexcept Exception:\n pass\n"
                            f"try:\n os.remove({path(tmp)})\nexcept OSError:\n pass\nprint('gone')")
            if out.strip() == b"gone":
                return True
    return False


async def resync(repl: Repl) -> bool:
    """After a write stream lost on the way (silence, or the REPL's framing out of step):
    end what the board may still run (the stream's stop bytes, Ctrl-C), back at the prompt
    (False: the board gave none)."""
    repl.in_raw = repl.running = False
    try:
        await repl.enter_raw()
    except BoardError:
        return False
    return True


SWEEP_TRIES = 16  # a lossy link (0.3% of bytes) damages a sweep's code or answer 2 times in 3
# seconds without a byte that say a sweep's answer was lost (it is quick: a board drops a
# file in a few ms), and more per file (a flash busy erasing)
SWEEP_SILENCE = (3.0, 0.1)


async def sweep(repl: Repl, paths: list[str]) -> bool:
    """The temporary files of failed writes go (any the board could not drop itself, or whose
    clean-up was not confirmed), in one call checked by its answer: tried again from a fresh
    prompt until the board says so, up to SWEEP_TRIES times. True once it did."""
    if not paths:
        return True
    code = ("import os\nfor p in " + repr([p + TMP_SUFFIX for p in paths])
            + ":\n try:\n  os.remove(p)\n except OSError:\n  pass\nprint('swept')")
    silence = SWEEP_SILENCE[0] + SWEEP_SILENCE[1] * len(paths)
    mute = 0  # fresh prompts in a row the board did not give: it no longer answers
    for _ in range(SWEEP_TRIES):
        with contextlib.suppress(BoardError):
            if (await repl.exec(guarded(code), timeout=silence)).strip() == b"swept":
                return True
        # (the link may be out of step: a fresh prompt first)
        mute = 0 if await resync(repl) else mute + 1
        if mute == 2:
            break
    return False


def damaged(e: BaseException) -> bool:
    """A plain write's error that means its bytes (or its code) were damaged on the way: our
    code raises nothing but the filesystem's OSErrors (EIO is the guard's: code damaged) and
    MemoryError; any other (KeyError, a type name itself damaged) is damage."""
    if isinstance(e, BoardOSError):
        return e.errno == 5
    if not isinstance(e, BoardExecError):
        return False
    if e.exc_type == "OSError":
        return True  # (its text damaged: no errno to be read)
    return e.exc_type not in ("MemoryError", "KeyboardInterrupt")
