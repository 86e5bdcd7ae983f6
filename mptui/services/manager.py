"""The DeviceManager: which boards exist, which are connected, and what state each is in.

It listens to discovery sources (USB ports polled for hot-plug, the config's boards, WebREPL
ones included, the virtual board, boards added by hand, BLE boards found by `scan_ble()`, boards
whose agent announces itself on the network, and whatever else plugs in), owns one Session per
connected board, and publishes plain dataclass events (`mptui.services.events`) to its
subscribers. Boards reached only through their agent (`rio://`, `ota://`: announced ones) are
listed but have no Session: their output and calls go through RemoteIO. A connected board's
console (what it prints, what is typed to it) is routed by `manager.console`
(`mptui.services.console`). No UI here: a script or a test uses it as is:

    async with DeviceManager(config) as manager:
        board = manager.find("virtual")
        session = await manager.connect(board.key)
        print(await session.eval("6*7"))
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mptui.board import BoardError, Session, SessionEvent
from mptui.board.session import DISCONNECTED, ERROR
from mptui.config import Config, load_config
from mptui.errors import MptuiError
from mptui.services import rtc
from mptui.services.board_ids import BoardIds
from mptui.services.board_list import BoardList, _Board, _rank
from mptui.services.boards import BoardRef, Resolver
from mptui.services.console import ConsoleRouter, ConsoleSink
from mptui.services.events import (
    BoardEvent,
    BoardInfo,
    BoardReset,
    BoardStateChanged,
)
from mptui.services.sources import (
    BleSource,
    DiscoverySource,
    Found,
    Report,
    StaticSource,
    standard_sources,
)
from mptui.transports import open_early

if TYPE_CHECKING:
    from typing_extensions import Self  # (typing's from Python 3.11)

logger = logging.getLogger(__name__)
Listener = Callable[[BoardEvent], object]
AskPassword = Callable[[BoardInfo], Awaitable[str | None]]

@dataclass
class _Link:
    """A connected board's session."""

    session: Session
    unsubscribe: Callable[[], None]


