"""Where boards come from: discovery sources the DeviceManager listens to.

A source reports the complete list of boards it sees now, each time that list may have
changed. Boards a source stops reporting are gone (as far as that source knows). Sources that
poll (USB ports) subclass PollingSource; sources fed from elsewhere (the config, boards added by
hand, BLE scans, network announcements) push their list with `StaticSource.set()` or call the
report function from their own `run()`. WebREPL boards come from the config (`config_found`);
BLE boards from `BleSource`, which scans only when asked; boards whose agent announces itself
from `network_source()` (their address is the agent's RemoteIO server, `rio://HOST:PORT`).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePath

from mptui.services.announce import Announcement, NetworkSource
from mptui.services.discovery import UsbPort, ble_boards, usb_boards

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=True)
class Found:
    """One board as a source sees it."""

    address: str
    name: str = ""
    kind: str = ""  # usb | config | virtual | manual | webrepl | ble | network ...
    description: str = ""
    serial_number: str | None = None
    vid_pid: str | None = None
    rssi: int | None = None  # dBm, for a radio link (BLE)
    # transport options only this source knows (BLE backends); a config entry's options and
    # password come from the board resolver (services/boards.py)
    options: dict = field(default_factory=dict, hash=False)
    board_id: str = ""  # the id its agent was installed with, when it says (announcements)
    agent: str = ""  # its agent's RemoteIO server, rio://HOST:PORT
    ota: str = ""  # its agent's OTA server, ota://HOST:PORT


Report = Callable[[list[Found]], None]


class DiscoverySource(ABC):
    """Finds boards. `run()` calls `report` with everything it sees, promptly once at start and
    again whenever that may have changed; it runs until cancelled."""

    name: str = "source"

    @abstractmethod
    async def run(self, report: Report) -> None: ...


class StaticSource(DiscoverySource):
    """A list set from outside: the config's boards, the virtual board, boards added by hand."""

    def __init__(self, name: str, found: Iterable[Found] = ()) -> None:
        self.name = name
        self.found: list[Found] = list(found)
        self._report: Report | None = None

    def set(self, found: Iterable[Found]) -> None:
        self.found = list(found)
        if self._report:
            self._report(list(self.found))

    async def run(self, report: Report) -> None:
        self._report = report
        report(list(self.found))
        try:
            await asyncio.Event().wait()
        finally:
            self._report = None


class PollingSource(DiscoverySource):
    """Calls `scan()` (in a worker thread: it may block) every `interval` seconds and reports
    when the result changes."""

    interval = 1.0

    @abstractmethod
    def scan(self) -> list[Found]: ...

    async def run(self, report: Report) -> None:
        last: list[Found] | None = None
        while True:
            try:
                found = await asyncio.to_thread(self.scan)
            except Exception:  # a flaky scan (racing a plug) is retried next time
                logger.debug("%s: scan failed", self.name, exc_info=True)
                found = last if last is not None else []
            if found != last:
                report(found)
                last = found
            await asyncio.sleep(self.interval)


class UsbSource(PollingSource):
    """USB serial ports with a VID:PID, polled about once a second for hot-plug."""

    name = "usb"

    def __init__(
        self, list_ports: Callable[[], list[UsbPort]] = usb_boards, interval: float = 1.0
    ) -> None:
        self.list_ports = list_ports
        self.interval = interval

    def scan(self) -> list[Found]:
        return [
            Found(
                port.device,
                name=PurePath(port.device).name,
                kind="usb",
                description=port.description,
                serial_number=port.serial_number,
                vid_pid=port.vid_pid,
            )
            for port in self.list_ports()
        ]


class BleSource(StaticSource):
    """Bluetooth LE boards (the Nordic UART Service, or a BLE-REPL name), strongest first,
    found by `scan()` when asked: never continuously, a scan keeps the radio busy. Each scan
    replaces the list. `scanner_backend` / `client_backend` are bleak backends for bleak's
    public hook (tests run bleak on a virtual radio); they go with each board found, so that
    connecting to it uses them too."""

    def __init__(
        self, timeout: float = 5.0, *, scanner_backend=None, client_backend=None
    ) -> None:
        super().__init__("ble")
        self.timeout = timeout
        self.scanner_backend = scanner_backend
        self.client_backend = client_backend
        self._scanning = asyncio.Lock()

    async def scan(self) -> list[Found]:
        """One scan of `timeout` seconds; reports and returns what it found. Raises
        TransportError ("Bluetooth is not available: ...") without a usable adapter."""
        async with self._scanning:
            boards = await ble_boards(self.timeout, scanner_backend=self.scanner_backend)
        options = {
            name: backend
            for name, backend in (
                ("scanner_backend", self.scanner_backend),
                ("client_backend", self.client_backend),
            )
            if backend is not None
        }
        found = [
            Found(
                b.device_address,
                name=b.name or b.address,
                kind="ble",
                description=f"Bluetooth LE {b.address}" + (", NUS" if b.nus else ""),
                rssi=b.rssi,
                options=dict(options),
            )
            for b in boards
        ]
        self.set(found)
        return found


VIRTUAL = Found(
    "virtual", name="virtual", kind="virtual", description="MicroPython unix port, no hardware"
)


def config_found(config) -> list[Found]:
    """The boards named in the config."""
    return [Found(b.address, name=b.name, kind="config") for b in config.boards.values()]


def announced_found(ann: Announcement) -> Found:
    """A board heard announcing itself: reached at its agent, named as it calls itself."""
    release = f", release {ann.release}" if ann.release else ""
    return Found(ann.address, name=ann.name, kind="network",
                 description=f"agent {ann.agent}{release}", board_id=ann.board_id,
                 agent=ann.remoteio_address or "", ota=ann.ota_address or "")


def network_source(port: int, bind: str = "127.0.0.1") -> NetworkSource:
    """Boards announcing themselves on UDP `port` (bind 127.0.0.1: this computer's only)."""
    return NetworkSource(port, bind, make=announced_found)


def standard_sources(config, usb: DiscoverySource | bool = True,
                     ble: BleSource | bool = True, network: DiscoverySource | bool = True,
                     virtual: bool = True) -> list[DiscoverySource]:
    """What a DeviceManager listens to: the config's boards, boards added by hand ("manual"),
    USB ports, BLE scans, network announcements (True: as the config's [network] says), the
    virtual board. For `usb`, `ble` and `network`: True for the standard source, False for
    none, or a source to use instead."""
    sources: list[DiscoverySource] = [StaticSource("config", config_found(config)),
                                      StaticSource("manual")]
    if usb:
        sources.append(UsbSource() if usb is True else usb)
    if ble:
        sources.append(BleSource() if ble is True else ble)
    if network is True:
        heard = config.network
        network = heard.announce_port and network_source(heard.announce_port, heard.announce_bind)
    if network:
        sources.append(network)
    if virtual:
        sources.append(StaticSource("virtual", [VIRTUAL]))
    return sources
