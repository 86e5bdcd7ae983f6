"""The board-side helper (mpy/helper.py) as the host sends it: in parts, small, checked.

- `PARTS`: each part's source without comments, blank lines, or more indentation than needed;
  `part_for(function)` names the part that defines a function; `needs(part)` what it builds on.
- `load_code(parts, caps)`: code that checks the parts (crc32, else sha256) before it runs it,
  so a byte damaged on the way never runs as something else; deflated where the board has
  `deflate` (the part travels as a bytes literal: MicroPython's lexer takes any byte in one,
  so only a few are escaped).
- `one_shot_read`, `one_shot_write`: a read or write function sent with its call, for a
  session's first transfer (the board not probed: no probe, no parts).
- `PROBE_CODE`: what the board is (adapt.Caps), and whether our helper is already in its RAM.
- `arg(path)`: a path as a call's argument, padded so the board's compiler does not intern it.
"""

from __future__ import annotations

import binascii
import re
import zlib
from functools import lru_cache
from pathlib import Path

from mptui.board.adapt import Caps

HELPER_WBITS = 12  # the largest window the helper's own parts are deflated with (4 KiB)
NEEDS = {"base": (), "ls": ("base",), "ops": ("base",), "hash": ("base", "ls"),
         "rd": ("base",), "wb": ("base",)}  # (rd itself needs nothing of base)
FUNCTIONS = {"ls": "ls", "mkdirs": "ops", "rmtree": "ops", "hash1": "hash", "tree": "hash",
             "sh": "hash", "fin": "hash", "rd": "rd", "wb": "wb"}
INTERN_MAX = 10  # MICROPY_ALLOC_PARSE_INTERN_STRING_LEN: shorter string literals are interned


def _minify(text: str) -> str:
    lines = []
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = (len(line) - len(stripped)) // 4
        code, sep, _ = stripped.partition("  # ")
        if sep and code.count('"') % 2 == 0 and code.count("'") % 2 == 0:
            stripped = code.rstrip()  # (an inline comment)
        lines.append(" " * indent + _squeeze(stripped))
    return "\n".join(lines) + "\n"


def _squeeze(code: str) -> str:
    """A line without the spaces Python does not need: one goes only where it parts two names,
    numbers or string literals (never inside a literal)."""
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(code):
        c = code[i]
        if quote:
            out.append(c)
            if c == "\\" and i + 1 < len(code):
                out.append(code[i + 1])
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
            out.append(c)
        elif c != " " or (out and _WORD.match(out[-1]) and _WORD.match(code[i + 1 : i + 2])):
            out.append(c)
        i += 1
    return "".join(out)


_WORD = re.compile(r"[A-Za-z0-9_'\"]")


@lru_cache(maxsize=1)
def _parts() -> dict[str, str]:
    text = (Path(__file__).with_name("mpy") / "helper.py").read_text()
    chunks = re.split(r"^# part: (\w+)\n", text, flags=re.MULTILINE)
    return {name: _minify(body) for name, body in zip(chunks[1::2], chunks[2::2], strict=True)}


def parts() -> dict[str, str]:
    return _parts()


@lru_cache(maxsize=1)
def version() -> str:
    """Names this helper: a board holding another version's gets ours."""
    import hashlib  # (here: a command that runs code alone loads no helper)

    return hashlib.sha256("".join(_parts().values()).encode()).hexdigest()[:12]


def helper_source() -> str:
    """All parts, as one program (for tests and the size budget)."""
    return "".join(_parts().values())


def one_shot_read(call_args: str) -> str:
    """The helper's read function sent as it is and called once (`call_args`: its arguments),
    for a read before the board was probed: fewer bytes than the probe and the parts' load."""
    source = _parts()["rd"].split("_mptui.rd=_mptui_rd\n")[0]
    return f"{source}try:\n _mptui_rd({call_args})\nfinally:\n del _mptui_rd\n"


def part_for(function: str) -> str:
    return FUNCTIONS[function]


def needs(part: str) -> list[str]:
    """The parts to have loaded, in order, for `part`."""
    out: list[str] = []
    for dep in (*NEEDS[part], part):
        for p in (*NEEDS[dep], dep):
            if p not in out:
                out.append(p)
    return out


def part_source(part: str) -> str:
    """A part's code, as it runs on the board: it then records itself (and base, the version)."""
    tail = f"_mptui.v={version()!r}\n_mptui.p='base'\n" if part == "base" else \
        f"_mptui.p+={',' + part!r}\n"
    return _parts()[part] + tail


def bytes_literal(data: bytes) -> bytes:
    """A bytes literal MicroPython's lexer reads back as `data`: every byte as it is but for
    the quote, the backslash, line ends, NUL and the REPL's control bytes 1 to 5, each in its
    shortest escape (two characters; an octal one before an octal digit takes four)."""
    out = bytearray(b"b'")
    for i, c in enumerate(data):
        short = _SHORT.get(c)
        if short is None:
            out.append(c)
        elif c <= 5 and data[i + 1 : i + 2] in _OCTAL_DIGITS:
            out += b"\\%03o" % c  # (\1 then '7' would read as \17)
        else:
            out += short
    out += b"'"
    return bytes(out)


