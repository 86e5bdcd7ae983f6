"""The DeviceManager's list of boards: what the discovery sources report, merged into one
entry a board (its name, address and presence ranked by source), boards added and removed by
hand, and BLE scans. A mixin of the DeviceManager: it uses the manager's events, links and
the board ids (`mptui.services.board_ids`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TypeVar

from mptui.board.session import ERROR
from mptui.services.boards import Resolver
from mptui.services.events import BoardAdded, BoardEvent, BoardInfo, BoardRemoved, BoardUpdated
from mptui.services.sources import BleSource, Found, StaticSource
from mptui.transports import AddressError, TransportError

T = TypeVar("T")

# Which source names a board first when several see it.
SOURCE_ORDER = ("config", "manual", "usb", "ble", "virtual")


@dataclass
class _Board:
    info: BoardInfo
    seen: dict[str, Found] = field(default_factory=dict)  # source name -> what it reported
    wanted: bool = False  # the user asked for it to be connected



class BoardList:
    # the manager's, which this mixin uses
    resolver: Resolver
    manual: StaticSource
    ble: BleSource | None
    _boards: dict[str, _Board]
    _links: Mapping[str, object]  # key -> its link (only the keys are read here)
    _seen_by: dict[str, set[str]]
    _last: dict[str, list[Found]]
    _background: set[asyncio.Task[None]]

    if TYPE_CHECKING:  # the manager's and BoardIds' methods, which this mixin calls
        def _publish(self, event: BoardEvent) -> None: ...
        def _twin(self, found: Found) -> str | None: ...
        def _twin_of(self, info: BoardInfo) -> bool: ...
        def _at_prompt(self, key: str) -> None: ...
        def _needs_connect(self, key: str) -> bool: ...
        async def _reconnect_quietly(self, key: str) -> None: ...
        async def disconnect(self, key: str) -> None: ...

    def boards(self) -> list[BoardInfo]:
        return [b.info for b in self._boards.values()]

    def board(self, key: str) -> BoardInfo:
        return self._boards[key].info

    def find(self, text: str) -> BoardInfo | None:
        """A board by key, name or address (as typed on the command line; its agent's
        addresses too)."""
        for b in self._boards.values():
            if text in (b.info.key, b.info.name, *b.info.ways):
                return b.info
        try:
            key = self._key_for(text)
        except AddressError:
            return None
        if key in self._boards:
            return self._boards[key].info
        return next((b.info for b in self._boards.values() if key in b.info.ways), None)

    def add(self, address: str, name: str | None = None) -> BoardInfo:
        """Add a board by hand (a bridge, a network board, a serial port not listed). Raises
        AddressError for an address that is not one."""
        key = self._key_for(address)
        if key in self._boards and self._boards[key].info.present:
            return self._boards[key].info
        found = Found(address, name=name or address, kind="manual")
        self.manual.set([*self.manual.found, found])
        if key not in self._boards:  # the manager is not started: take it in now
            self._on_report("manual", self.manual.found)
        return self._boards[key].info

    async def remove(self, key: str) -> bool:
        """Take a board added by hand, or one that is gone, off the list. False if a source
        still lists it."""
        board = self._boards.get(key)
        if board is None:
            return False
        self.manual.set([f for f in self.manual.found if self._key_for(f.address) != key])
        board.seen.pop("manual", None)
        if board.seen:
            return False
        await self.disconnect(key)
        del self._boards[key]
        self._publish(BoardRemoved(board.info))
        return True

    async def scan_ble(self) -> list[BoardInfo]:
        """Scan for Bluetooth LE boards once (a few seconds); they join the list with their
        RSSI (boards from an earlier scan that are not seen again are marked gone). Returns the
        boards found, strongest first. Raises TransportError when Bluetooth is unavailable."""
        if self.ble is None:
            raise TransportError("Bluetooth LE scanning is off")
        found = await self.ble.scan()
        if any(self._key_for(f.address) not in self._boards for f in found):
            self._on_report(self.ble.name, found)  # the manager is not started: take them in
        return [self._boards[self._key_for(f.address)].info for f in found]

    def _key_for(self, address: str) -> str:
        return self.resolver.resolve(address).key

    def _on_report(self, source: str, found: list[Found]) -> None:
        self._last[source] = list(found)
        keys = set()
        for f in found:
            try:
                key = self._twin(f) or self._key_for(f.address)
            except AddressError as e:
                key = f.address
                self._merge(key, source, f, error=str(e))
            else:
                self._merge(key, source, f)
            keys.add(key)
        for key in self._seen_by.get(source, set()) - keys:
            board = self._boards.get(key)
            if board and board.seen.pop(source, None) is not None:
                if not board.seen and self._twin_of(board.info):
                    del self._boards[key]  # now listed with its twin: not a second entry
                    self._publish(BoardRemoved(board.info))
                else:
                    self._refresh(key)
        self._seen_by[source] = keys
        if any(f.board_id for f in found):
            for key in self._links:
                self._at_prompt(key)

    def _merge(self, key: str, source: str, found: Found, error: str = "") -> None:
        board = self._boards.get(key)
        if board is None:
            info = BoardInfo(key, found.name or key, found.address, found.kind)
            if error:
                info = replace(info, state=ERROR, error=error)
            board = self._boards[key] = _Board(info, {source: found})
            self._refresh(key, added=True)
            return
        board.seen[source] = found
        self._refresh(key)

    def _refresh(self, key: str, added: bool = False) -> None:
        """Recompute a board's name, description and presence from what the sources see."""
        board = self._boards[key]
        ranked = sorted(board.seen.items(), key=lambda kv: _rank(kv[0]))
        finds = [f for _, f in ranked]
        info = board.info
        if finds:
            info = replace(
                info,
                name=_first(f.name for f in finds) or info.name,
                address=finds[0].address,
                kind=finds[0].kind,
                description=_first(f.description for f in finds) or "",
                serial_number=_first(f.serial_number for f in finds),
                vid_pid=_first(f.vid_pid for f in finds),
                rssi=next((f.rssi for f in finds if f.rssi is not None), None),
                board_id=info.board_id if info.board_id and not info.agent_only
                else _first(f.board_id for f in finds) or "",
                agent=_first(f.agent for f in finds) or "",
                ota=_first(f.ota for f in finds) or "",
            )
        info = replace(info, present=bool(finds))
        came_back = info.present and not board.info.present
        if added:
            board.info = info
            self._publish(BoardAdded(info))
            return
        if info != board.info:
            board.info = info
            self._publish(BoardUpdated(info))
        if came_back and board.wanted and self._needs_connect(key):
            task = asyncio.get_running_loop().create_task(self._reconnect_quietly(key))
            self._background.add(task)  # asyncio keeps only a weak reference
            task.add_done_callback(self._background.discard)


def _rank(source: str) -> int:
    return SOURCE_ORDER.index(source) if source in SOURCE_ORDER else len(SOURCE_ORDER)


def _first(values: Iterable[T | None]) -> T | None:
    return next((v for v in values if v), None)
