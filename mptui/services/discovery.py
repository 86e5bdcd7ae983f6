"""Finding boards: USB serial ports, configured WebREPL boards, a BLE scan (more sources plug
in through the DeviceManager)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bleak.backends.scanner import BaseBleakScanner

    from mptui.config import Config
    from mptui.transports.ble import BleBoard


@dataclass(frozen=True)
class UsbPort:
    device: str
    serial_number: str | None
    vid: int | None
    pid: int | None
    description: str

    @property
    def vid_pid(self) -> str:
        return f"{self.vid or 0:04x}:{self.pid or 0:04x}"


def usb_boards() -> list[UsbPort]:
    """Serial ports with a USB VID:PID, sorted by device name; Bluetooth virtual serial
    ports (rfcomm, macOS Bluetooth-Incoming-Port) are left out."""
    from serial.tools import list_ports

    found = []
    for info in sorted(list_ports.comports(), key=lambda i: i.device):
        if info.vid is None or info.pid is None:
            continue
        name = (info.device + " " + (info.description or "")).lower()
        if "bluetooth" in name or "rfcomm" in name:
            continue
        desc = " ".join(x for x in (info.manufacturer, info.product or info.description) if x)
        found.append(UsbPort(info.device, info.serial_number, info.vid, info.pid, desc))
    return found


@dataclass(frozen=True)
class ConfiguredBoard:
    """A board from the config's registry."""

    name: str
    address: str
    has_password: bool  # a password reference is set (its value is not read here)


def webrepl_boards(config: Config | None = None) -> list[ConfiguredBoard]:
    """Configured boards reached over WebREPL (ws://), by name. Nothing is contacted."""
    from mptui.config import load_config
    from mptui.transports import AddressError, parse_address

    cfg = config or load_config()
    found = []
    for name, board in sorted(cfg.boards.items()):
        try:
            kind = parse_address(board.address).kind
        except AddressError:
            continue
        if kind == "webrepl":
            found.append(ConfiguredBoard(name, board.address, bool(board.password)))
    return found


async def ble_boards(
    timeout: float = 5.0,
    *,
    scanner_backend: type[BaseBleakScanner] | None = None,
    everything: bool = False,
) -> list[BleBoard]:
    """BLE boards in range (advertising the Nordic UART Service or a BLE-REPL name), strongest
    first, as `BleBoard(name, address, rssi, nus)`. One scan of `timeout` seconds; raises
    TransportError("Bluetooth is not available: ...") without an adapter."""
    from mptui.transports.ble import scan

    return await scan(timeout, scanner_backend=scanner_backend, everything=everything)
