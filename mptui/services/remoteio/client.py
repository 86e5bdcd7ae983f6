"""RemoteIO on the host, the agent's side of it: one connection to a board's RemoteIO server
(`RemoteIO`: login, lines, RPC calls), where a target's agent is (`resolve`, `Target`), and the
one-shot `call`. Wire format in mptui/agent/REMOTEIO.md."""


from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shlex
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mptui.services.boards import RIO_PORT, BoardRef, Resolver
from mptui.services.ota.keys import AgentError, auth_response, board_id, log_in

if TYPE_CHECKING:
    from typing_extensions import Self  # (typing's from Python 3.11)

    from mptui.config import Config

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
    "memory": "the board is short of free heap (RAM)",
    "denied": "wrong password",
    "backoff": "too many wrong passwords from here: the board makes this computer wait",
    "password": "the board wants a password and none is set",
    "unreachable": "board unreachable",
    "timeout": "the board did not answer in time",
    "closed": "the connection was closed",
}


class RemoteIOError(AgentError):
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


def resolve(text: str, config: Config | None = None,
            resolver: Resolver | None = None) -> Target:
    """A Target for an address or config name, as the board resolver (services/boards.py)
    names it: its agent's RemoteIO server when known (rio://, ota://, a config board with a
    `rio` or `ota` option), else its REPL. AddressError for a name that names no board."""
    return target_of((resolver or Resolver(config)).resolve(text))


def target_of(ref: BoardRef) -> Target:
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
        self.hello: dict[str, Any] = {}
        self._r: asyncio.StreamReader | None = None
        self._w: asyncio.StreamWriter | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = 0
        self.closed_why = ""

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def board_name(self) -> str:
        return str(self.hello.get("name") or self.name)

    async def open(self) -> dict[str, Any]:
        """Connect and log in; returns the board's greeting."""
        return await log_in(self._open, self.close, self.password, self.fallback_password,
                            RemoteIOError)

    async def _open(self, password: str) -> dict[str, Any]:
        self.closed_why = ""
        try:
            self._r, self._w = reader_writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, limit=1 << 20), self.timeout)
        except asyncio.TimeoutError:
            raise RemoteIOError("unreachable", f"{self.name}: timed out") from None
        except OSError as e:
            why = os.strerror(e.errno) if e.errno else str(e)
            raise RemoteIOError("unreachable", f"{self.name}: {why}") from None
        sock = reader_writer[1].get_extra_info("socket")
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

    async def _message(self) -> dict[str, Any]:
        reader = self._r
        if reader is None:
            raise RemoteIOError("closed", self.closed_why or self.name)
        try:
            line = await asyncio.wait_for(reader.readline(), self.timeout)
        except asyncio.TimeoutError:
            raise RemoteIOError("timeout", self.name) from None
        except (OSError, ValueError) as e:
            raise RemoteIOError("unreachable", f"{self.name}: {e}") from None
        if not line:
            raise RemoteIOError("closed", self.name)
        return _decode(line, self.name)

    async def _send(self, msg: dict[str, Any]) -> None:
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
            reader = self._r
            if reader is None:
                raise RemoteIOError("closed", self.name)
            while True:
                line = await reader.readline()
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
                    cid = msg.get("id")  # (anything, from the board)
                    fut = self._pending.pop(cid, None) if isinstance(cid, int) else None
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

    async def call(self, name: str, args: dict[str, Any] | None = None, *,
                   timeout: float | None = None) -> Any:
        """Call a handler on the board; its result, or RemoteIOError (kind "unknown", "raised"
        with the board's `traceback`, "timeout", ...)."""
        if self._reader is None:
            raise RemoteIOError("closed", "not connected")
        self._ids += 1
        cid = self._ids
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
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


def _decode(line: bytes, name: str) -> dict[str, Any]:
    try:
        msg = json.loads(line)
    except ValueError:
        raise RemoteIOError("proto", f"{name} sent something that is not RemoteIO") from None
    if not isinstance(msg, dict):
        raise RemoteIOError("proto", f"{name} sent something that is not RemoteIO")
    return msg


def _error(msg: dict[str, Any]) -> RemoteIOError:
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
    from mptui.services.ota.project import ProjectError, load_project

    try:
        secrets = load_project().secrets
    except ProjectError:
        return "", ""
    return (secrets.password, secrets.previous_password) if secrets else ("", "")


def parse_call_args(items: list[str] | str) -> dict[str, Any]:
    """Arguments of a call written as KEY=VALUE items: ["on=true", "name=kitchen"] (or the
    text 'on=true name="the kitchen"', split as a shell does) -> {"on": True, "name": ...}.
    A value is read as a JSON literal when it is one, else taken as a string. ValueError for
    an item that is not KEY=VALUE with KEY a Python name, or a key given twice."""
    if isinstance(items, str):
        items = shlex.split(items)  # ValueError for an unclosed quote
    out: dict[str, Any] = {}
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


async def call(target: str, name: str, args: dict[str, Any] | None = None, *,
               password: str = "", fallback_password: str = "", timeout: float = 10.0,
               config: Config | None = None, resolver: Resolver | None = None) -> Any:
    """One call on the board named by `target` (an agent address or config name)."""
    t = resolve(target, config, resolver)
    if not t.agent:
        raise RemoteIOError("proto", f"{target} is not reached through its agent; give "
                            "rio://HOST[:PORT] (or ota://HOST, or a config board with an "
                            "ota/rio option)")
    async with RemoteIO(t.host, t.port, password, fallback_password=fallback_password,
                        timeout=timeout) as rio:
        return await rio.call(name, args, timeout=timeout)
