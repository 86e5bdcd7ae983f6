"""RemoteIO on the host: the live output of one or many boards as LogLines, and RPC calls.

A board's lines come from one of two places:
- the board agent's RemoteIO server (`rio://HOST[:PORT]`, `ota://HOST`, a config board with an
  `ota` or `rio` option; wire format in mptui/agent/REMOTEIO.md), reconnecting by itself;
- the board's REPL output over any link (USB, virtual, a bridge...; `Session.set_console`), so
  that a board without the agent can be watched too.

    stream = LogStream()
    for target in ("rio://192.168.1.40", "/dev/ttyACM0"):
        stream.add(target, lines_of(target))
    async for line in stream:            # LogLine(board, timestamp, text, kind)
        ...

    async with RemoteIO("192.168.1.40") as rio:
        await rio.call("set_led", {"on": True})   # the result, or RemoteIOError

For a UI: keep lines in a `mptui.services.logs.LogBuffer` (bounded, with drop counters, filters,
`series(key)` for charts); for a board whose Session someone else owns, feed `ConsoleLines` from
that owner's console output instead of `console_lines(session)`; boards announcing themselves
come from `mptui.services.announce.NetworkSource`.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import logging
import os
import shlex
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from mptui.errors import MptuiError
from mptui.services.boards import RIO_PORT, Resolver
from mptui.services.logs import DROP, STATUS, LineSplitter, LogLine
from mptui.services.ota_keys import auth_response, backoff_wait, board_id

logger = logging.getLogger(__name__)
DEFAULT_PORT = RIO_PORT
PROTO = 2
PARTIAL_AFTER = 0.5  # seconds of silence after which a line without its newline is shown
QUEUE = 2000  # LogLines waiting for a slow consumer; beyond, the board's own buffer drops

# error kind -> what it means, in plain words (the board's detail follows)
KINDS = {
    "unknown": "no such handler on the board",
    "raised": "the handler raised an exception",
    "args": "bad arguments",
    "result": "the result cannot be sent",
    "proto": "protocol error",
    "busy": "the board has too many RemoteIO clients",
    "denied": "wrong password",
    "backoff": "too many wrong passwords from here: the board makes this computer wait",
    "password": "the board wants a password and none is set",
    "unreachable": "board unreachable",
    "timeout": "the board did not answer in time",
    "closed": "the connection was closed",
}


class RemoteIOError(MptuiError):
    def __init__(self, kind: str, detail: str = "", traceback: str = "") -> None:
        self.kind, self.detail, self.traceback = kind, detail, traceback
        plain = KINDS.get(kind, kind)
        super().__init__(detail if kind in ("unknown", "raised") and detail else
                         f"{plain}: {detail}" if detail and detail != plain else plain)


# -- addresses ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where a board's lines come from: its agent (`host`, `port`) or its REPL (`address`)."""

    label: str
    host: str = ""
    port: int = DEFAULT_PORT
    address: str = ""  # a device address, for the REPL source

    @property
    def agent(self) -> bool:
        return bool(self.host)


def resolve(text: str, config=None, resolver=None) -> Target:
    """A Target for an address or config name, as the board resolver (services/boards.py)
    names it: its agent's RemoteIO server when known (rio://, ota://, a config board with a
    `rio` or `ota` option), else its REPL. AddressError for a name that names no board."""
    return target_of((resolver or Resolver(config)).resolve(text))


def target_of(ref) -> Target:
    """Where a BoardRef's lines come from."""
    if ref.rio is not None:
        return Target(ref.text, ref.rio[0], ref.rio[1])
    return Target(ref.text, address=ref.key)


# -- one connection to a board's RemoteIO server -------------------------------------------------


