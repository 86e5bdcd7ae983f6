"""Boards that announce themselves on the local network (the agent's UDP announcements,
mptui/agent/REMOTEIO.md): a listener, a one-shot scan, and a discovery source.

    async for ann in announcements(port=2020):   # every datagram heard, as an Announcement
        print(ann.name, ann.remoteio_address)

    boards = await network_boards(6.0)           # the boards heard in 6 s, one each

The DeviceManager plugs in `NetworkSource`: it reports the complete list of boards heard
recently each time that list changes (a board not heard for three of its intervals is gone).

Everything listens on loopback (boards on this computer: virtual ones) unless given another
address: "0.0.0.0" hears the local network (`[network] announce_bind` in the config).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from mptui.services.ota.keys import board_id

DEFAULT_PORT = 2020
DEFAULT_BIND = "127.0.0.1"  # what is heard unless configured: boards on this computer
PROTO = 1
MAX_DATAGRAM = 1024


@dataclass(frozen=True)
class Announcement:
    name: str
    host: str  # the sender's address: the board's
    agent: str
    release: str | None
    ota_port: int
    remoteio_port: int
    boot: str = ""
    platform: str = ""
    board_id: str = ""  # the id its agent was installed with (ota_keys.board_id): one board
    every: float = 5.0  # seconds between its announcements
    seen: float = field(default=0.0, compare=False)  # time.time() when heard

    @property
    def key(self) -> str:
        """One board: its address and first service port."""
        return f"{self.host}:{self.remoteio_port or self.ota_port}"

    @property
    def remoteio_address(self) -> str | None:
        return f"rio://{_host(self.host)}:{self.remoteio_port}" if self.remoteio_port else None

    @property
    def ota_address(self) -> str | None:
        return f"ota://{_host(self.host)}:{self.ota_port}" if self.ota_port else None

    @property
    def address(self) -> str:
        """How mptui reaches it: its RemoteIO server, else its OTA server."""
        return self.remoteio_address or self.ota_address or self.host

    def describe(self) -> str:
        parts = [self.address, self.name, f"agent {self.agent}",
                 f"release {self.release}" if self.release else "no release"]
        if self.remoteio_port and self.ota_address:
            parts.append(self.ota_address)
        if self.platform:
            parts.append(self.platform)
        return " ".join(parts)


def parse_announcement(data: bytes, host: str, seen: float | None = None) -> Announcement | None:
    """An Announcement from one datagram, or None for anything that is not one (garbage,
    another program's broadcast, a future protocol)."""
    if len(data) > MAX_DATAGRAM:
        return None
    try:
        msg = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(msg, dict) or msg.get("mptui") != PROTO:
        return None

    def text(key: str, default: str = "") -> str:
        value = msg.get(key)
        return value[:64] if isinstance(value, str) else default

    def port(key: str) -> int:
        value = msg.get(key)
        return value if isinstance(value, int) and 0 < value < 65536 else 0

    every = msg.get("every")
    name = "".join(c for c in text("name") if c.isprintable()) or host
    return Announcement(
        name=name, host=host, agent=text("agent", "?"), release=text("release") or None,
        ota_port=port("ota"), remoteio_port=port("remoteio"), boot=text("boot"),
        platform=text("platform"), board_id=board_id(msg.get("id")),
        every=float(every) if isinstance(every, (int, float)) and 0 < every < 3600 else 5.0,
        seen=time.time() if seen is None else seen)


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, queue: asyncio.Queue) -> None:
        self.queue = queue

    def datagram_received(self, data: bytes, addr) -> None:
        ann = parse_announcement(data, addr[0])
        if ann is not None and not self.queue.full():
            self.queue.put_nowait(ann)


def _socket(port: int, bind: str, group: str | None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):  # two listeners on one computer both hear broadcasts
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((bind, port))
    if group:
        mreq = socket.inet_aton(group) + socket.inet_aton("0.0.0.0")
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    sock.setblocking(False)
    return sock


async def announcements(port: int = DEFAULT_PORT, bind: str = DEFAULT_BIND,
                        group: str | None = None) -> AsyncIterator[Announcement]:
    """Every announcement heard on UDP `port` (joining multicast `group` if given), as it
    comes, until the caller stops. `bind` 0.0.0.0 hears the local network; this listener only
    receives and parses (nothing it hears is acted on). OSError if the port cannot be bound."""
    queue: asyncio.Queue = asyncio.Queue(256)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Protocol(queue), sock=_socket(port, bind, group))
    try:
        while True:
            yield await queue.get()
    finally:
        transport.close()


async def network_boards(seconds: float = 6.0, port: int = DEFAULT_PORT, bind: str = DEFAULT_BIND,
                         group: str | None = None) -> list[Announcement]:
    """The boards heard within `seconds` (each once, its latest announcement), by name."""
    found: dict[str, Announcement] = {}

    async def gather() -> None:
        async for ann in announcements(port, bind, group):
            found[ann.key] = ann

    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(gather(), seconds)
    return sorted(found.values(), key=lambda a: (a.name, a.key))


class NetworkSource:
    """A discovery source for the DeviceManager: `await run(report)` listens until cancelled
    and calls `report(list)` with every board heard recently, promptly once at start and again
    whenever that list changes (a board is gone when not heard for three of its intervals).
    `make` turns an Announcement into what the manager lists (by default the Announcement)."""

    name = "network"

    def __init__(self, port: int = DEFAULT_PORT, bind: str = DEFAULT_BIND, group: str | None = None,
                 make: Callable[[Announcement], object] | None = None) -> None:
        self.port, self.bind, self.group = port, bind, group
        self.make = make or (lambda ann: ann)
        self.boards: dict[str, Announcement] = {}

    def _expire(self, now: float) -> bool:
        gone = [k for k, a in self.boards.items() if now - a.seen > 3 * a.every + 1]
        for k in gone:
            del self.boards[k]
        return bool(gone)

    def _listed(self) -> tuple:
        return tuple(sorted((a.key, a.name, a.release, a.agent, a.boot, a.board_id)
                            for a in self.boards.values()))

    async def run(self, report: Callable[[list], None]) -> None:
        report([])
        stream = announcements(self.port, self.bind, self.group)
        next_ann = None
        try:
            while True:
                if next_ann is None:
                    next_ann = asyncio.ensure_future(anext(stream))
                done, _ = await asyncio.wait({next_ann}, timeout=1.0)
                before = self._listed()
                if done:
                    ann = next_ann.result()
                    next_ann = None
                    self.boards[ann.key] = ann
                self._expire(time.time())
                if self._listed() != before:
                    report([self.make(a) for a in sorted(self.boards.values(),
                                                         key=lambda a: (a.name, a.key))])
        finally:
            if next_ann is not None:
                next_ann.cancel()
                with contextlib.suppress(BaseException):
                    await next_ann
            await stream.aclose()
