"""The boards a bridge can serve: the virtual board, or a real board on a serial port.

A device is a byte pipe with the serial-port face RFC 2217 needs (`lines`):
`await start()`, `write(bytes)` (never blocks), `await read()` -> next output or b"" once
the device is gone, `discard_output()`, `await stop()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os

from mptui.virtual.board import VirtualBoard

HIGH_WATER = 1 << 20  # stop reading the port past this much unread output


class DeviceError(RuntimeError):
    pass


class SerialLines:
    """The serial settings of a board that has no UART: RFC 2217 clients may read and set
    them, and nothing changes. The modem lines are always up."""

    def __init__(self, purge_input) -> None:
        self._purge_input = purge_input
        self.baudrate = 115200
        self.bytesize = 8
        self.parity = "N"
        self.stopbits = 1
        self.xonxoff = False
        self.rtscts = False
        self.break_condition = False
        self.dtr = True
        self.rts = True
        self.cts = True
        self.dsr = True
        self.cd = True
        self.ri = False

    def reset_input_buffer(self) -> None:
        self._purge_input()

    def reset_output_buffer(self) -> None:
        pass


class VirtualDevice:
    """A `VirtualBoard` as a bridge device."""

    poll_modem_lines = False  # its lines never change

    def __init__(self, board: VirtualBoard) -> None:
        self.board = board
        self.lines = SerialLines(board.discard_output)

    @property
    def description(self) -> str:
        return f"virtual board {self.board.name!r} (root {self.board.root})"

    async def start(self) -> None:
        await self.board.start()

    def write(self, data: bytes) -> None:
        self.board.write(data)

    async def read(self) -> bytes:
        return await self.board.read()

    def discard_output(self) -> None:
        self.board.discard_output()

    async def stop(self) -> None:
        await self.board.stop()


class _PortLines:
    """A pyserial port's settings, as RFC 2217 reads and sets them. Ports without modem
    control (PTYs, some adapters) fail the modem-line ioctls: their lines read as up and
    setting them does nothing. Purging the input also drops what the device has buffered."""

    def __init__(self, port, device: SerialDevice) -> None:
        object.__setattr__(self, "_port", port)
        object.__setattr__(self, "_device", device)

    def __getattr__(self, name):
        if name in _MODEM_INPUTS:
            try:
                return getattr(self._port, name)
            except OSError:
                return name != "ri"
        return getattr(self._port, name)

    def __setattr__(self, name, value) -> None:
        try:
            setattr(self._port, name, value)
        except OSError:
            if name not in _MODEM_OUTPUTS:
                raise

    def reset_input_buffer(self) -> None:
        self._port.reset_input_buffer()
        self._device.discard_output()


_MODEM_INPUTS = ("cts", "dsr", "ri", "cd")
_MODEM_OUTPUTS = ("dtr", "rts", "break_condition")


class SerialDevice:
    """A real board on a serial port, read event-driven from the port's file descriptor."""

    poll_modem_lines = True  # a real port's CTS/DSR/CD can change

    def __init__(self, port: str, baudrate: int = 115200) -> None:
        self.port = port
        self.baudrate = baudrate
        self.lines = None
        self._serial = None
        self._fd: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._out = bytearray()
        self._out_ready = asyncio.Event()
        self._pending_in = bytearray()
        self._reading = False
        self._closed = False

    @property
    def description(self) -> str:
        return f"serial board {self.port} at {self.baudrate} baud"

    async def start(self) -> None:
        import serial

        self._loop = asyncio.get_running_loop()
        try:
            self._serial = serial.Serial(self.port, self.baudrate, timeout=0, exclusive=True)
        except (serial.SerialException, ValueError) as e:
            raise DeviceError(f"cannot open {self.port}: {e}") from None
        self._fd = self._serial.fd
        os.set_blocking(self._fd, False)
        self.lines = _PortLines(self._serial, self)
        self._resume_reading()

    def write(self, data: bytes) -> None:
        if self._fd is None:
            return  # the port is gone; like a UART, the bytes go nowhere
        self._pending_in += data
        self._flush_input()

    async def read(self) -> bytes:
        while not self._out:
            if self._closed:
                return b""
            self._out_ready.clear()
            await self._out_ready.wait()
        data = bytes(self._out)
        self._out.clear()
        self._resume_reading()
        return data

    def discard_output(self) -> None:
        self._out.clear()
        self._resume_reading()

    async def stop(self) -> None:
        self._close()

    def _close(self) -> None:
        self._closed = True
        self._reading = False
        self._out_ready.set()
        if self._fd is not None:
            self._loop.remove_reader(self._fd)
            self._loop.remove_writer(self._fd)
            self._fd = None
        if self._serial is not None:
            with contextlib.suppress(OSError):
                self._serial.close()
            self._serial = None

    def _resume_reading(self) -> None:
        if not self._reading and self._fd is not None and len(self._out) < HIGH_WATER:
            self._loop.add_reader(self._fd, self._on_readable)
            self._reading = True

    def _on_readable(self) -> None:
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        except OSError as e:  # EIO: the adapter was unplugged
            if e.errno not in (errno.EIO, errno.ENXIO, errno.ENODEV):
                raise
            data = b""
        if not data:
            self._close()
            return
        self._out += data
        self._out_ready.set()
        if len(self._out) >= HIGH_WATER:
            self._loop.remove_reader(self._fd)
            self._reading = False

    def _flush_input(self) -> None:
        while self._pending_in and self._fd is not None:
            try:
                n = os.write(self._fd, self._pending_in)
            except BlockingIOError:
                break
            except OSError:
                self._pending_in.clear()
                self._close()
                return
            del self._pending_in[:n]
        if self._fd is not None:
            if self._pending_in:
                self._loop.add_writer(self._fd, self._flush_input)
            else:
                self._loop.remove_writer(self._fd)
