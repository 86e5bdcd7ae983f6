"""virtual[:NAME] as the command line and the app reach it: the kept virtual board, a
background process that runs between commands (mptui/virtual/keeper.py), over its unix
socket. The board is started by the first command that needs it; this link holds the
board's lock from before it connects until it has closed, so commands take turns.

The app opens the link early (`open_early`, in a thread, while Textual is imported): its
transport then takes that link, and the time the board has had to speak counts towards the
wait before an Enter shows its prompt.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mptui.transports import early
from mptui.transports.tcp import SocketTransport
from mptui.transports.virtual import FAST_PROFILE

if TYPE_CHECKING:
    from mptui.transports.address import Address
    from mptui.virtual.keeper import Lock

# A link opened early (transports/early.py): lock, socket path, notice, connected socket
Early = tuple["Lock", Path, "str | None", socket.socket]


class KeptVirtualTransport(SocketTransport):
    profile = FAST_PROFILE
    greets_on_open = False  # a board that runs already says nothing when we connect
    greet_after = 0.03  # a process on this computer: what it prints arrives within ms

    def __init__(self, address: Address, *, idle: float, root: Path | None = None) -> None:
        from mptui.paths import virtual_board_root
        from mptui.virtual.link import parse_link, parse_size

        super().__init__("localhost", 0)
        self.board_address = address
        self.address = self.identity = str(address)
        self.idle = idle
        self.root = root or virtual_board_root(address.target)
        link = parse_link(address.link or "")
        if address.heap:
            link = replace(link, heap=parse_size(address.heap))
        if link.drops:  # a UART: never more in flight than the board's ring holds
            self.profile = replace(FAST_PROFILE, ring=link.ring)
        self.notice: str | None = None  # a board started anew after a crash says so
        self._lock: Lock | None = None
        self._socket: Path | None = None
        self._early_socket: socket.socket | None = None

    async def open(self) -> None:
        if not await self._take_early():
            # one trip to a thread, not two: at the app's start-up each trip back waits for
            # the loop to finish painting the first screen
            work = asyncio.ensure_future(asyncio.to_thread(
                _take_and_ensure, self.board_address, self.idle, self.root))
            try:
                self._lock, self._socket, self.notice = await asyncio.shield(work)
            except asyncio.CancelledError:  # the thread goes on: its lock is let go once taken
                work.add_done_callback(_release_when_taken)
                raise
        try:
            await super().open()
        except BaseException:
            if self._early_socket is not None:
                self._early_socket.close()
                self._early_socket = None
            self._release()
            raise

    async def _take_early(self) -> bool:
        """Take the link open_early() opened for this board, if there is one that worked. What
        it failed on (the board held by a command past the wait, not started) is raised as
        opening anew would raise it, not after waiting for it again; a socket that failed is
        opened anew."""
        got = await early.take(_key(self.board_address), self.root, _close_link, anew=OSError)
        if got is None:
            return False
        (self._lock, self._socket, self.notice, self._early_socket), waited = got
        # what the board said since is in the socket: its prompt's Enter need not wait as long
        self.greet_after = max(0.005, KeptVirtualTransport.greet_after - waited)
        return True

    async def _connect(self, loop: asyncio.AbstractEventLoop,
                       protocol: Callable[[], asyncio.Protocol]) -> None:
        sock, self._early_socket = self._early_socket, None
        if sock is not None:
            await loop.create_unix_connection(protocol, sock=sock)
        else:
            await loop.create_unix_connection(protocol, str(self._socket))

    async def close(self) -> None:
        await super().close()
        if self._protocol is not None and self._protocol.transport is not None:
            await self._protocol.lost.wait()  # gone from the socket before the next may come
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def _take_and_ensure(address: Address, idle: float, root: Path
                     ) -> tuple[Lock, Path, str | None]:
    """The board's lock taken, then the board started if it is not running (in a thread: both
    may wait): (lock, its socket's path, a notice when it was started anew after a crash)."""
    from mptui.virtual import keeper

    lock = keeper.take_lock(address.target)
    try:
        return lock, *keeper.ensure(address, idle, root)
    except BaseException:
        lock.release()
        raise


def _release_when_taken(work: asyncio.Future[tuple[Lock, Path, str | None]]) -> None:
    if not work.cancelled() and work.exception() is None:
        work.result()[0].release()


def open_early(address: Address, idle: float) -> None:
    """Start opening the link to the kept board `address` in a thread: its lock taken, the
    board started if it is not running, its socket connected. The next transport opened for
    the board (its folder the same) takes that link."""
    def work() -> Early:
        lock, path, notice = _take_and_ensure(address, idle, _root(address))
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(path))
        except BaseException:
            sock.close()
            lock.release()
            raise
        sock.setblocking(False)
        return lock, path, notice, sock

    early.start(_key(address), _root(address), work)


def _key(address: Address) -> str:
    return "kept " + address.target


def _root(address: Address) -> Path:
    from mptui.paths import virtual_board_root

    return virtual_board_root(address.target)


def _close_link(made: Early) -> None:
    lock, _, _, sock = made
    sock.close()
    lock.release()
