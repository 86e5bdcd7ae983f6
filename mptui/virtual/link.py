"""Link profiles: the wire between the host and a virtual board, as real boards have it.

    parse_link("uart:115200+lossy:0.001")   # -> Link; str(link) gives the text back

The virtual board (`VirtualBoard(link=...)`, `virtual:NAME?link=PROFILE`, `mptui bridge --link`)
moves its bytes through `wire.Wire` when a profile asks for more than the fast default:
- `fast` (the default): as fast as the PTY, nothing lost, the runtime's own 2 MB heap;
- `uart:BAUD`: BAUD/10 bytes a second each way; the board's stdin ring is 256 bytes and what
  arrives while it is full is DROPPED (a UART has no flow control: the firmware's receive
  interrupt puts each byte in the ring, or loses it; a Ctrl-C that interrupts running code
  is acted on in the interrupt, so it is never lost);
- `usb-cdc`: USB full speed, about 1 MB/s in 64-byte packets; a full ring is never lost: the
  firmware leaves packets in TinyUSB's 256-byte FIFO, and once that is full too the endpoint
  NAKs and the host waits (shared/tinyusb/mp_usbd_cdc.c); a Ctrl-C waits its turn there;
- `esp8266`, `esp32`, `rp2040`: a board's usual link, ring and heap, and a busy spell after
  each 4 KiB it reads (see BOARDS);
- `lossy:P[:SEED]` on top of any of them: each byte is dropped, duplicated or corrupted with
  probability P, and now and then the wire stalls for a while; seeded (0 unless given), so a
  run can be repeated.

Every profile's raw-paste window is 128: esp8266, esp32 and rp2 keep pyexec.c's default
MICROPY_REPL_STDIN_BUFFER_MAX of 256 (the window is half of it), as the unix port does.
`heap` is the free heap after boot (gc.mem_free()); the runtime is 64-bit, so its objects are
about twice a 32-bit board's: code that builds many small objects fails sooner than on the board.
`fs` is the size of the board's filesystem (as a littlefs partition is: 4 KiB blocks); a write
that does not fit fails with OSError 28 (ENOSPC), as on the board. None: the host's disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

FIFO = 256  # TinyUSB's CDC receive FIFO at full speed (CFG_TUD_CDC_RX_BUFSIZE)
USB_FULL_SPEED = 1_000_000  # bytes a second a full-speed CDC link moves, about
KIB = 1024


class LinkError(ValueError):
    """A profile text that does not parse; the message lists the valid forms."""

    def __init__(self, text: str, why: str = "unknown link profile") -> None:
        super().__init__(f"{why} {text!r}; valid: {FORMS}")


FORMS = "fast, uart:BAUD, usb-cdc, esp8266, esp32, rp2040, each optionally +lossy:P[:SEED]"


@dataclass(frozen=True)
class Link:
    """What the wire does. `ring`: bytes the board's stdin holds before `drops` loses them
    (a UART) or holds the host back (USB); None: the PTY's own buffer, nothing lost."""

    base: str = "fast"  # the profile's name: fast, uart:BAUD, usb-cdc, or a board's
    rate: float | None = None  # bytes a second each way; None: unpaced
    packet: int = 1  # the unit bytes arrive in (64: a USB packet)
    ring: int | None = None
    drops: bool = False
    heap: int | None = None  # free heap after boot, bytes; None: the runtime's default
    fs: int | None = None  # the filesystem's size, bytes; None: the host disk's room
    busy: float = 0.0  # seconds the board stops reading after each 4 KiB it takes (see BOARDS)
    loss: float = 0.0
    seed: int = 0

    def __str__(self) -> str:
        if not self.loss:
            return self.base
        return f"{self.base}+lossy:{self.loss!r}" + (f":{self.seed}" if self.seed else "")

    @property
    def paced(self) -> bool:
        """Does this link need a wire between host and board (else: the fast PTY path)?"""
        return self.rate is not None or self.ring is not None or bool(self.loss)

    @property
    def flow_controlled(self) -> bool:
        """Can the host send as much as it likes without losing bytes (lossy aside)?"""
        return not self.drops


FAST = Link()


def uart(baud: int, ring: int = 256) -> Link:
    return Link(f"uart:{baud}", rate=baud / 10, ring=ring, drops=True)