_SHORT = {ord("\\"): b"\\\\", ord("'"): b"\\'", ord("\r"): b"\\r", ord("\n"): b"\\n",
          **{c: b"\\%o" % c for c in range(6)}}
_OCTAL_DIGITS = frozenset(bytes([d]) for d in b"01234567")


def deflate(data: bytes, wbits: int, level: int = 9) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, -wbits, 9)
    return c.compress(data) + c.flush()


def load_code(part: str | list[str], caps: Caps | None) -> bytes:
    """Code that runs a part (or several, in one go) on the board once it has checked it
    arrived whole."""
    src = "".join(part_source(p) for p in ([part] if isinstance(part, str) else part)).encode()
    lines = []
    body = src
    wbits = min(caps.wbits(stream=False) or 0, HELPER_WBITS) if caps else 0
    if wbits:
        packed = deflate(src, wbits)
        if len(packed) < len(src) * 0.9:
            body = packed
    lines.append(b"_mptui_s=" + bytes_literal(body))
    if body is not src:
        lines.append(b"import io,deflate")
        lines.append(b"_mptui_s=deflate.DeflateIO(io.BytesIO(_mptui_s),deflate.RAW,%d).read()"
                     % wbits)
    if caps is None or caps.crc32:
        lines.append(b"from binascii import crc32")
        lines.append(b"if crc32(_mptui_s)!=%d:raise OSError(5)" % binascii.crc32(src))
    elif caps.sha256:
        import hashlib

        lines.append(b"from hashlib import sha256")
        lines.append(b"if sha256(_mptui_s).digest()!=" + bytes_literal(hashlib.sha256(src).digest())
                     + b":raise OSError(5)")
    lines.append(b"exec(_mptui_s)")
    lines.append(b"del _mptui_s")
    return b"\n".join(lines)


@lru_cache(maxsize=1)
def _write1() -> str:
    return _minify((Path(__file__).with_name("mpy") / "write1.py").read_text())


def one_shot_write(call_args: str) -> bytes:
    """The write function of mpy/write1.py sent with its call (`call_args`: its own), for a
    session's first write of data that does not compress, the board not probed: far fewer
    bytes than the probe, the helper's parts and their call. Deflated in the zlib format,
    whose adler32 the board's `deflate` checks before any of it runs (a damaged byte fails it
    with EINVAL); a board without `deflate` fails it at once (ImportError), before the stream."""
    src = (_write1() + f"try:\n _mptui_w1({call_args})\nfinally:\n del _mptui_w1\n").encode()
    wbits = max(9, min(HELPER_WBITS, (len(src) - 1).bit_length()))
    c = zlib.compressobj(9, zlib.DEFLATED, wbits, 9)
    return (b"import io,deflate\nexec(deflate.DeflateIO(io.BytesIO("
            + bytes_literal(c.compress(src) + c.flush()) + b"),deflate.ZLIB).read())")


def guarded(code: str | bytes) -> bytes:
    """Code that runs `code` only if it arrived whole (crc32; as it is on a board without
    binascii.crc32): for commands that change files, so that a damaged path never names
    another file. Nothing follows the run (its clean-up comes first): a byte of this code
    damaged on the way fails it before `code` runs, never after."""
    src = code.encode() if isinstance(code, str) else code
    return (b"_mptui_s=" + bytes_literal(src) + b"\ntry:\n from binascii import crc32\n"
            b" _mptui_c=crc32(_mptui_s)!=%d\nexcept ImportError:\n _mptui_c=0\n"
            b"if _mptui_c:raise OSError(5)\ndel _mptui_c\nexec(globals().pop('_mptui_s'))"
            % binascii.crc32(src))


PROBE_CODE = """def _mptui_i():
 import gc,sys,io
 try:import deflate;z=1+hasattr(deflate.DeflateIO,'write')
 except:z=0
 try:import hashlib;h=hasattr(hashlib,'sha256')
 except:h=0
 try:from binascii import crc32;c=1
 except:c=0
 gc.collect();m=globals().get('_mptui')
 print((gc.mem_free() if hasattr(gc,'mem_free') else -1,h,hasattr(sys.stdout,'buffer'),z,hasattr(io,'IOBase'),c,sys.platform,getattr(m,'v',''),getattr(m,'p','')))
_mptui_i()
del _mptui_i"""


def arg(path: str, checked: bool = False) -> str:
    """A path for a helper call: its repr, NUL-padded past the length the board's compiler
    interns (every distinct short literal would stay in its RAM for good); `checked`: and
    its crc32, for a call that checks the path arrived whole (cheaper than `guarded`)."""
    padded = path + "\0" * max(0, INTERN_MAX + 1 - len(path))
    if checked:
        return f"{padded!r},{binascii.crc32(padded.encode())}"
    return repr(padded)
