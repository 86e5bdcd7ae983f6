"""The runtime process, as the virtual board handles it: started as a board's own terminal,
stopped and continued, interrupted the way a board's Ctrl-C interrupts."""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import platform
import signal
import subprocess
import termios
import time
from collections.abc import Callable


def continue_process(proc) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGCONT)


def wait_stopped(pid: int) -> None:
    """Spin briefly until the process shows as stopped (SIGSTOP is delivered asynchronously)."""
    for _ in range(2000):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in "Tt":
                    return
        except OSError:
            return
        time.sleep(0.0001)


_TGKILL = {"x86_64": 234, "aarch64": 131, "armv7l": 268, "i686": 270}.get(platform.machine())


def interrupt_main_thread(pid: int, sig: int = signal.SIGINT) -> None:
    """A signal to the main thread (tgkill), as a board's Ctrl-C interrupts the main program:
    a process-wide signal may land in a `_thread` of the app instead, and a blocking call is
    ended (EINTR) only in the thread the signal lands in."""
    if _TGKILL is not None and _libc is not None and _libc.syscall(_TGKILL, pid, pid, sig) == 0:
        return
    os.kill(pid, sig)


def interrupt_code(pid: int, safe: int) -> bool:
    """A Ctrl-C for the code the runtime runs: if the port's SIGINT handler is installed (code
    runs with Ctrl-C on), KeyboardInterrupt is made pending (the signal `safe` where the
    runtime handles it, else SIGINT) and True; else False (the byte is data). The process is
    stopped while we look, so that the answer holds when the signal lands."""
    if signal.SIGINT not in caught_signals(pid):  # (no handler now: the byte is data;
        return False  # only a yes must hold, below)
    try:
        os.kill(pid, signal.SIGSTOP)
        wait_stopped(pid)
        caught = caught_signals(pid)
        if signal.SIGINT not in caught:
            return False
        interrupt_main_thread(pid, safe if safe in caught else signal.SIGINT)
        return True
    except ProcessLookupError:
        return False
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


def caught_signals(pid: int) -> set[int]:
    """The signals the process has handlers installed for (Linux: SigCgt in /proc/PID/status)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    mask = int(line.split()[1], 16)
                    return {n for n in range(1, 65) if mask & (1 << (n - 1))}
    except (OSError, ValueError):
        pass
    return set()


_libc: ctypes.CDLL | None
_prctl: Callable[..., int] | None
try:
    _libc = ctypes.CDLL(None, use_errno=True)
    _prctl = _libc.prctl
except (OSError, AttributeError):  # not Linux
    _libc = _prctl = None


def child_setup() -> None:
    """In the child: own session, PTY as controlling terminal, die with the parent."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    if _prctl is not None:
        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def start_on_terminal(cmd: list[str], terminal: int, env: dict[str, str],
                      cwd: str) -> subprocess.Popen:
    """Start `cmd` with the PTY end `terminal` as its stdin, stdout, stderr and controlling
    terminal, in a session of its own (it dies with us)."""
    return subprocess.Popen(
        cmd,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        cwd=cwd,
        preexec_fn=child_setup,  # noqa: PLW1509 (setsid + TIOCSCTTY need it)
        close_fds=True,
    )
