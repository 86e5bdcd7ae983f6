"""Two ways to one board's agent, with the same methods: over its TCP server (network boards)
or over the engine (a Session at the raw REPL, for USB boards). Either way the board runs the
same staging and commit code (mptui/agent/release.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Callable
from typing import Any

from mptui.board import BoardError, BoardExecError, Session
from mptui.services.boards import OTA_PORT
from mptui.services.ota.keys import AgentError, auth_response, board_id, log_in

DEFAULT_PORT = OTA_PORT
PROTO = 2
Progress = Callable[[int, int], None]

# error kind -> what it means, in plain words (the board's own detail follows)
KINDS = {
    "denied": "wrong OTA password",
    "password": "the board wants an OTA password and none is set",
    "signature": "bad signature (the board's signing key differs from this project's)",
    "replay": "refused: an old release (signed before the newest one the board installed)",
    "downgrade": "refused: an older version than the board runs (--allow-downgrade to install it)",
    "backoff": "too many wrong passwords from here: the board makes this computer wait",
    "toomany": "the board has too many connections",
    "hash": "a file did not match its SHA-256; nothing was installed",
    "space": "board full",
    "unreachable": "board unreachable",
    "busy": "another update is in progress on the board",
    "protected": "protected path",
    "manifest": "bad manifest",
    "state": "update refused",
    "notfound": "not found",
    "memory": "the board is short of free heap (RAM)",
    "no-agent": "the OTA agent is not installed (run `mptui ota install`)",
    "proto": "protocol error",
    "timeout": "the board stopped answering",
    "rolledback": "the new release failed to boot; the board rolled back",
}


class OtaError(AgentError):
    def __init__(self, kind: str, detail: str = "") -> None:
        self.kind, self.detail = kind, detail
        plain = KINDS.get(kind, kind)
        super().__init__(f"{plain}: {detail}" if detail and detail != plain else plain)


class AgentLink:
    """The agent's TCP protocol (PROTOCOL.md), one connection."""

    def __init__(self, host: str, port: int = DEFAULT_PORT, password: str = "",
                 timeout: float = 15.0, fallback: str = "") -> None:
        self.host, self.port = host, port
        self.password = password
        self.fallback = fallback  # tried when `password` is denied (after an unfinished passwd)
        self.timeout = timeout
        self.name = f"ota://{host}:{port}"
        self.agent_version = ""
        self.board_id = ""  # the board's id, from its greeting (ota/keys.py)
        self._r: asyncio.StreamReader | None = None
        self._w: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        return await log_in(self._open, self.close, self.password, self.fallback, OtaError)

    async def _open(self, password: str) -> None:
        try:
            self._r, self._w = reader_writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.timeout)
        except asyncio.TimeoutError:
            raise OtaError("unreachable", f"{self.name}: timed out") from None
        except OSError as e:
            raise OtaError("unreachable", f"{self.name}: {e.strerror or e}") from None
        sock = reader_writer[1].get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed: the next read says so
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        line = await self._line()
        if line.startswith("err "):  # turned away before the greeting (back-off, too many)
            kind, _, detail = line[4:].partition(" ")
            raise OtaError(kind, detail)
        greeting = line.split()
        if len(greeting) < 4 or greeting[0] != "MPTUI-OTA":
            raise OtaError("proto", f"{self.name} is not an mptui OTA agent")
        if greeting[1] != str(PROTO):
            raise OtaError("proto", f"agent protocol {greeting[1]}, this mptui speaks {PROTO}; "
                                    "upgrade the agent (`mptui ota install`)")
        self.agent_version = greeting[2]
        self.board_id = board_id(greeting[4]) if len(greeting) > 4 else ""
        nonce = greeting[3]
        if nonce != "-":
            if not password:
                raise OtaError("password")
            try:
                answer = auth_response(password, nonce, self.board_id)
            except ValueError:
                raise OtaError("proto", f"{self.name}: a malformed login challenge") from None
            await self._send(f"auth {answer}\n".encode())
        else:
            await self._send(b"auth -\n")  # a login all the same: the board counts us as a client
        await self._reply()

    async def close(self) -> None:
        if self._w is not None:
            with contextlib.suppress(Exception):
                self._w.write(b"bye\n")
                self._w.close()
                await asyncio.wait_for(self._w.wait_closed(), 1.0)
            self._w = None

    def _streams(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._r is None or self._w is None:
            raise OtaError("unreachable", f"{self.name}: not connected")
        return self._r, self._w

    async def _line(self) -> str:
        reader, _ = self._streams()
        try:
            line = await asyncio.wait_for(reader.readline(), self.timeout)
        except asyncio.TimeoutError:
            raise OtaError("timeout", self.name) from None
        except (OSError, ValueError) as e:
            raise OtaError("unreachable", f"{self.name}: {e}") from None
        if not line:
            raise OtaError("unreachable", f"{self.name}: the connection was closed")
        return line.decode("utf-8", "replace").strip()

    async def _send(self, data: bytes) -> None:
        _, writer = self._streams()
        try:
            writer.write(data)
            await writer.drain()
        except (OSError, RuntimeError) as e:
            raise OtaError("unreachable", f"{self.name}: {e}") from None

    async def _reply(self) -> str:
        line = await self._line()
        word, _, rest = line.partition(" ")
        if word == "ok":
            return rest
        if word == "err":
            kind, _, detail = rest.partition(" ")
            raise OtaError(kind, detail)
        raise OtaError("proto", f"unexpected reply {line[:60]!r}")

    async def cmd(self, line: str) -> str:
        if "\n" in line:
            raise ValueError("one line only")
        await self._send(line.encode() + b"\n")
        return await self._reply()

    # -- the common interface ----------------------------------------------------------------

    async def info(self) -> dict[str, Any]:
        return _json_object(await self.cmd("version"))

    async def hashes(self) -> dict[str, tuple[int, str]]:
        n = int(await self.cmd("hashes /"))
        out: dict[str, tuple[int, str]] = {}
        for _ in range(n):
            path, size, sha = json.loads(await self._line())
            out[path] = (size, sha)
        return out

    async def begin(self, manifest: bytes, need: int) -> None:
        await self._send(b"update %d %d\n" % (len(manifest), need) + manifest)
        await self._reply()

    async def send_file(self, path: str, data: bytes, progress: Progress | None = None) -> None:
        await self._send(b"file %d %s\n" % (len(data), path.encode()))
        step = 16384
        for i in range(0, len(data), step):
            await self._send(data[i : i + step])
            if progress:
                progress(min(i + step, len(data)), len(data))
        await self._reply()

    async def commit(self, reboot: bool = True) -> str:
        return await self.cmd("commit" if reboot else "commit noreset")

    async def abort(self) -> None:
        with contextlib.suppress(OtaError):
            await self.cmd("abort")

    async def reset(self) -> None:
        await self.cmd("reset")

    async def rollback(self) -> str:
        return await self.cmd("rollback")

    async def set_login_key(self, key_hex: str) -> None:
        """The board's new login key (Secrets.login_key for its id; "": no password)."""
        await self.cmd(f"passwd {key_hex}")

    async def get(self, path: str) -> bytes:
        size = int(await self.cmd(f"get {path}"))
        reader, _ = self._streams()
        try:
            return await asyncio.wait_for(reader.readexactly(size), self.timeout + size / 10000)
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, OSError) as e:
            raise OtaError("unreachable", f"{self.name}: {e}") from None


