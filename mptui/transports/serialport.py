"""Serial ports (USB CDC boards and USB-serial chips), read event-driven on the port's fd.

The app opens the port early (`open_early`, in a thread, while Textual is imported): the
transport then takes that port, and the time the board has had to speak counts towards the
wait before an Enter shows its prompt.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

from mptui.transports import early
from mptui.transports.base import (
    GREET_AFTER,
    LinkProfile,
    Transport,
    TransportClosed,
    TransportError,
)
from mptui.transports.stream import ByteQueue

if TYPE_CHECKING:
    import serial
    from serial.tools.list_ports_common import ListPortInfo

# USB vendors whose MicroPython boards talk native USB CDC (flow-controlled end to end):
# MicroPython's own, Raspberry Pi (RP2), Espressif native USB, Adafruit, Arduino, Pyboard.
NATIVE_USB_VIDS = {0xF055, 0x2E8A, 0x303A, 0x239A, 0x2341}
UART_PROFILE = LinkProfile(block_size=256, blocks_in_flight=1, ring=256)
# Console output streaming in fast (a flood) comes in many small reads, each a turn of the event
# loop and of everything that handles it: after a read of READ_MORE bytes or more while the
# console has the link (`console`: no operation waits for an answer), the next waits READ_GAP
# and takes what came meanwhile in one piece (a tenth of the reads), unless the tty's read
# buffer (4 KB) was about full (more waits already). A slow link (a UART) never has that much
# at once; an echo during a flood waits READ_GAP at most.
READ_GAP = 0.002
READ_MORE = 256
READ_FULL = 4000

# A port opened early (transports/early.py): the port, its path then, its ListPortInfo or None
Opened = tuple["serial.Serial", str, "ListPortInfo | None"]
Settings = tuple[int, "bool | None", "bool | None"]  # baud rate, DTR, RTS


def port_info(device: str) -> ListPortInfo | None:
    """pyserial's ListPortInfo for a device path, or None."""
    from serial.tools import list_ports

    real = os.path.realpath(device)
    for info in list_ports.comports():
        if info.device in (device, real):
            return info
    return None


def find_port_by_serial(serial_number: str) -> str | None:
    from serial.tools import list_ports

    for info in list_ports.comports():
        if info.serial_number == serial_number:
            return info.device
    return None


