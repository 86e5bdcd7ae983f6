"""Bluetooth LE without a radio: the real bleak API on Bumble's virtual link.

- `VirtualRadio`: a `bumble.link.LocalLink` with Bumble devices on it (each a full host stack on
  its own `bumble.controller.Controller`), as in `bumble.testing`'s two-device pattern.
- `NusPeripheral`: a Bumble device that advertises the Nordic UART Service and bridges it to a
  real `VirtualBoard` (RX writes -> the board's input, its output -> TX notifications of at most
  ATT MTU - 3 bytes).
- `radio.bleak_backends(mtu)`: bleak backends (subclasses of bleak's `BaseBleakScanner` and
  `BaseBleakClient`) for bleak's public hook, `BleakScanner(backend=...)` /
  `BleakClient(backend=...)`, running on a central device on the same radio. `mtu` is what the
  central asks for in an ATT MTU exchange (None: no exchange, the default MTU of 23).

Needs the `bumble` package (the `dev` extra, Python 3.11+).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError
from bleak.uuids import normalize_uuid_str
from bumble import hci
from bumble.controller import Controller
from bumble.core import AdvertisingData, BaseBumbleError
from bumble.device import Device, Peer
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from mptui.transports.ble import NUS_RX, NUS_SERVICE, NUS_TX

ADVERTISING_INTERVAL = 20  # ms, the shortest BLE allows


class VirtualRadio:
    def __init__(self) -> None:
        self.link = LocalLink()
        self._count = 0
        self._central: Device | None = None

    def add_device(self, name: str) -> Device:
        self._count += 1
        address = ":".join([f"{0xC0 + self._count:02X}"] * 6)
        controller = Controller(name, link=self.link, public_address=address)
        return Device(
            name=name,
            address=hci.Address(address),
            host=Host(controller, AsyncPipeSink(controller)),
        )

    async def central(self) -> Device:
        if self._central is None:
            self._central = self.add_device("central")
            await self._central.power_on()
        return self._central

    def bleak_backends(self, mtu: int | None = None):
        """(scanner backend, client backend) classes bound to this radio's central."""
        attrs = {"radio": self, "mtu": mtu}
        return (
            type("BumbleScanner", (BumbleScanner,), attrs),
            type("BumbleClient", (BumbleClient,), attrs),
        )


class NusPeripheral:
    """A BLE board: NUS in front of a VirtualBoard (RX write with or without response). Its
    name is advertised whole up to 8 bytes (31 bytes of legacy advertising data in all)."""

    def __init__(
        self, board, radio: VirtualRadio, name: str = "mpy-virtual", *, write_without_response=True
    ) -> None:
        self.board = board
        self.name = name
        self.device = radio.add_device(name)
        props = Characteristic.Properties.WRITE
        if write_without_response:
            props |= Characteristic.Properties.WRITE_WITHOUT_RESPONSE
        self.rx = Characteristic(
            NUS_RX, props, Characteristic.WRITEABLE, CharacteristicValue(write=self._on_rx)
        )
        self.tx = Characteristic(
            NUS_TX, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b""
        )
        self.device.add_service(Service(NUS_SERVICE, [self.rx, self.tx]))
        self.connection = None
        self.connected = asyncio.Event()
        self.notifications = 0
        self._pump_task: asyncio.Task | None = None

    @property
    def address(self) -> str:
        return self.device.random_address.to_string(False)

    async def start(self) -> None:
        if not self.board.running:
            await self.board.start()
        self.device.on("connection", self._on_connection)
        await self.device.power_on()
        await self.device.start_advertising(
            advertising_data=self._advertising_data(),
            advertising_interval_min=ADVERTISING_INTERVAL,
            advertising_interval_max=ADVERTISING_INTERVAL,
            auto_restart=True,
        )
        self._pump_task = asyncio.create_task(self._pump())

    def _advertising_data(self) -> bytes:
        """Flags, the NUS UUID and the name (shortened to fit 31 bytes). Bumble's virtual
        controller does not send scan responses, so everything goes in the advertisement."""
        flags = bytes([2, AdvertisingData.FLAGS, 0x06])
        nus = bytes([17, AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS])
        nus += uuid.UUID(NUS_SERVICE).bytes[::-1]
        name = self.name.encode()
        room = 31 - len(flags) - len(nus) - 2
        kind = AdvertisingData.COMPLETE_LOCAL_NAME
        if len(name) > room:
            name, kind = name[:room], AdvertisingData.SHORTENED_LOCAL_NAME
        return flags + nus + bytes([len(name) + 1, kind]) + name

    async def stop(self) -> None:
        if self._pump_task:
            self._pump_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump_task
        with contextlib.suppress(Exception):
            await self.device.power_off()
        await self.board.stop()

    async def drop(self) -> None:
        """Break the connection from the board's side (out of range, board reset)."""
        if self.connection is not None:
            await self.connection.disconnect()

    def _on_connection(self, connection) -> None:
        self.connection = connection
        self.connected.set()

        def gone(*_):
            self.connection = None
            self.connected.clear()

        connection.on("disconnection", gone)

    def _on_rx(self, connection, value: bytes) -> None:
        self.board.write(bytes(value))

    async def _pump(self) -> None:
        """Board output -> TX notifications of at most MTU - 3 bytes."""
        while True:
            data = await self.board.read()
            if not data:
                return
            conn = self.connection
            if conn is None:
                continue  # nobody listens: a board's NUS REPL drops output too
            size = conn.att_mtu - 3
            for i in range(0, len(data), size):
                with contextlib.suppress(Exception):  # the central went away mid-way
                    await self.device.notify_subscriber(conn, self.tx, data[i : i + size])
                    self.notifications += 1


