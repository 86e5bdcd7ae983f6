"""The one async byte-pipe interface every link to a board implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


class TransportError(Exception):
    """A link problem, with a message fit for one line on stderr."""


class TransportClosed(TransportError):
    """The link went away (board unplugged or reset, bridge gone, peer closed)."""


@dataclass(frozen=True)
class LinkProfile:
    """What the board layer needs to know about a link to use it well.

    block_size/blocks_in_flight: how much the helper may stream to the board before it
    acknowledges (a UART board behind a USB-serial chip has a small receive buffer; USB CDC,
    PTYs and TCP have flow control). write_chunk/write_delay: pacing for links that lose
    bursts (WebREPL on ESP boards, BLE MTU-sized writes).
    """

    block_size: int = 8192
    blocks_in_flight: int = 2
    write_chunk: int | None = None
    write_delay: float = 0.0
    text_only: bool = False  # the link carries only text (WebREPL terminal frames)


class Transport(ABC):
    """An open link to a board: bytes in, bytes out.

    `read()` waits for and returns whatever bytes have arrived (at least one) and raises
    TransportClosed when the link is gone. `write()` returns once the bytes are handed on,
    applying the link's pacing. Links with more to offer (serial control lines, WebREPL's file
    channel, BLE's MTU) expose it through the optional members below.
    """

    address: str = ""
    profile: LinkProfile = LinkProfile()
    # A stable identity for reconnecting to the same board (USB serial number, BLE address).
    identity: str | None = None

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def read(self) -> bytes: ...

    @abstractmethod
    async def write(self, data: bytes) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @property
    def is_open(self) -> bool:
        return False

    # Optional capabilities ---------------------------------------------------------------

    async def set_control_lines(self, dtr: bool | None = None, rts: bool | None = None) -> None:
        """Serial DTR/RTS; a no-op on links without them."""

    @property
    def file_channel(self):
        """A side channel for whole-file transfers (WebREPL), or None."""
        return None

    async def __aenter__(self):
        await self.open()
        return self

    async def __aexit__(self, *exc):
        await self.close()