class RemoteIO:
    """One connection (REMOTEIO.md). Output, once `listen()`ed, goes to `on_output(kind, value)`:
    ("out", text) or ("drop", n); `on_closed(why)` is called once when the connection ends."""

    def __init__(self, host: str, port: int = DEFAULT_PORT, password: str = "", *,
                 timeout: float = 10.0, fallback_password: str = "",
                 on_output: Callable[[str, Any], Any] | None = None,
                 on_closed: Callable[[str], None] | None = None) -> None:
        self.host, self.port = host, port
        self.password, self.fallback_password = password, fallback_password
        self.timeout = timeout
        self.on_output = on_output
        self.on_closed = on_closed
        self.name = f"rio://{_host(host)}:{port}"
        self.hello: dict = {}
        self._r: asyncio.StreamReader | None = None
        self._w: asyncio.StreamWriter | None = None
        self._reader: asyncio.Task | None = None
        self._pending: dict[int, asyncio.Future] = {}
        self._ids = 0
        self.closed_why = ""

    async def __aenter__(self):
        await self.open()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    @property
    def board_name(self) -> str:
        return str(self.hello.get("name") or self.name)

    async def open(self) -> dict:
        """Connect and log in; returns the board's greeting."""
        for _ in range(3):  # a short back-off (after wrong passwords from here) is waited out
            try:
                try:
                    return await self._open(self.password)
                except RemoteIOError as e:
                    if e.kind != "denied" or not self.fallback_password:
                        raise
                    await self.close()
                    return await self._open(self.fallback_password)
            except RemoteIOError as e:
                wait = backoff_wait(e.detail) if e.kind == "backoff" else None
                await self.close()
                if wait is None:
                    raise
                await asyncio.sleep(wait)
        return await self._open(self.password)

    async def _open(self, password: str) -> dict:
        self.closed_why = ""
        try:
            self._r, self._w = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, limit=1 << 20), self.timeout)
        except asyncio.TimeoutError:
            raise RemoteIOError("unreachable", f"{self.name}: timed out") from None
        except OSError as e:
            why = os.strerror(e.errno) if e.errno else str(e)
            raise RemoteIOError("unreachable", f"{self.name}: {why}") from None
        sock = self._w.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            hello = await self._message()
            if hello.get("t") == "err":
                raise _error(hello)
            if hello.get("t") != "hello":
                raise RemoteIOError("proto", f"{self.name} is not an mptui RemoteIO server")
            if hello.get("proto") != PROTO:
                raise RemoteIOError("proto", f"RemoteIO protocol {hello.get('proto')}, this mptui "
                                    f"speaks {PROTO}; upgrade the agent (`mptui ota install`)")
            nonce = hello.get("nonce")
            mac = None  # with no password: a login all the same (the board counts us then)
            if nonce:
                if not password:
                    raise RemoteIOError("password", self.name)
                try:
                    mac = auth_response(password, str(nonce), board_id(hello.get("id")))
                except ValueError:
                    raise RemoteIOError("proto", f"{self.name}: a malformed login challenge") from None
            await self._send({"t": "auth", "mac": mac})
            reply = await self._message()
            if reply.get("t") != "ok":
                raise _error(reply)
        except BaseException:
            await self._drop()
            raise
        self.hello = hello
        self._reader = asyncio.create_task(self._read_loop())
        return hello

    async def _message(self) -> dict:
        try:
            line = await asyncio.wait_for(self._r.readline(), self.timeout)
        except asyncio.TimeoutError:
            raise RemoteIOError("timeout", self.name) from None
        except (OSError, ValueError) as e:
            raise RemoteIOError("unreachable", f"{self.name}: {e}") from None
        if not line:
            raise RemoteIOError("closed", self.name)
        return _decode(line, self.name)

    async def _send(self, msg: dict) -> None:
        if self._w is None or self._w.is_closing():
            raise RemoteIOError("closed", self.closed_why or self.name)
        try:
            self._w.write(json.dumps(msg, separators=(",", ":")).encode() + b"\n")
            await self._w.drain()
        except (OSError, RuntimeError) as e:
            raise RemoteIOError("unreachable", f"{self.name}: {e}") from None

    async def _read_loop(self) -> None:
        why = "closed by the board"
        try:
            while True:
                line = await self._r.readline()
                if not line:
                    break
                msg = _decode(line, self.name)
                t = msg.get("t")
                if t in ("out", "drop"):
                    if self.on_output is not None:
                        value = msg.get("d", "") if t == "out" else int(msg.get("n", 0))
                        result = self.on_output(t, value)
                        if asyncio.iscoroutine(result):
                            await result  # a full queue slows our reading: TCP holds the board
                elif t in ("resp", "err"):
                    fut = self._pending.pop(msg.get("id"), None)
                    if fut is not None and not fut.done():
                        if t == "resp":
                            fut.set_result(msg.get("r"))
                        else:
                            fut.set_exception(_error(msg))
        except RemoteIOError as e:
            why = str(e)
        except (OSError, ValueError) as e:
            why = f"{self.name}: {e}"
        except asyncio.CancelledError:
            why = "closed"
            raise
        finally:
            self.closed_why = why
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(RemoteIOError("closed", why))
            self._pending.clear()
            if self._w is not None:
                self._w.close()
            if self.on_closed is not None:
                self.on_closed(why)

    async def wait_closed(self) -> str:
        """Until the connection ends; returns why."""
        if self._reader is not None:
            await asyncio.wait({self._reader})  # however it ended; our own cancel propagates
        return self.closed_why

    async def listen(self, on: bool = True) -> None:
        """Start (or stop) receiving the board's output, from now on."""
        await self._send({"t": "listen", "on": on})

    async def call(self, name: str, args: dict | None = None, *, timeout: float | None = None):
        """Call a handler on the board; its result, or RemoteIOError (kind "unknown", "raised"
        with the board's `traceback`, "timeout", ...)."""
        if self._reader is None:
            raise RemoteIOError("closed", "not connected")
        self._ids += 1
        cid = self._ids
        fut = asyncio.get_running_loop().create_future()
        self._pending[cid] = fut
        try:
            await self._send({"t": "call", "id": cid, "name": name, "args": args or {}})
            return await asyncio.wait_for(fut, timeout or self.timeout)
        except asyncio.TimeoutError:
            raise RemoteIOError("timeout", f"{name} on {self.board_name}") from None
        finally:
            self._pending.pop(cid, None)

    async def close(self) -> None:
        if self._w is not None and not self._w.is_closing():
            with contextlib.suppress(Exception):
                self._w.write(b'{"t":"bye"}\n')
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
            self._reader = None
        await self._drop()

    async def _drop(self) -> None:
        if self._w is not None:
            self._w.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._w.wait_closed(), 1.0)
            self._w = None