class SerialTransport(Transport):
    """A serial port, opened exclusively; DTR/RTS are changed only when asked to."""

    def __init__(
        self,
        device: str,
        *,
        baudrate: int = 115200,
        dtr: bool | None = None,
        rts: bool | None = None,
        serial_number: str | None = None,
    ) -> None:
        self.device = device
        self.address = device
        self.baudrate = baudrate
        self.dtr, self.rts = dtr, rts
        self.identity = serial_number
        self._serial: serial.Serial | None = None
        self._queue: ByteQueue | None = None
        self._pending = bytearray()
        self._drained: asyncio.Event | None = None

    async def open(self) -> None:
        opened = await self._take_early()
        if opened is None:
            device, info = await asyncio.to_thread(self._find_port)  # lists ports: not on the loop
            ser = self._open_port(device)
        else:
            ser, device, info = opened
        if info is not None:
            self.identity = self.identity or info.serial_number
            native = info.vid in NATIVE_USB_VIDS
            self.profile = LinkProfile() if native else UART_PROFILE
        else:
            self.profile = UART_PROFILE
        self.device = device
        self._serial = ser
        fd = ser.fileno()
        os.set_blocking(fd, False)
        loop = asyncio.get_running_loop()
        self._queue = ByteQueue()
        self._queue.on_drained = lambda: loop.add_reader(fd, self._on_readable)
        self._drained = asyncio.Event()
        self._drained.set()
        loop.add_reader(fd, self._on_readable)

    def _settings(self) -> Settings:
        return self.baudrate, self.dtr, self.rts

    def _open_port(self, device: str) -> serial.Serial:
        """The port opened exclusively, its lines as asked; TransportError when it cannot be."""
        import serial

        ser = serial.Serial(baudrate=self.baudrate, exclusive=True)
        ser.port = device
        # pyserial asserts both lines on open, as the kernel does; only explicit settings
        # change them (toggling DTR/RTS resets many ESP32 boards).
        if self.dtr is not None:
            ser.dtr = self.dtr
        if self.rts is not None:
            ser.rts = self.rts
        try:
            ser.open()
        except (serial.SerialException, OSError) as e:
            msg = str(e)
            if "busy" in msg.lower() or "lock" in msg.lower():
                msg = "the port is in use by another program"
            raise TransportError(f"cannot open {device}: {msg}") from None
        return ser

    async def _take_early(self) -> Opened | None:
        """The port open_early() opened for this device, if it could and with these settings;
        None: open it anew (which says why not, when it cannot be)."""
        got = await early.take(_key(self.device), self._settings(), lambda made: made[0].close())
        if got is None:
            return None
        opened: Opened = got[0]
        # what the board said since is in the port: its prompt's Enter need not wait as long
        self.greet_after = max(0.005, GREET_AFTER - got[1])
        return opened

    def _find_port(self) -> tuple[str, ListPortInfo | None]:
        """(device path, its ListPortInfo or None): where the board is now."""
        device = self.device
        if self.identity and not os.path.exists(device):
            device = find_port_by_serial(self.identity) or device  # it re-enumerated
        return device, port_info(device)

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def _on_readable(self) -> None:
        ser, queue = self._serial, self._queue
        if ser is None or queue is None:
            return  # (released while a callback was queued)
        try:
            data = os.read(ser.fileno(), 65536)
        except BlockingIOError:
            return
        except OSError as e:
            self._lost(f"{self.device}: {e.strerror or e}")
            return
        if not data:  # a USB port that disappeared reads as EOF
            self._lost(f"{self.device} went away (unplugged or reset)")
            return
        queue.push(data)
        loop = asyncio.get_running_loop()
        if queue.full:
            loop.remove_reader(ser.fileno())
        elif self.console and READ_MORE <= len(data) < READ_FULL:
            loop.remove_reader(ser.fileno())
            loop.call_later(READ_GAP, self._read_again, ser)

    def _read_again(self, ser: serial.Serial) -> None:
        """After READ_GAP: reading goes on (unless the port went, or the queue is full: its
        reader takes data first)."""
        if ser is self._serial and self._queue is not None and not self._queue.full:
            asyncio.get_running_loop().add_reader(ser.fileno(), self._on_readable)

    def _lost(self, why: str) -> None:
        if self._queue is not None:
            self._queue.close(why)
        self._release()

    def _release(self) -> None:
        ser, self._serial = self._serial, None
        if ser is not None:
            loop = asyncio.get_running_loop()
            loop.remove_reader(ser.fileno())
            loop.remove_writer(ser.fileno())
            try:
                ser.close()
            except OSError:
                pass
        if self._drained:
            self._drained.set()

    async def read(self) -> bytes:
        if self._queue is None:
            raise TransportClosed("not open")
        return await self._queue.read()

    async def write(self, data: bytes) -> None:
        if self._serial is None:
            raise TransportClosed(f"{self.device} is not open")
        self._pending += data
        self._flush()
        if self._drained is not None:
            await self._drained.wait()
        if self._serial is None:
            raise TransportClosed(f"{self.device} went away")

    def _flush(self) -> None:
        if self._serial is None:
            return
        fd = self._serial.fileno()
        loop = asyncio.get_running_loop()
        try:
            n = os.write(fd, self._pending)
        except BlockingIOError:
            n = 0
        except OSError as e:
            self._lost(f"{self.device}: {e.strerror or e}")
            return
        del self._pending[:n]
        if self._pending:
            if self._drained is not None:
                self._drained.clear()
            loop.add_writer(fd, self._flush)
        else:
            loop.remove_writer(fd)
            if self._drained is not None:
                self._drained.set()

    async def set_control_lines(self, dtr: bool | None = None, rts: bool | None = None) -> None:
        if self._serial is None:
            return
        if dtr is not None:
            self._serial.dtr = dtr
        if rts is not None:
            self._serial.rts = rts

    async def close(self) -> None:
        if self._queue:
            self._queue.close()
        self._release()


def open_early(device: str, **options: Any) -> None:
    """Start opening the serial port `device` in a thread (options as SerialTransport's). The
    next SerialTransport opened for it with the same settings takes that port."""
    transport = SerialTransport(device, **options)

    def work() -> Opened:
        found, info = transport._find_port()
        return transport._open_port(found), found, info

    early.start(_key(device), transport._settings(), work)


def _key(device: str) -> str:
    return "serial " + device
