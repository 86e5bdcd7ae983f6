"""Helpers for tests: waiting for bytes, finding runtime processes, free ports."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXPECT_TIMEOUT = 10  # seconds; only to turn a hang into a failure
POLL = 0.01  # seconds between two looks while polling: how often, never how long to wait
WEBREPL_PW = "s3cr3t-pw"  # the webrepl_board fixture's password
BLE_NAME = "mpy-test"  # the ble_board fixture's advertised name


def wait_until(predicate, timeout: float = EXPECT_TIMEOUT, what: str = "", interval: float = POLL):
    """Poll `predicate` (cheap state: a file, a flag) until it is true; return its value. Fails
    after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what or predicate}")
        time.sleep(interval)  # polling: the deadline above ends it
    return value


async def until(predicate, timeout: float = EXPECT_TIMEOUT, what: str = "",
                interval: float = POLL):
    """`wait_until` for a coroutine: the event loop runs between looks."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(interval)  # polling: the deadline above ends it
    return value


def expect(port, marker: bytes, timeout: float = EXPECT_TIMEOUT) -> bytes:
    """Read from a pyserial port (opened with a short timeout) until `marker` has arrived;
    return everything read."""
    deadline = time.monotonic() + timeout
    buf = b""
    while marker not in buf:
        if time.monotonic() > deadline:
            pytest.fail(f"expected {marker!r}, got {buf!r}")
        buf += port.read(max(1, port.in_waiting))
    return buf


def recv_all(sock: socket.socket, timeout: float = EXPECT_TIMEOUT) -> bytes:
    """Everything a socket receives until the peer closes."""
    sock.settimeout(timeout)
    chunks = []
    while chunk := sock.recv(4096):
        chunks.append(chunk)
    return b"".join(chunks)


_reserved: list[socket.socket] = []
atexit.register(lambda: [s.close() for s in _reserved])


def free_port() -> int:
    """A loopback TCP port kept from every other process on this computer: it stays bound here
    (SO_REUSEADDR, never listening) while this process runs, and a server binds it all the same
    (asyncio's servers, the bridge's, WebREPL's and the board agent's set SO_REUSEADDR too);
    nothing listening on it, a connection is refused. A port picked and let go is anyone's
    until the server binds it (again after each of its restarts): another test run's server
    then listens there and the test talks to it without a word."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    _reserved.append(s)
    return s.getsockname()[1]


def runtime_processes(root: Path) -> list[int]:
    """PIDs of MicroPython runtimes started for the virtual board whose / is `root`."""
    marker = f"MPTUI_VB_ROOT={Path(root).resolve()}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in environ.split(b"\0") and state != "Z":
            pids.append(int(entry.name))
    return pids


def run_cli(*args, input: bytes | None = None, timeout: float = 60, env=None):
    """Run the real `mptui` command (as `python -m mptui`)."""
    return subprocess.run(
        [sys.executable, "-m", "mptui", *args],
        input=input,
        capture_output=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )


def listening(port: int) -> bool:
    """Whether a TCP socket listens on `port`, read from the kernel's tables (no probe
    connection: the bridge serves one client at a time, a probe would take its place)."""
    wanted = f":{port:04X} "
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        if any(wanted in row.split(None, 2)[1] + " " and row.split()[3] == "0A" for row in rows):
            return True
    return False


def wait_port(port: int, timeout: float = 20) -> None:
    """Wait until something listens on port."""
    wait_until(lambda: listening(port), timeout, f"something to listen on port {port}")


def count_link_bytes(transport) -> list[int]:
    """From now on: [bytes the board sent over `transport`] (but for what the REPL's reader,
    already waiting in the link's own read, gets next)."""
    real, seen = transport.read, [0]

    async def read() -> bytes:
        data = await real()
        seen[0] += len(data)
        return data

    transport.read = read
    return seen


def spy_writes(transport) -> bytearray:
    """From now on: every byte sent to the board over `transport`."""
    real, sent = transport.write, bytearray()

    async def write(data: bytes) -> None:
        sent.extend(data)
        await real(data)

    transport.write = write
    return sent


async def load_helper(session, parts=("ls", "hash", "ops", "rd", "wb")) -> None:
    """Have the board's file helper (these parts of it) loaded, so that what a test counts
    next is the operation alone."""
    async with session.operation() as repl:
        for part in parts:
            assert await session.ensure_helper(repl, part)


def damage_once(transport, old: bytes, new: bytes, times: int = 1) -> list:
    """The link changes the first `old` the board sends into `new` (`times` times, one a
    read), even split between two reads; the list returned gets an item each time. The REPL's
    reader is already waiting in the link's own read: the change applies from the next
    operation on."""
    real, done, held = transport.read, [], bytearray()

    async def read() -> bytes:
        data = held + await real()
        held.clear()
        if len(done) >= times:
            return bytes(data)
        if old in data:
            done.append(old)
            return bytes(data.replace(old, new, 1))
        for n in range(len(old) - 1, 0, -1):  # a start of `old` at the end: keep it for later
            if data.endswith(old[:n]):
                held.extend(data[-n:])
                return bytes(data[:-n])
        return bytes(data)

    transport.read = read
    return done


@contextlib.asynccontextmanager
async def session_on(address: str, root: Path):
    """A connected Session to the virtual board at `address` whose `/` is `root`. Closing it
    asserts that no byte was lost to a full stdin ring (a link profile's): mptui must never
    overrun one."""
    from mptui.board import Session

    s = Session(address, root=root)
    await s.connect()
    try:
        yield s
    finally:
        wire = s.transport.board.wire
        await s.close()
    if wire is not None:
        assert wire.dropped == 0, f"mptui overran the board's stdin ring by {wire.dropped} bytes"