def _json_object(text: str) -> dict[str, Any]:
    """A JSON object the board answered with (anything else: a protocol error)."""
    value = json.loads(text)
    if not isinstance(value, dict):
        raise OtaError("proto", f"unexpected reply {text[:60]!r}")
    return value


# Code run at the raw REPL: the agent's own module does the work; errors come back as one
# "err <kind> <detail>" line, results as "ok <json>".
_PRELUDE = (
    "try:\n import mptui_agent as _A\n from mptui_agent import release as _R\n"
    "except ImportError:\n _R=None\n"
)


def _wrap(body: str) -> str:
    return (
        _PRELUDE + "if _R is None:\n print('err no-agent')\nelse:\n try:\n"
        + "".join(f"  {line}\n" for line in body.splitlines())
        + " except _R.Reject as e:\n  print('err',e.code,e.why)\n"
    )


class EngineLink:
    """The same operations at the raw REPL of a Session (USB boards: no password needed, the
    signature is still checked on the board)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.name = str(session.address)
        self.agent_version = ""
        self.board_id = ""
        self._owned = False  # closed by close() only if open() connected it

    async def open(self) -> None:
        if not self.session.connected:
            try:
                await self.session.connect()
            except BoardError as e:
                raise OtaError("unreachable", str(e)) from None
            self._owned = True
        info = await self.info()
        self.agent_version = info.get("agent", "")
        self.board_id = board_id(info.get("id"))

    async def close(self) -> None:
        if self._owned:
            self._owned = False
            await self.session.close()

    async def _run(self, body: str, timeout: float = 30.0) -> str:
        try:
            out = await self.session.exec(_wrap(body), timeout=timeout)
        except BoardExecError as e:
            raise OtaError("proto", e.traceback.splitlines()[-1]) from None
        except BoardError as e:
            raise OtaError("unreachable", f"{self.name}: {e}") from None
        line = out.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        word, _, rest = line[0].partition(" ")
        if word == "err":
            kind, _, detail = rest.partition(" ")
            raise OtaError(kind, detail)
        if word != "ok":
            raise OtaError("proto", f"unexpected output {line[0][:60]!r}")
        return rest

    async def info(self) -> dict[str, Any]:
        return _json_object(await self._run("import json\nprint('ok',json.dumps(_R.info()))"))

    async def hashes(self) -> dict[str, tuple[int, str]]:
        items = json.loads(await self._run("import json\nprint('ok',json.dumps(_R.tree('/',True)))"))
        return {p: (s, h) for p, s, h in items}

    async def begin(self, manifest: bytes, need: int) -> None:
        await self._run(
            f"_A._u=None\n_A._u=_R.Update({manifest!r},_A.config().get('sign',''),{int(need)})\n"
            "print('ok')"
        )

    async def send_file(self, path: str, data: bytes, progress: Progress | None = None) -> None:
        dest = "/.ota/stage/" + path
        await self._run(f"_R.mkdirs({dest!r})\nprint('ok')")
        try:
            await self.session.fs.write(dest, data, progress)
        except BoardError as e:
            raise OtaError("unreachable", f"{self.name}: {e}") from None
        await self._run(f"_A._u.staged({path!r})\nprint('ok')")

    async def commit(self, reboot: bool = True) -> str:
        version = await self._run("u,_A._u=_A._u,None\nu.commit()\nprint('ok',u.version)")
        if reboot:
            await self.reset()
        return version

    async def abort(self) -> None:
        with contextlib.suppress(OtaError):
            await self._run("if _A.__dict__.get('_u'):\n _A._u.abort()\nprint('ok')")

    async def reset(self) -> None:
        try:
            await self.session.hard_reset()
        except BoardError as e:
            raise OtaError("unreachable", f"{self.name}: {e}") from None

    async def rollback(self) -> str:
        version = await self._run("_R.rollback('rolled back on request')\nprint('ok',_R.state().get('v'))")
        await self.reset()
        return version

    async def set_login_key(self, key_hex: str) -> None:
        await self._run(f"_R.set_login_key({key_hex!r})\nprint('ok')")
