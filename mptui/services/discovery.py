"""Finding boards: USB serial ports (more sources plug in through the DeviceManager)."""

from __future__ import annotations

from dataclasses import dataclass


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
