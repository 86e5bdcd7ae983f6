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
        self.board = VirtualBoard(name, root=root, options=options)
        self._open = False

    async def open(self) -> None:
        if not self.board.running:
            self.board = VirtualBoard(self.name, root=self.board.root, options=self.board.options)
            await self.board.start()
        self._open = True

    @property
    def is_open(self) -> bool:
        return self._open and self.board.running

    async def read(self) -> bytes:
        data = await self.board.read()
        if not data:
            self._open = False
            raise TransportClosed("the virtual board stopped")
        return data

    async def write(self, data: bytes) -> None:
        if not self.is_open:
            raise TransportClosed("the virtual board is stopped")
        self.board.write(data)

    async def close(self) -> None:
        self._open = False
        await self.board.stop()
