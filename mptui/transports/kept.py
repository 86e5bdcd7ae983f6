"""virtual[:NAME] as the command line and the app reach it: the kept virtual board, a
background process that runs between commands (mptui/virtual/keeper.py), over its unix
socket. The board is started by the first command that needs it; this link holds the
board's lock from before it connects until it has closed, so commands take turns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mptui.transports.tcp import SocketTransport
from mptui.transports.virtual import FAST_PROFILE

if TYPE_CHECKING:
    from mptui.transports.address import Address
    from mptui.virtual.keeper import Lock


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

    async def open(self) -> None:
        from mptui.virtual import keeper

        def take_and_ensure() -> tuple[Lock, Path, str | None]:
            # one trip to a thread, not two: at the app's start-up each trip back waits for the
            # loop to finish painting the first screen
            lock = keeper.take_lock(self.board_address.target)
            try:
                return lock, *keeper.ensure(self.board_address, self.idle, self.root)
            except BaseException:
                lock.release()
                raise

        work = asyncio.ensure_future(asyncio.to_thread(take_and_ensure))
        try:
            self._lock, self._socket, self.notice = await asyncio.shield(work)
        except asyncio.CancelledError:  # the thread goes on: its lock is let go once it has it
            work.add_done_callback(_release_when_taken)
            raise
        try:
            await super().open()
        except BaseException:
            self._release()
            raise

    async def _connect(self, loop: asyncio.AbstractEventLoop,
                       protocol: Callable[[], asyncio.Protocol]) -> None:
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


def _release_when_taken(work: asyncio.Future[tuple[Lock, Path, str | None]]) -> None:
    if not work.cancelled() and work.exception() is None:
        work.result()[0].release()
