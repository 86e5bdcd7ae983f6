"""List the boards on USB serial ports: port, serial number, VID:PID, description."""

from __future__ import annotations

HELP = "list USB serial boards"


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    from mptui.services.discovery import usb_boards

    for b in usb_boards():
        print(f"{b.device} {b.serial_number or '-'} {b.vid_pid} {b.description}")
    return 0
