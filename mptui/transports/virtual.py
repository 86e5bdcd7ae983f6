"""virtual / virtual:NAME — the in-process virtual board as a transport."""

from __future__ import annotations

from mptui.transports.base import LinkProfile, Transport, TransportClosed
from mptui.virtual import RuntimeOptions, VirtualBoard


class VirtualTransport(Transport):
    profile = LinkProfile(block_size=16384, blocks_in_flight=2)

    def __init__(
        self, name: str = "default", *, root=None, options: RuntimeOptions | None = None
    ) -> None:
        self.name = name
        self.address = "virtual" if name == "default" else f"virtual:{name}"
        self.identity = self.address
        self.board = VirtualBoard(name, root=root, options=options, usb_reset=True)
        self._open = False

    async def open(self) -> None:
        if not self.board.running:
            old = self.board
            self.board = VirtualBoard(self.name, root=old.root, options=old.options, usb_reset=True)
            await self.board.start()
        self._open = True

    @property
    def is_open(self) -> bool:
        return self._open and self.board.running

    async def read(self) -> bytes:
        if not self._open:
            raise TransportClosed("the virtual board's link is closed")
        try:
            data = await self.board.read()
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
