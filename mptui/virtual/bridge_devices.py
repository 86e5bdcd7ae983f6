"""The boards a bridge can serve: the virtual board, or a real board on a serial port.

A device is a byte pipe with the serial-port face RFC 2217 needs (`lines`):
`await start()`, `write(bytes)` (never blocks), `await read()` -> next output or b"" once
the device is gone, `discard_output()`, `await stop()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
from typing import TYPE_CHECKING

from mptui.errors import MptuiError
from mptui.virtual.board import VirtualBoard
from mptui.virtual.fd_pipe import FdPipe

if TYPE_CHECKING:
    import serial


class DeviceError(MptuiError, RuntimeError):
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
        link = self.board.link
        extra = f", link {link}" if link.paced else ""
        if link.heap:
            extra += f", {link.heap // 1024} KB free heap"
        if link.fs:
            extra += f", a {link.fs // 1024} KB filesystem"
        return f"virtual board {self.board.name!r} (root {self.board.root}{extra})"

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
        self.lines: _PortLines | None = None
        self._serial: serial.Serial | None = None
        self._pipe: FdPipe | None = None
        self._out = bytearray()
        self._out_ready = asyncio.Event()
        self._closed = False

    @property
    def description(self) -> str:
        return f"serial board {self.port} at {self.baudrate} baud"

    async def start(self) -> None:
        import serial

        try:
            port = self._serial = serial.Serial(self.port, self.baudrate, timeout=0,
                                                exclusive=True)
        except (serial.SerialException, ValueError) as e:
            raise DeviceError(f"cannot open {self.port}: {e}") from None
        self.lines = _PortLines(port, self)
        # EIO, ENXIO, ENODEV: the adapter was unplugged
        self._pipe = FdPipe(port.fileno(), on_data=self._on_data, on_eof=self._close,
                            backlog=lambda: len(self._out), on_write_error=self._close,
                            eof_errnos=(errno.EIO, errno.ENXIO, errno.ENODEV))

    def write(self, data: bytes) -> None:
        if self._pipe is not None:  # else the port is gone: like a UART, the bytes go nowhere
            self._pipe.send(data)

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
        self._out_ready.set()
        if self._pipe is not None:
            self._pipe.detach()
            self._pipe = None
        if self._serial is not None:
            with contextlib.suppress(OSError):
                self._serial.close()
            self._serial = None

    def _resume_reading(self) -> None:
        if self._pipe is not None:
            self._pipe.resume_reading()

    def _on_data(self, data: bytes) -> None:
        self._out += data
        self._out_ready.set()
