"""USB discovery from pyserial's own port records, as a Linux machine lists them (the UI tests
replace the listing wholesale): only ports with a USB VID:PID are boards, Bluetooth serial
ports never are."""

from __future__ import annotations

import pytest
from serial.tools import list_ports
from serial.tools.list_ports_common import ListPortInfo

from mptui.services.discovery import UsbPort, usb_boards
from mptui.services.sources import UsbSource
from mptui.transports.serialport import find_port_by_serial, port_info


def usb(device: str, vid: int, pid: int, serial: str | None, location: str, manufacturer: str,
        product: str, interface: str | None = None) -> ListPortInfo:
    """A USB port's record as pyserial's Linux lister (SysFS) fills it from /sys."""
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid, info.serial_number, info.location = vid, pid, serial, location
    info.manufacturer, info.product, info.interface = manufacturer, product, interface
    info.apply_usb_info()  # description and hwid, as SysFS does for usb and usb-serial
    return info


def other(device: str, description: str = "n/a", hwid: str = "n/a") -> ListPortInfo:
    """A port with no USB device behind it (SysFS leaves vid/pid at None)."""
    info = ListPortInfo(device, skip_link_detection=True)
    info.description, info.hwid = description, hwid
    return info


PICO = usb("/dev/ttyACM0", 0x2E8A, 0x0005, "e6614c311b7e6f35", "1-1.2:1.0", "MicroPython",
           "Board in FS mode", "Board CDC")
CP2102 = usb("/dev/ttyUSB0", 0x10C4, 0xEA60, "0001", "1-1.3", "Silicon Labs",
             "CP2102 USB to UART Bridge Controller")
LISTED = [
    CP2102,
    other("/dev/ttyS0", "ttyS0", "PNP0501"),  # the mainboard's UART (pnp)
    other("/dev/rfcomm0"),  # a paired Bluetooth serial link: no USB device in /sys
    usb("/dev/ttyACM1", 0x0A12, 0x0001, None, "1-1.4:1.1", "Cambridge Silicon Radio",
        "Bluetooth Serial Adapter"),  # a USB Bluetooth adapter's serial port
    other("/dev/ttyAMA0", "ttyAMA0", "3f201000.serial"),  # a Raspberry Pi's own UART (amba)
    PICO,
]


@pytest.fixture
def machine_ports(monkeypatch):
    monkeypatch.setattr(list_ports, "comports", lambda include_links=False: list(LISTED))


def test_only_usb_boards_are_listed_in_device_order(machine_ports):
    assert PICO.description == "Board in FS mode - Board CDC"  # how pyserial words it
    assert usb_boards() == [
        UsbPort("/dev/ttyACM0", "e6614c311b7e6f35", 0x2E8A, 0x0005,
                "MicroPython Board in FS mode"),
        UsbPort("/dev/ttyUSB0", "0001", 0x10C4, 0xEA60,
                "Silicon Labs CP2102 USB to UART Bridge Controller"),
    ]


def test_a_board_without_a_product_string_is_named_by_its_description(monkeypatch):
    bare = usb("/dev/ttyACM2", 0x303A, 0x1001, None, "1-2:1.0", "", "")
    bare.description = "USB JTAG/serial debug unit"
    monkeypatch.setattr(list_ports, "comports", lambda include_links=False: [bare])
    assert usb_boards() == [UsbPort("/dev/ttyACM2", None, 0x303A, 0x1001,
                                    "USB JTAG/serial debug unit")]


def test_the_usb_source_reports_boards_by_name_and_vid_pid(machine_ports):
    found = UsbSource().scan()
    assert [(f.address, f.name, f.kind, f.vid_pid, f.serial_number) for f in found] == [
        ("/dev/ttyACM0", "ttyACM0", "usb", "2e8a:0005", "e6614c311b7e6f35"),
        ("/dev/ttyUSB0", "ttyUSB0", "usb", "10c4:ea60", "0001"),
    ]


def test_a_board_is_found_again_by_its_serial_number(machine_ports):
    assert find_port_by_serial("e6614c311b7e6f35") == "/dev/ttyACM0"
    assert find_port_by_serial("not plugged in") is None
    assert port_info("/dev/ttyUSB0") is CP2102
    assert port_info("/dev/ttyUSB9") is None