class DeviceManager(BoardList, BoardIds):
    def __init__(
        self,
        config: Config | None = None,
        *,
        usb: DiscoverySource | bool = True,
        ble: BleSource | bool = True,
        network: DiscoverySource | bool = True,
        virtual: bool = True,
        sources: Iterable[DiscoverySource] = (),
        virtual_root: str | Path | None = None,
        reconnect_timeout: float = 15.0,
        password: str | None = None,
        ask_password: AskPassword | None = None,
    ) -> None:
        """`usb`: True for the real USB port listing, False for none, or a source to use
        instead; `ble` the same for BLE scans (which run only when `scan_ble()` asks);
        `network` the same for announcements (True: as the config's [network] says).
        `virtual_root`: the folder that holds virtual boards' `/` folders (default: the user's
        data dir). Names, options and WebREPL passwords resolve as everywhere else
        (services/boards.py): `password` (the command line's), else $MPTUI_WEBREPL_PASSWORD,
        else the board's config entry, else `await ask_password(board)` (the UI's prompt;
        None: no answer)."""
        self.config = config if config is not None else load_config()
        self.resolver = Resolver(self.config, password=password)
        self.virtual_root = Path(virtual_root) if virtual_root else None
        self.reconnect_timeout = reconnect_timeout
        self.password = password
        self.ask_password = ask_password
        standard = standard_sources(self.config, usb, ble, network, virtual)
        self.manual = next(s for s in standard
                           if isinstance(s, StaticSource) and s.name == "manual")
        self.ble = next((s for s in standard if isinstance(s, BleSource)), None)
        self._sources = [*standard, *sources]
        self._boards: dict[str, _Board] = {}
        self._links: dict[str, _Link] = {}
        self.console = ConsoleRouter(self._set_state, lambda key: self._boards[key].info.name,
                                     on_prompt=self._at_prompt)
        self._listeners: list[Listener] = []
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._reported: dict[str, asyncio.Event] = {}
        self._seen_by: dict[str, set[str]] = {}  # source name -> keys it reported last
        self._last: dict[str, list[Found]] = {}  # source name -> what it reported last
        self._ids: dict[str, str] = {}  # board id -> the board learnt to have it (its link)
        self._asked: set[str] = set()  # boards asked their agent's id since they connected
        self._background: set[asyncio.Task[None]] = set()
        self._started = False

    # -- events -----------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(event)` for every event; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _publish(self, event: BoardEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken subscriber must not break the manager
                logger.exception("a subscriber failed on %s", type(event).__name__)

    # -- life cycle -------------------------------------------------------------------------

    async def start(self, settle: float = 0.5) -> None:
        """Start listening to the sources; returns once each has reported once (or after
        `settle` seconds), so that `boards()` holds the first findings."""
        self._started = True
        for source in self._sources:
            self._start_source(source)
        waits = [e.wait() for e in self._reported.values()]
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*waits), settle)

    def add_source(self, source: DiscoverySource) -> None:
        """Plug in another discovery source (WebREPL, BLE scan, network announcements)."""
        self._sources.append(source)
        if self._started:
            self._start_source(source)

    def _start_source(self, source: DiscoverySource) -> None:
        self._reported[source.name] = asyncio.Event()

        def report(found: list[Found], name: str = source.name) -> None:
            self._on_report(name, found)
            self._reported[name].set()

        self._tasks[source.name] = asyncio.create_task(
            self._run_source(source, report), name=f"mptui-source-{source.name}"
        )

    async def _run_source(self, source: DiscoverySource, report: Report) -> None:
        try:
            await source.run(report)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failing source loses its boards, others carry on
            logger.warning("discovery source %s failed", source.name, exc_info=True)
            report([])

    async def stop(self) -> None:
        """Stop the sources and close every session."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for key in list(self._links):
            await self.disconnect(key)
        self._started = False

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- the list of boards (services/board_list.py), and who comes back -----------------------

    def _needs_connect(self, key: str) -> bool:
        link = self._links.get(key)
        return link is None or link.session.state in (DISCONNECTED, ERROR)

    async def _reconnect_quietly(self, key: str) -> None:
        with contextlib.suppress(MptuiError, KeyError):
            await self.connect(key)

    # -- connecting -------------------------------------------------------------------------

    def session(self, key: str) -> Session | None:
        link = self._links.get(key)
        return link.session if link else None

    def open_early(self, address: str) -> None:
        """Start opening the link of the board at `address` ahead, where its kind of link can
        (transports.open_early), so that connect() finds it open: the app calls this before
        it imports Textual. Nothing happens for an address that is not one."""
        try:
            ref = self.resolver.resolve(address)
            link = self.resolver.link_address(ref)
            options = self.resolver.link_options(ref)
        except (MptuiError, ValueError):
            return
        if link.kind == "virtual" and self.virtual_root:
            return  # a board of this folder's, not the kept one
        open_early(link, **options)

    async def connect(self, key: str, console: ConsoleSink | None = None) -> Session:
        """Connect to a board (no reset, no interrupt: it is left as it is); `console` gets
        its output from the first byte. Raises BoardError with a one-line message when the
        link cannot be opened; the board's state is then error."""
        board = self._boards[key]
        if board.info.agent_only:
            raise BoardError(f"{board.info.name} is reached through its agent "
                             f"({board.info.address}), not a REPL link: its output is in the "
                             "Logs tab")
        board.wanted = True
        self._asked.discard(key)
        link = self._links.get(key)
        if link and link.session.state not in (DISCONNECTED, ERROR):
            if console:
                self.console.set_sink(key, console)
            return link.session
        console = console or self.console.sink(key)
        if link:
            await self._drop_link(key)
        try:
            ref = self.resolver.resolve(board.info.key)
            session = Session(self.resolver.link_address(ref), reconnect=True,
                              reconnect_timeout=self.reconnect_timeout,
                              **self._transport_options(board, ref))
        except (MptuiError, ValueError) as e:  # a bad address or option, a secret not found
            self._set_state(key, ERROR, str(e))
            raise BoardError(str(e)) from None
        self._links[key] = _Link(
            session, session.subscribe(lambda ev: self._on_session_event(key, ev))
        )
        self.console.attach(key, session, console)
        await session.connect()
        notice = getattr(session.transport, "notice", None)
        if notice:  # a kept virtual board that had stopped unexpectedly was started anew
            logger.warning("%s", notice)
        await rtc.on_connect(ref, session)
        if not session.transport.greets_on_open:  # else it starts anew: it says hello
            self.console.greet(key, session.transport.greet_after)
        return session

    def _transport_options(self, board: _Board, ref: BoardRef) -> dict[str, Any]:
        """What the sources saw (a USB serial number, BLE backends), then the resolver's
        options and password (services/boards.py), the prompt last."""
        options: dict[str, Any] = {}
        for _, found in sorted(board.seen.items(), key=lambda kv: _rank(kv[0]), reverse=True):
            options.update(found.options)
            if found.serial_number:
                options["serial_number"] = found.serial_number
        ask = partial(self._ask_password, board.info.key) if self.ask_password else None
        options.update(self.resolver.link_options(ref, ask_password=ask))
        address = self.resolver.link_address(ref)
        if address.kind == "virtual" and self.virtual_root and "root" not in options:
            options["root"] = self.virtual_root / address.target
        return options

    async def _ask_password(self, key: str, _address: str) -> str | None:
        ask = self.ask_password
        return await ask(self._boards[key].info) if ask is not None else None

    async def disconnect(self, key: str) -> None:
        """Close the board's session; the board stays on the list."""
        if key in self._boards:
            self._boards[key].wanted = False
        link = self._links.get(key)
        if link is None:
            return
        await link.session.close()
        await self._drop_link(key)

    async def _drop_link(self, key: str) -> None:
        link = self._links.pop(key, None)
        if link is None:
            return
        link.unsubscribe()
        await self.console.detach(key)
        if link.session.state != DISCONNECTED:
            with contextlib.suppress(Exception):
                await link.session.close()

    async def wait_state(self, key: str, *states: str, timeout: float = 10.0) -> BoardInfo:
        """Wait until the board is in one of `states`; returns its info."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._boards[key].info.state not in states:
            if loop.time() > deadline:
                raise asyncio.TimeoutError(
                    f"{key} is {self._boards[key].info.state}, not {'/'.join(states)}"
                )
            changed = asyncio.Event()
            def wake(_event: BoardEvent, changed: asyncio.Event = changed) -> None:
                changed.set()

            unsubscribe = self.subscribe(wake)
            try:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(changed.wait(), deadline - loop.time())
            finally:
                unsubscribe()
        return self._boards[key].info

    # -- state ------------------------------------------------------------------------------

    def _set_state(self, key: str, state: str, detail: str = "") -> None:
        board = self._boards.get(key)
        if board is None:
            return
        previous = board.info
        error = detail if state == ERROR else ""
        if previous.state == state and previous.error == error and not detail:
            return
        board.info = replace(previous, state=state, error=error)
        self._publish(BoardStateChanged(board.info, previous=previous.state, detail=detail))

    def report_error(self, key: str, message: str) -> None:
        """Work for this board failed (the app's one worker-error handler says so): its state
        shows the one line until its session's next change."""
        self._set_state(key, ERROR, message)

    def _on_session_event(self, key: str, event: SessionEvent) -> None:
        if event.kind == "state":
            self.console.state_changed(key)
            self._set_state(key, event.state, event.detail)
        elif event.kind == "reset":
            self._asked.discard(key)  # an agent installed meanwhile starts now
            if key in self._boards:
                self._publish(BoardReset(self._boards[key].info, detail=event.detail))
            if event.detail != "reconnected":
                self.console.rebooted(key)  # boot.py / main.py may keep running

    # -- actions on a connected board -------------------------------------------------------

    def _session(self, key: str) -> Session:
        link = self._links.get(key)
        if link is None:
            raise BoardError(f"{self._boards[key].info.name} is not connected")
        return link.session

    async def hard_reset(self, key: str) -> None:
        """machine.reset(), waiting for the board to come back."""
        await self._session(key).hard_reset()
