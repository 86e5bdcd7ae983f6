"""The kept virtual board: one background process per board name, serving the board on a unix
socket between commands, as a USB board keeps running between them.

    lock = take_lock("default")                  # one user of the board at a time
    socket, notice = ensure(Address("virtual", "default"), idle=600)
    ...                                          # connect to `socket` (transports/kept.py)
    lock.release()

Its files live in `folder()` (the state dir's `virtual/`, 0700), per board NAME:
- NAME.lock: held by whoever starts, uses or stops the board (a command from before it
  connects until it has closed), and by the board itself when it stops for being idle; so
  two commands never start two boards, and a board never stops under a command;
- NAME.alive: held by the board's process as long as it lives (free: no board, whatever a
  stale NAME.json says; no pid is trusted after a crash or a reboot);
- NAME.json: its pid, address, socket, idle time (written by the board, atomically);
- a unix socket, 0600, named by a hash of NAME (socket paths are short).

The board stops after `idle` seconds with no client ($MPTUI_VIRTUAL_IDLE, default 600;
0 keeps no board: each command starts a fresh one, as tests do).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from mptui.errors import MptuiError, UsageError
from mptui.paths import state_dir

IDLE_ENV = "MPTUI_VIRTUAL_IDLE"
DEFAULT_IDLE = 600.0  # seconds: 10 minutes
START_TIMEOUT = 30.0  # seconds for a new board's process to say it is ready
LOCK_WAIT = 20.0  # seconds a command waits while another one uses the board
STOP_WAIT = 10.0  # seconds a board has to stop after SIGTERM, before SIGKILL
READY = "ready"


class KeeperError(MptuiError, RuntimeError):
    pass


def idle_timeout(environ=None) -> float:
    """Seconds a kept board waits with no client before it stops; 0: no kept board."""
    text = (os.environ if environ is None else environ).get(IDLE_ENV, "").strip()
    if not text:
        return DEFAULT_IDLE
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1e9:
        raise UsageError(f"${IDLE_ENV} must be seconds (0: a fresh virtual board per command), "
                         f"not {text!r}")
    return value


def folder() -> Path:
    path = state_dir() / "virtual"
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # the sockets inside give a REPL: this user's only
    return path


@dataclass(frozen=True)
class Files:
    name: str

    @property
    def lock(self) -> Path:
        return folder() / f"{self.name}.lock"

    @property
    def alive(self) -> Path:
        return folder() / f"{self.name}.alive"

    @property
    def state(self) -> Path:
        return folder() / f"{self.name}.json"

    @property
    def socket(self) -> Path:
        digest = hashlib.sha256(self.name.encode()).hexdigest()[:16]
        return folder() / f"{digest}.sock"


# -- locks ----------------------------------------------------------------------------------


class Lock:
    """An exclusive flock on a file, released by release() or when the process ends."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def try_take(self) -> bool:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing drops the lock
            self.fd = -1


def take_lock(name: str, timeout: float | None = None, path: Path | None = None) -> Lock:
    """NAME.lock (or `path`), waiting up to `timeout` seconds (LOCK_WAIT) while another
    command holds it (a blocking flock in a thread: woken the moment it is free)."""
    timeout = LOCK_WAIT if timeout is None else timeout
    lock = Lock(path or Files(name).lock)
    if lock.try_take():
        return lock
    got = threading.Event()
    gave_up = threading.Event()

    def wait() -> None:
        fcntl.flock(lock.fd, fcntl.LOCK_EX)
        got.set()
        if gave_up.is_set():
            lock.release()

    threading.Thread(target=wait, daemon=True).start()
    if not got.wait(timeout):
        gave_up.set()
        if not got.is_set():
            raise KeeperError(f"{describe(name)} is in use by another mptui "
                              f"(waited {timeout:g} s; `mptui virtual status` shows it)")
    return lock


def running(name: str) -> bool:
    """Does the board's process live (it holds NAME.alive)?"""
    if not Files(name).alive.exists():
        return False
    probe = Lock(Files(name).alive)
    try:
        return not probe.try_take()
    finally:
        probe.release()


# -- state ----------------------------------------------------------------------------------


