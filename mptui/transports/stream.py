"""A small buffer between a callback-driven link and `Transport.read()`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from mptui.transports.base import TransportClosed


class ByteQueue:
    """Bytes pushed by a link's callbacks, taken by one reader; closes with a reason."""

    def __init__(self, high_water: int = 1 << 22) -> None:
        self._buf = bytearray()
        self._event = asyncio.Event()
        self._closed: str | None = None
        self.high_water = high_water
        self.on_drained: Callable[[], object] | None = None  # called when the reader takes data after high water

    def push(self, data: bytes) -> None:
        self._buf += data
        self._event.set()

    def close(self, reason: str = "the link was closed") -> None:
        if self._closed is None:
            self._closed = reason
        self._event.set()

    @property
    def closed(self) -> str | None:
        """Why it was closed; None while open."""
        return self._closed

    @property
    def full(self) -> bool:
        return len(self._buf) >= self.high_water

    async def read(self) -> bytes:
        while not self._buf:
            if self._closed is not None:
                raise TransportClosed(self._closed)
            self._event.clear()
            await self._event.wait()
        was_full = self.full
        data = bytes(self._buf)
        self._buf.clear()
        if was_full and self.on_drained:
            self.on_drained()
        return data