def _decode(line: bytes, name: str) -> dict:
    try:
        msg = json.loads(line)
    except ValueError:
        raise RemoteIOError("proto", f"{name} sent something that is not RemoteIO") from None
    if not isinstance(msg, dict):
        raise RemoteIOError("proto", f"{name} sent something that is not RemoteIO")
    return msg


def _error(msg: dict) -> RemoteIOError:
    return RemoteIOError(str(msg.get("kind") or "proto"), str(msg.get("e") or ""),
                         str(msg.get("tb") or ""))


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def agent_passwords() -> tuple[str, str]:
    """(password, previous password) for boards' agents: $MPTUI_AGENT_PASSWORD, else the
    project's secrets file (found from the current folder up, as `mptui ota` does), else
    none."""
    env = os.environ.get("MPTUI_AGENT_PASSWORD")
    if env is not None:
        return env, ""
    from mptui.services.ota_project import ProjectError, load_project

    try:
        secrets = load_project().secrets
    except ProjectError:
        return "", ""
    return (secrets.password, secrets.previous_password) if secrets else ("", "")


def parse_call_args(items: list[str] | str) -> dict:
    """Arguments of a call written as KEY=VALUE items: ["on=true", "name=kitchen"] (or the
    text 'on=true name="the kitchen"', split as a shell does) -> {"on": True, "name": ...}.
    A value is read as a JSON literal when it is one, else taken as a string. ValueError for
    an item that is not KEY=VALUE with KEY a Python name, or a key given twice."""
    if isinstance(items, str):
        items = shlex.split(items)  # ValueError for an unclosed quote
    out: dict = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"{item!r}: arguments are KEY=VALUE, KEY a name (letters, digits, _)")
        if key in out:
            raise ValueError(f"{key} given twice")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


async def call(target: str, name: str, args: dict | None = None, *, password: str = "",
               fallback_password: str = "", timeout: float = 10.0, config=None,
               resolver=None):
    """One call on the board named by `target` (an agent address or config name)."""
    t = resolve(target, config, resolver)
    if not t.agent:
        raise RemoteIOError("proto", f"{target} is not reached through its agent; give "
                            "rio://HOST[:PORT] (or ota://HOST, or a config board with an "
                            "ota/rio option)")
    async with RemoteIO(t.host, t.port, password, fallback_password=fallback_password,
                        timeout=timeout) as rio:
        return await rio.call(name, args, timeout=timeout)


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