class BumbleScanner(BaseBleakScanner):
    radio: VirtualRadio
    mtu: int | None

    def __init__(self, detection_callback, service_uuids, scanning_mode="active", **kwargs: Any):
        super().__init__(detection_callback, service_uuids)
        self._device: Device | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._device = await self.radio.central()
        self._device.on("advertisement", self._on_advertisement)
        await self._device.start_scanning(filter_duplicates=False)

    async def stop(self) -> None:
        if self._device is not None:
            self._device.remove_listener("advertisement", self._on_advertisement)
            await self._device.stop_scanning()

    def _on_advertisement(self, adv) -> None:
        data = adv.data
        name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(
            AdvertisingData.SHORTENED_LOCAL_NAME
        )
        uuids = [
            _uuid(u)
            for kind in (
                AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
            )
            for u in (data.get(kind) or [])
        ]
        if not self.is_allowed_uuid(uuids):
            return
        ad = AdvertisementData(name, {}, {}, uuids, None, adv.rssi, (adv,))
        address = adv.address.to_string(False)
        device = self.create_or_update_device(address, address, name, adv, ad)
        self.call_detection_callbacks(device, ad)


class BumbleClient(BaseBleakClient):
    radio: VirtualRadio
    mtu: int | None

    def __init__(self, address_or_ble_device, **kwargs: Any) -> None:
        kwargs.setdefault("disconnected_callback", None)
        kwargs.setdefault("timeout", 10.0)
        super().__init__(
            address_or_ble_device,
            disconnected_callback=kwargs["disconnected_callback"],
            timeout=kwargs["timeout"],
        )
        if isinstance(address_or_ble_device, BLEDevice):
            self._peer_address = address_or_ble_device.details.address
        else:
            self._peer_address = hci.Address(address_or_ble_device)
        self._connection = None
        self._peer: Peer | None = None

    @property
    def name(self) -> str:
        return self.address

    @property
    def mtu_size(self) -> int:
        return self._connection.att_mtu if self._connection else 23

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        central = await self.radio.central()
        try:
            connection = await asyncio.wait_for(central.connect(self._peer_address), self._timeout)
        except (asyncio.TimeoutError, BaseBumbleError) as e:
            raise BleakError(f"could not connect to {self.address}: {e}") from None
        self._connection = connection
        connection.on("disconnection", self._on_disconnection)
        self._peer = Peer(connection)
        if self.mtu:
            await self._peer.request_mtu(self.mtu)
        await self._peer.discover_services()
        self.services = BleakGATTServiceCollection()
        for service in self._peer.services:
            await service.discover_characteristics()
            bs = BleakGATTService(service, service.handle, _uuid(service.uuid))
            self.services.add_service(bs)
            for char in service.characteristics:
                await self._peer.discover_descriptors(char)
                props = [name for bit, name in _PROPS.items() if char.properties & bit]
                bc = BleakGATTCharacteristic(
                    char,
                    char.handle,
                    _uuid(char.uuid),
                    props,
                    lambda: self.mtu_size - 3,
                    bs,
                )
                self.services.add_characteristic(bc)
                for desc in char.descriptors:
                    uuid_str = _uuid(desc.type)
                    self.services.add_descriptor(
                        BleakGATTDescriptor(desc, desc.handle, uuid_str, bc)
                    )

    def _on_disconnection(self, *_) -> None:
        self._connection = None
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.disconnect()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("the virtual radio does not pair")

    async def unpair(self) -> None:
        raise NotImplementedError("the virtual radio does not pair")

    def _live(self):
        if self._connection is None:
            raise BleakError("Not connected")
        return self._connection

    async def read_gatt_char(self, characteristic, **kwargs: Any) -> bytearray:
        self._live()
        return bytearray(await characteristic.obj.read_value())

    async def read_gatt_descriptor(self, descriptor, **kwargs: Any) -> bytearray:
        self._live()
        return bytearray(await descriptor.obj.read_value())

    async def write_gatt_char(self, characteristic, data, response: bool) -> None:
        self._live()
        await characteristic.obj.write_value(bytes(data), with_response=response)

    async def write_gatt_descriptor(self, descriptor, data) -> None:
        self._live()
        await descriptor.obj.write_value(bytes(data), with_response=True)

    async def start_notify(self, characteristic, callback, **kwargs: Any) -> None:
        self._live()
        await self._peer.subscribe(characteristic.obj, lambda value: callback(bytearray(value)))

    async def stop_notify(self, characteristic) -> None:
        if self._connection is not None:
            await self._peer.unsubscribe(characteristic.obj)


_PROPS = {
    0x02: "read",
    0x04: "write-without-response",
    0x08: "write",
    0x10: "notify",
    0x20: "indicate",
}


def _uuid(u) -> str:
    """A Bumble UUID as bleak writes it (lower case, 16-bit ones expanded)."""
    return normalize_uuid_str(u.to_hex_str("-"))