def usb_cdc(ring: int = 256) -> Link:
    return Link("usb-cdc", rate=USB_FULL_SPEED, packet=64, ring=ring + FIFO)


# A board's usual link, its stdin ring (from its port's sources), its free heap, and a
# busy spell after each 4 KiB it reads: a board that writes what it receives to flash stops
# for a sector erase (4 KB: about 40 ms on the usual SPI NOR chips), and a slow CPU compiles
# slowly; meanwhile the wire goes on filling the ring. (The unix runtime on a PC reads its
# input at once, so without this no host could overrun its ring.)
ERASE = 0.04
BOARDS = {
    # USB-UART bridge chip (CH340, CP2102) at 115200; esp_mphal.c: 256-byte stdin ring; main.c
    # gives the GC a 38 KB heap
    "esp8266": replace(uart(115200, ring=256), base="esp8266", heap=38 * KIB, busy=ERASE),
    # USB-UART bridge at 115200; mphalport.c: 260-byte ring; about 110 KB free without PSRAM
    "esp32": replace(uart(115200, ring=260), base="esp32", heap=110 * KIB, busy=ERASE),
    # native USB CDC; mphalport.c: MICROPY_HW_STDIN_BUFFER_LEN 512; about 190 KB free
    "rp2040": replace(usb_cdc(ring=512), base="rp2040", heap=190 * KIB, busy=ERASE),
}


def parse_link(text: str) -> Link:
    """A profile: one base (fast, uart:BAUD, usb-cdc, esp8266, esp32, rp2040), optionally
    `+lossy:P[:SEED]` (either order). Empty text is the fast link."""
    base: Link | None = None
    lossy: tuple[float, int] | None = None
    for part in (p.strip() for p in text.strip().lower().split("+")) if text.strip() else ():
        if part.startswith("lossy:"):
            if lossy is not None:
                raise LinkError(text, "more than one lossy: in link profile")
            lossy = _lossy(part, text)
            continue
        if base is not None:
            raise LinkError(text, "more than one base in link profile")
        base = _base(part, text)
    link = base or FAST
    if lossy:
        link = replace(link, loss=lossy[0], seed=lossy[1])
    return link


def _base(part: str, text: str) -> Link:
    if part == "fast":
        return FAST
    if part == "usb-cdc":
        return usb_cdc()
    if part in BOARDS:
        return BOARDS[part]
    m = re.fullmatch(r"uart:(\d{3,8})", part)
    if m and 300 <= int(m.group(1)) <= 16_000_000:
        return uart(int(m.group(1)))
    raise LinkError(text)


def _lossy(part: str, text: str) -> tuple[float, int]:
    m = re.fullmatch(r"lossy:([0-9.e-]+)(?::(\d{1,9}))?", part)
    try:
        p = float(m.group(1)) if m else -1.0
    except ValueError:
        p = -1.0
    if m is None or not 0 < p <= 0.5:
        raise LinkError(text, "lossy:P needs a probability 0 < P <= 0.5 in link profile")
    return p, int(m.group(2) or 0)


# The least free heap the virtual board boots with: its own set-up (the filesystem, machine and
# stdio modules) is compiled in the board's heap, which fails below ~27k (a MemoryError before
# the REPL, seen by a host as a board that says nothing).
MIN_HEAP = 28 * KIB


def parse_size(text: str, what: str = "heap") -> int:
    """A heap or filesystem size: bytes, or with k/K/KB or m/M/MB (1024-based): '40k',
    '110KB', '2m'."""
    m = re.fullmatch(r"\s*(\d+)\s*([kKmM]?)[bB]?\s*", text)
    if not m:
        raise ValueError(f"not a size: {text!r} (bytes, or with k or m: 40k, 2m)")
    n = int(m.group(1)) * {"": 1, "k": KIB, "m": KIB * KIB}[m.group(2).lower()]
    least = MIN_HEAP if what == "heap" else 8 * KIB
    if not least <= n <= 1 << 30:
        raise ValueError(f"{what} size out of range ({format_size(least)} to 1024m): {text!r}")
    return n


def format_size(n: int) -> str:
    """The short form parse_size reads back: '40k', '2m', or bytes."""
    for unit, size in (("m", KIB * KIB), ("k", KIB)):
        if n % size == 0:
            return f"{n // size}{unit}"
    return str(n)
