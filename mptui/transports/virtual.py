"""virtual / virtual:NAME[?link=PROFILE&heap=SIZE&fs=SIZE]: the in-process virtual board as a
transport."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING

from mptui.transports.base import LinkProfile, Transport, TransportClosed
from mptui.virtual.link import parse_link, parse_size

if TYPE_CHECKING:
    from mptui.virtual import RuntimeOptions, VirtualBoard

FAST_PROFILE = LinkProfile(block_size=16384, blocks_in_flight=2)


class VirtualTransport(Transport):
    profile = FAST_PROFILE
    greets_on_open = True  # started anew: its banner and prompt come by themselves

    def __init__(
        self,
        name: str = "default",
        *,
        root: str | os.PathLike[str] | None = None,
        options: RuntimeOptions | None = None,
        link: str | None = None,
        heap: str | None = None,
        fs: str | None = None,
    ) -> None:
        """link, heap, fs: as in the address (a link profile, a free heap size, a filesystem
        size)."""
        from mptui.transports.address import Address, virtual_options

        self.name = name
        query = "&".join(f"{k}={v}" for k, v in (("link", link), ("heap", heap), ("fs", fs)) if v)
        self.address = str(Address("virtual", name, options=virtual_options(query) if query else ()))
        self.identity = self.address
        self.link = parse_link(link or "")
        if heap:
            self.link = replace(self.link, heap=parse_size(heap))
        if fs:
            self.link = replace(self.link, fs=parse_size(fs, "fs"))
        if self.link.drops:  # a UART: never more in flight than the board's ring holds
            self.profile = replace(FAST_PROFILE, ring=self.link.ring)
        self.board = self._new_board(root, options)
        self._open = False

    def _new_board(
        self, root: str | os.PathLike[str] | None, options: RuntimeOptions | None
    ) -> VirtualBoard:
        from mptui.virtual.board import VirtualBoard

        return VirtualBoard(self.name, root=root, options=options, usb_reset=True, link=self.link)

    async def open(self) -> None:
        if not self.board.running:
            old = self.board
            self.board = self._new_board(old.root, old.options)
            await self.board.start()
        self._open = True

    @property
    def is_open(self) -> bool:
        return self._open and self.board.running

    async def read(self) -> bytes:
        if not self._open:
            raise TransportClosed("the virtual board's link is closed")
        try:
            data: bytes = await self.board.read()
        except ConnectionResetError as e:
            self._open = False  # like a USB board after reset: reopen to carry on
            raise TransportClosed(str(e)) from None
        if not data:
            self._open = False
            raise TransportClosed("the virtual board stopped")
        return data

    async def write(self, data: bytes) -> None:
        if not self.is_open:
            raise TransportClosed("the virtual board is stopped")
        self.board.write(data)
        await self.board.drain()

    async def close(self) -> None:
        self._open = False
        await self.board.stop()
