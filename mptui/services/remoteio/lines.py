"""RemoteIO on the host, the lines: a board's live output as LogLines, from its agent
(`agent_lines`) or its REPL output over any link (`console_lines`, `ConsoleLines`), and many
boards merged (`LogStream`)."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from mptui.errors import MptuiError
from mptui.services.boards import Resolver
from mptui.services.logs import DROP, STATUS, LineSplitter, LogLine
from mptui.services.remoteio.client import (
    DEFAULT_PORT,
    PARTIAL_AFTER,
    QUEUE,
    RemoteIO,
    RemoteIOError,
    Target,
    _host,
    resolve,
)

logger = logging.getLogger(__name__)


# -- sources of lines ----------------------------------------------------------------------------


async def _lines_from(queue: asyncio.Queue, splitter: LineSplitter,
                      feeder: asyncio.Task | None = None) -> AsyncIterator[LogLine]:
    """Lines from a queue of ("out", text) | ("drop", n) | ("status", text) | ("end", ""),
    showing a line without its newline after PARTIAL_AFTER seconds of silence. Ends at "end",
    or once `feeder` is done and the queue empty (it may not have had room for "end")."""
    while True:
        if feeder is not None and feeder.done() and queue.empty():
            kind, value = "end", ""
        else:
            try:
                if splitter.partial:
                    kind, value = await asyncio.wait_for(queue.get(), PARTIAL_AFTER)
                else:
                    kind, value = await queue.get()
            except asyncio.TimeoutError:
                for line in splitter.flush():
                    yield line
                continue
        now = time.time()
        if kind == "out":
            for line in splitter.feed(value, now):
                yield line
            continue
        for line in splitter.flush(now):
            yield line
        if kind == "drop":
            yield LogLine(splitter.board, now, f"{value} lines dropped: this listener fell behind",
                          DROP, value)
        elif kind == "status":
            yield LogLine(splitter.board, now, value, STATUS)
        elif kind == "end":
            return


def _end(queue: asyncio.Queue) -> None:
    with contextlib.suppress(asyncio.QueueFull):  # full: the reader sees the feeder done
        queue.put_nowait(("end", ""))


async def agent_lines(host: str, port: int = DEFAULT_PORT, password: str = "", *,
                      label: str | None = None, fallback_password: str = "",
                      reconnect: bool = True, timeout: float = 10.0) -> AsyncIterator[LogLine]:
    """A board's output through its agent, for as long as the caller reads: after a reset or a
    network loss it reconnects (with status lines saying so). A wrong password or protocol
    ends it with RemoteIOError."""
    queue: asyncio.Queue = asyncio.Queue(QUEUE)
    splitter = LineSplitter(label or f"rio://{_host(host)}:{port}")
    task = asyncio.create_task(_agent_feed(queue, splitter, host, port, password,
                                           fallback_password, reconnect, timeout, label is None))
    try:
        async for line in _lines_from(queue, splitter, task):
            yield line
        await task  # raises what ended it
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


async def _agent_feed(queue, splitter, host, port, password, fallback, reconnect, timeout,
                      name_from_board) -> None:
    delay, connected_once, said_waiting = 0.2, False, False
    rio = None
    try:
        while True:
            rio = RemoteIO(host, port, password, fallback_password=fallback, timeout=timeout,
                           on_output=lambda kind, value: queue.put((kind, value)))
            try:
                hello = await rio.open()
                await rio.listen()
                await rio.call("ping")  # answered in order: the board is sending us output now
            except RemoteIOError as e:
                await rio.close()
                if e.kind in ("denied", "password", "proto") or not reconnect:
                    raise
                if not connected_once and not said_waiting:
                    await queue.put(("status", f"waiting for the board: {e}"))
                    said_waiting = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if name_from_board and hello.get("name"):
                splitter.board = str(hello["name"])
            delay = 0.2
            what = "reconnected" if connected_once else "connected"
            await queue.put(("status", f"{what} ({rio.name}, agent {hello.get('agent', '?')})"))
            connected_once = True
            why = await rio.wait_closed()
            await rio.close()
            if not reconnect:
                await queue.put(("status", f"disconnected: {why}"))
                break
            await queue.put(("status", f"disconnected ({why}); reconnecting"))
    finally:
        if rio is not None:
            await rio.close()  # also when the reader stopped reading (cancelled)
        _end(queue)


class ConsoleLines:
    """Bytes a board printed, fed from wherever they come (a Session's console sink, or a
    fan-out of it such as the DeviceManager's), as LogLines: `feed()` and `note()` from the
    event loop's thread, `end()` when done, `async for line in console_lines`. A consumer
    slower than the board loses lines, counted in a "drop" line; nothing waits for it."""

    def __init__(self, label: str) -> None:
        self.queue: asyncio.Queue = asyncio.Queue(QUEUE)
        self.splitter = LineSplitter(label)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._lost = 0

    def _put(self, item) -> None:
        if self._lost and not self.queue.full():
            self.queue.put_nowait(("drop", self._lost))
            self._lost = 0
        if not self.queue.full():
            self.queue.put_nowait(item)
        elif item[0] == "out":
            self._lost += max(1, item[1].count("\n"))

    def feed(self, data: bytes) -> None:
        text = self._decoder.decode(data)
        if text:
            self._put(("out", text))

    def note(self, text: str) -> None:
        self._put(("status", text))

    def end(self) -> None:
        _end(self.queue)

    def __aiter__(self):
        return _lines_from(self.queue, self.splitter)


async def console_lines(session, label: str | None = None, *, connect: bool = True,
                        close: bool = False) -> AsyncIterator[LogLine]:
    """A board's REPL output (what it prints between operations) through a Session: for
    boards without the agent. Takes over the session's console sink while iterated."""
    lines = ConsoleLines(label or str(session.address))

    def on_event(event) -> None:
        if event.kind == "state" and event.state in ("reconnecting", "error", "disconnected"):
            lines.note(f"{event.state}{': ' + event.detail if event.detail else ''}")
        elif event.kind == "reset":
            lines.note(event.detail or "reset")

    session.set_console(lines.feed)
    unsubscribe = session.subscribe(on_event)
    try:
        lines.note(f"watching the REPL output of {session.address}")
        if connect and not session.connected:
            await session.connect()
        async for line in lines:
            yield line
    finally:
        unsubscribe()
        session.set_console(None)
        if close:
            await session.close()


def lines_of(target: Target | str, *, password: str = "", fallback_password: str = "",
             config=None, resolver=None) -> AsyncIterator[LogLine]:
    """The lines of one board, whatever reaches it: its agent, or its REPL through a new
    reconnecting Session (made by `resolver`, default one on `config`), closed when the
    iteration ends."""
    resolver = resolver or Resolver(config)
    t = resolve(target, resolver=resolver) if isinstance(target, str) else target
    if t.agent:
        return agent_lines(t.host, t.port, password, fallback_password=fallback_password,
                           label=None if t.label.lower().startswith(("rio://", "ota://"))
                           else t.label)
    session = resolver.session(t.address, reconnect=True)
    return console_lines(session, t.label, close=True)


# -- several boards ----------------------------------------------------------------------------


class LogStream:
    """Lines of any number of boards, merged in arrival order. Boards are added and removed
    while it runs; iterating ends when the last source has ended (unless `open_ended`, for a
    stream that discovery keeps adding to). A source that fails ends with a status line."""

    def __init__(self, *, open_ended: bool = False, maxsize: int = QUEUE) -> None:
        self._queue: asyncio.Queue = asyncio.Queue(maxsize)
        self._tasks: dict[str, asyncio.Task] = {}
        self._closing: set[asyncio.Task] = set()  # sources refused, being closed
        self.open_ended = open_ended
        self.failures: dict[str, str] = {}  # key -> why its source stopped
        self._closed = False

    @property
    def keys(self) -> list[str]:
        return list(self._tasks)

    def add(self, key: str, lines: AsyncIterator[LogLine]) -> bool:
        """Start merging a source under `key`; False (and the source is not started) when that
        key is already there."""
        if key in self._tasks:
            task = asyncio.ensure_future(_aclose(lines))
            self._closing.add(task)  # a task nobody holds may be collected before it ends
            task.add_done_callback(self._closing.discard)
            return False
        self._tasks[key] = asyncio.create_task(self._pump(key, lines))
        return True

    async def remove(self, key: str) -> None:
        task = self._tasks.get(key)
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    async def _pump(self, key: str, lines: AsyncIterator[LogLine]) -> None:
        try:
            async for line in lines:
                await self._queue.put(line)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # one board's failure is a line, not the end
            if not isinstance(e, MptuiError):
                logger.exception("lines of %s failed", key)
            self.failures[key] = str(e)
            await self._queue.put(LogLine(key, time.time(), f"stopped: {e}", STATUS))
        finally:
            await _aclose(lines)
            self._tasks.pop(key, None)
            if not self._tasks and not self.open_ended:
                with contextlib.suppress(asyncio.QueueFull):  # full: the reader will see it
                    self._queue.put_nowait(None)

    def __aiter__(self):
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[LogLine]:
        while not self._closed:
            if self._queue.empty() and not self._tasks and not self.open_ended:
                return
            line = await self._queue.get()
            if line is not None:
                yield line

    async def close(self) -> None:
        self._closed = True
        for key in list(self._tasks):
            await self.remove(key)
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)


async def _aclose(it) -> None:
    close = getattr(it, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()
