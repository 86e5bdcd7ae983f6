"""ble:NAME-or-ADDRESS — a board's REPL over the Nordic UART Service (NUS), with bleak.

The board is found by a scan (by its advertised name, or by address), then: writes go to RX
(6E400002) in chunks of the negotiated ATT MTU - 3 bytes, without response when the
characteristic allows it; TX (6E400003) notifications become the read stream. A lost
connection closes the stream (TransportClosed), and reopening scans for the same address.

Tests and the benchmarks run bleak's real API on a virtual radio by passing bleak backends
(`scanner_backend`, `client_backend`: subclasses of bleak's BaseBleakScanner/BaseBleakClient);
by default bleak picks the platform's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass

from mptui.transports.base import LinkProfile, Transport, TransportClosed, TransportError
from mptui.transports.stream import ByteQueue

NUS_SERVICE = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
NUS_RX = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"  # host -> board
NUS_TX = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"  # board -> host (notify)
REPL_NAME_PREFIX = "mpy-"  # what MicroPython's BLE REPL examples advertise
MIN_CHUNK = 20  # ATT payload at the default MTU of 23

_ADDRESS = re.compile(
    r"^(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$"  # a Bluetooth address
    r"|^[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$"  # macOS names devices by UUID
)


def is_ble_address(text: str) -> bool:
    return bool(_ADDRESS.match(text))


@dataclass(frozen=True)
class BleBoard:
    """A board seen in a BLE scan."""

    name: str | None
    address: str
    rssi: int | None
    nus: bool  # it advertises the Nordic UART Service

    @property
    def device_address(self) -> str:
        """The mptui address for it: by name when it has one, else by Bluetooth address."""
        return f"ble:{self.name or self.address}"

    def describe(self) -> str:
        """One line for a device list: address, Bluetooth address, RSSI, NUS or not."""
        rssi = f"{self.rssi} dBm" if self.rssi is not None else "? dBm"
        service = "NUS" if self.nus else "name only"
        return f"{self.device_address}  {self.address}  {rssi}  {service}"


def _backend(cls) -> dict:
    return {} if cls is None else {"backend": cls}


def _unavailable(e: BaseException) -> TransportError:
    if isinstance(e, OSError):  # e.g. no D-Bus socket: no BlueZ on this Linux
        why = f"cannot reach the system's Bluetooth service ({e.strerror or e})"
    else:
        why = str(e) or type(e).__name__
    return TransportError(f"Bluetooth is not available: {why}")


async def scan(
    timeout: float = 5.0, *, scanner_backend=None, everything: bool = False
) -> list[BleBoard]:
    """Boards that advertise NUS or a BLE-REPL name (`everything`: every device), by RSSI."""
    from bleak import BleakScanner
    from bleak.exc import BleakError

    try:
        found = await BleakScanner.discover(timeout, return_adv=True, **_backend(scanner_backend))
    except (BleakError, OSError) as e:
        raise _unavailable(e) from None
    boards = []
    for device, ad in found.values():
        name = ad.local_name or device.name
        nus = NUS_SERVICE in (u.lower() for u in ad.service_uuids)
        if nus or everything or (name or "").startswith(REPL_NAME_PREFIX):
            boards.append(BleBoard(name, device.address, ad.rssi, nus))
    return sorted(boards, key=lambda b: -(b.rssi if b.rssi is not None else -999))


class BleTransport(Transport):
    def __init__(
        self,
        target: str,
        *,
        scan_timeout: float = 10.0,
        connect_timeout: float = 20.0,
        write_delay: float = 0.0,
        block_size: int = 256,
        blocks_in_flight: int = 1,
        scanner_backend=None,
        client_backend=None,
    ) -> None:
        self.target = target
        self.address = f"ble:{target}"
        self.identity = target.upper() if is_ble_address(target) else None
        self.scan_timeout = scan_timeout
        self.connect_timeout = connect_timeout
        self.scanner_backend = scanner_backend
        self.client_backend = client_backend
        self.profile = LinkProfile(
            block_size=block_size,
            blocks_in_flight=blocks_in_flight,
            write_chunk=MIN_CHUNK,
            write_delay=write_delay,
        )
        self.mtu: int | None = None  # the negotiated ATT MTU, once connected
        self._client = None
        self._rx = None
        self._with_response = False
        self._queue: ByteQueue | None = None
        self._write_lock = asyncio.Lock()

    # -- connecting -------------------------------------------------------------------------

    async def open(self) -> None:
        from bleak import BleakClient
        from bleak.exc import BleakError

        device = await self._find()
        queue = ByteQueue()
        client = BleakClient(
            device,
            disconnected_callback=lambda _client: queue.close("the Bluetooth connection was lost"),
            timeout=self.connect_timeout,
            **_backend(self.client_backend),
        )
        try:
            await asyncio.wait_for(client.connect(), self.connect_timeout)
            rx, tx = self._nus(client)
            await client.start_notify(tx, lambda _char, data: queue.push(bytes(data)))
        except BaseException as e:
            with contextlib.suppress(Exception):
                await client.disconnect()
            if not isinstance(e, (BleakError, OSError, asyncio.TimeoutError)):
                raise
            why = "timed out" if isinstance(e, asyncio.TimeoutError) else str(e) or type(e).__name__
            raise TransportError(f"{self.address}: cannot connect: {why}") from None
        self._client, self._rx, self._queue = client, rx, queue
        self._with_response = "write-without-response" not in rx.properties
        self.mtu = client.mtu_size
        chunk = self.mtu - 3 if self._with_response else rx.max_write_without_response_size
        self.profile = LinkProfile(
            block_size=self.profile.block_size,
            blocks_in_flight=self.profile.blocks_in_flight,
            write_chunk=max(MIN_CHUNK, chunk),
            write_delay=self.profile.write_delay,
        )
        self.identity = device.address

    async def _find(self):
        from bleak import BleakScanner
        from bleak.exc import BleakError

        target = self.identity or self.target
        kw = _backend(self.scanner_backend)
        try:
            if is_ble_address(target):
                device = await BleakScanner.find_device_by_address(target, self.scan_timeout, **kw)
            else:
                device = await BleakScanner.find_device_by_filter(
                    lambda d, ad: target in (ad.local_name, d.name), self.scan_timeout, **kw
                )
        except (BleakError, OSError) as e:
            raise _unavailable(e) from None
        if device is None:
            raise TransportError(
                f"ble:{target}: not found in a {self.scan_timeout:g} s scan (is the board on, "
                "advertising, and not connected to another host?)"
            )
        return device

    def _nus(self, client):
        rx = client.services.get_characteristic(NUS_RX)
        tx = client.services.get_characteristic(NUS_TX)
        if rx is None or tx is None or "notify" not in tx.properties:
            raise TransportError(
                f"{self.address}: the device has no Nordic UART Service (not a BLE REPL board)"
            )
        return rx, tx

    # -- the byte pipe ----------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def read(self) -> bytes:
        if self._queue is None:
            raise TransportClosed("not connected")
        return await self._queue.read()

    async def write(self, data: bytes) -> None:
        from bleak.exc import BleakError

        chunk, delay = self.profile.write_chunk, self.profile.write_delay
        async with self._write_lock:
            for start in range(0, len(data), chunk):
                if not self.is_open:
                    raise TransportClosed(f"{self.address}: the Bluetooth connection was lost")
                try:
                    await self._client.write_gatt_char(
                        self._rx, data[start : start + chunk], response=self._with_response
                    )
                except (BleakError, OSError) as e:
                    raise TransportClosed(f"{self.address}: write failed: {e}") from None
                if delay:
                    await asyncio.sleep(delay)

    async def close(self) -> None:
        client, self._client = self._client, None
        if self._queue is not None:
            self._queue.close()
        if client is not None:
            with contextlib.suppress(Exception):
                await client.disconnect()
