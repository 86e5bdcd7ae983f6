"""The one async byte-pipe interface every link to a board implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mptui.errors import MptuiError

if TYPE_CHECKING:
    from typing_extensions import Self  # (typing's from Python 3.11)

Progress = Callable[[int, int], None]  # (bytes done, bytes in all)
# A board that sends nothing this long after its link opens (one that was running already: a
# USB board, a bridge's) gets an Enter, as a user would press, so that its prompt shows.
GREET_AFTER = 0.3


class TransportError(MptuiError):
    """A link problem, with a message fit for one line on stderr."""


class TransportClosed(TransportError):
    """The link went away (board unplugged or reset, bridge gone, peer closed)."""


class AccessDenied(TransportError):
    """The board wants a password it was not given, or refused the one it got (WebREPL's
    "Access denied"): trying again with the same one cannot help."""


class FileChannelError(TransportError):
    """The board answered a file-channel request with something unexpected."""


@dataclass(frozen=True)
class LinkProfile:
    """What the board layer needs to know about a link to use it well.

    block_size/blocks_in_flight: how much the helper may stream to the board before it
    acknowledges (a UART board behind a USB-serial chip has a small receive buffer; USB CDC,
    PTYs and TCP have flow control). write_chunk/write_delay: pacing for links that lose
    bursts (WebREPL on ESP boards, BLE MTU-sized writes). ring: the bytes a board may hold
    unread before the link loses more (a UART's stdin ring, 256 on most ports): the host
    never has more than that in flight; None when the link holds the host back instead.
    learn: the ring is only assumed (socket://, rfc2217://): see board/adapt.py.
    """

    block_size: int = 8192
    blocks_in_flight: int = 2
    ring: int | None = None
    learn: bool = False  # the ring is a guess (what is behind a bridge): the board may show more
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
    # Does the board say hello by itself when the link opens (a board started by opening it)?
    greets_on_open: bool = False
    # How long a board that says nothing when its link opens is left before an Enter shows its
    # prompt (None: GREET_AFTER); a local link shows output within a few ms, and a link opened
    # early (while the app starts) has had part of that time already.
    greet_after: float | None = None
    # True while what the board sends goes to the console (no operation waits for an answer):
    # a link may then batch its reads (serial: a flood in fewer, larger pieces).
    console: bool = False

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
    def file_channel(self) -> FileChannel | None:
        """A side channel for whole-file transfers (WebREPL), or None."""
        return None

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class FileChannel(ABC):
    """Whole files to and from the board beside the REPL stream (WebREPL's file protocol).

    Paths are board paths of at most `max_path_bytes` UTF-8 bytes. The board writes in place:
    callers that need atomic writes put to a temporary name and rename through the REPL. A
    lost link raises TransportClosed; a refused or garbled transfer, FileChannelError.
    """

    max_path_bytes: int = 63

    @abstractmethod
    async def get(
        self, path: str, progress: Progress | None = None, size: int | None = None
    ) -> bytes:
        """The file's bytes. `size` (when known) lets the transfer run ahead of the replies."""

    @abstractmethod
    async def put(self, path: str, data: bytes, progress: Progress | None = None) -> None:
        """Write the file (replacing it, in place)."""