def read_state(name: str) -> dict | None:
    try:
        data = json.loads(Files(name).state.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_state(name: str, data: dict) -> None:
    """Atomically: a reader sees the old state or the new, never half of one."""
    path = Files(name).state
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def forget(name: str) -> None:
    """Remove a board's state and socket (its process is gone)."""
    files = Files(name)
    for path in (files.state, files.socket):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def label(name: str) -> str:
    """The board's address: virtual, virtual:NAME."""
    return "virtual" if name == "default" else f"virtual:{name}"


def describe(name: str) -> str:
    return "the virtual board" if name == "default" else f"the virtual board {name!r}"


# -- starting -------------------------------------------------------------------------------


def ensure(address, idle: float, root: Path) -> tuple[Path, str | None]:
    """The socket of the board `address` names, started if it is not running (the caller holds
    NAME.lock). Returns (socket, notice): notice says why a board was started anew after one
    that had stopped unexpectedly; None otherwise."""
    name, wanted = address.target, str(address)
    state = read_state(name)
    if running(name):
        if state is None:
            raise KeeperError(f"{describe(name)} runs but left no state in "
                              f"{folder()}: `mptui virtual stop {name}`")
        if state.get("address") != wanted:
            raise KeeperError(
                f"{describe(name)} is running as {state.get('address')}, not "
                f"{wanted}: one name is one board (one folder); stop it first: "
                f"`mptui virtual stop {name}`")
        return Path(state["socket"]), None
    notice = None
    if state is not None:
        why = state.get("lost") or f"its process {state.get('pid')} had ended"
        notice = f"{describe(name)} had stopped unexpectedly ({why}); started it anew"
    forget(name)
    _spawn(address, idle, root)
    return Files(name).socket, notice


def _spawn(address, idle: float, root: Path) -> None:
    name = address.target
    argv = [sys.executable, "-m", "mptui.virtual.keeper_serve", str(address), f"--name={name}",
            f"--link={address.link or ''}", f"--heap={address.heap or ''}",
            f"--fs={address.fs or ''}", f"--idle={idle!r}",
            f"--root={Path(root).absolute()}"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            cwd=str(folder()))
    said = _read_until_ready(proc)
    if said is not None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait()
        forget(name)
        raise KeeperError(f"cannot start {describe(name)}: {said}")
    if proc.stdout is not None:
        proc.stdout.close()
    # the board's process runs on in its own session; reap it if it ends while we live
    threading.Thread(target=proc.wait, daemon=True).start()


def _read_until_ready(proc: subprocess.Popen) -> str | None:
    """None once the process says READY; else what it said (its last line) or why not."""
    deadline = time.monotonic() + START_TIMEOUT
    out = b""
    assert proc.stdout is not None  # started with stdout=PIPE
    fd = proc.stdout.fileno()
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return f"it did not start within {START_TIMEOUT:g} s"
        chunk = os.read(fd, 4096)
        out += chunk
        lines = out.decode("utf-8", "replace").split("\n")
        if READY in lines[:-1]:  # a whole line: nothing more comes
            return None
        if not chunk:
            last = [line.strip() for line in lines if line.strip()]
            return (last[-1].removeprefix("error: ") if last
                    else f"its process ended (exit status {proc.wait()})")


# -- status and stop ------------------------------------------------------------------------


def boards() -> list[dict]:
    """The running kept boards' states (stale state files are removed)."""
    found = []
    for path in sorted(folder().glob("*.json")):
        name = path.stem
        state = read_state(name)
        if running(name) and state is not None:
            found.append(state)
        elif not running(name):
            lock = Lock(Files(name).lock)
            try:
                if lock.try_take():  # nobody is starting it right now
                    forget(name)
            finally:
                lock.release()
    return found


def stop(name: str, wait: float = STOP_WAIT) -> dict | None:
    """Stop the kept board NAME (SIGTERM; SIGKILL if it has not stopped within `wait`).
    Returns its state, or None when it was not running."""
    state = read_state(name)
    if not running(name):
        forget(name)
        return None
    pid = state.get("pid") if state else None
    if isinstance(pid, int) and pid > 0:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    try:
        take_lock(name, wait, Files(name).alive).release()  # free once the process is gone
    except KeeperError:
        if isinstance(pid, int) and pid > 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        take_lock(name, wait, Files(name).alive).release()
    forget(name)
    return state or {"name": name}


def stop_all() -> list[dict]:
    return [s for s in (stop(state["name"]) for state in boards()) if s]
