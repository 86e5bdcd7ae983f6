"""Installing the agent on a board over any transport, through Session.fs.

Every .py file of mptui/agent/ goes to /mptui_agent/ (as .mpy when mpy-cross emits what the
board loads), the settings to /config/mptui_agent.json, and two lines to the end of /boot.py
(after whatever the board's boot.py already does, such as joining the WiFi).

The settings hold the board's id (kept across installs; a new random one the first time) and
only the keys derived for that id (ota/keys.py), never the project's password or signing key.
"""

from __future__ import annotations

import ipaddress
import json
import secrets as random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mptui.board import BoardError, Session
from mptui.services.ota.keys import board_id, remember_board
from mptui.services.ota.project import Secrets, compile_mpy, mpy_cross_matches
from mptui.transports.address import Address
from mptui.transports.base import Progress

AGENT_SRC = Path(__file__).resolve().parents[2] / "agent"  # mptui/agent
AGENT_DIR = "/mptui_agent"
CONFIG = "/config/mptui_agent.json"
BOOT_HOOK = "import mptui_agent\nmptui_agent.boot()\n"
# The free heap the agent needs, as `room()` reads it on a board without the agent: enough to
# start it at boot and serve a push, RemoteIO calls and its log stream. Measured with
# `bench/agent_heap.py` on the unix port (64-bit): `?heap=72k` worked (room() read 65.5 KiB),
# 68k did not (61.5 KiB). A 32-bit board's objects take at most half of that (pointers halve,
# bytes do not), so half is its lower bound: a board refused surely cannot hold the agent.
AGENT_HEAP = 65 * 1024
ROOM = ("(__import__('gc').collect(), __import__('gc').mem_free(), "
        "__import__('sys').maxsize > (1 << 32), 'mptui_agent' in __import__('sys').modules)")


@dataclass
class InstallResult:
    agent_version: str
    mpy: bool
    files: int
    boot_py: str  # "added", "already there"
    board_id: str = ""
    upgraded_from: str = ""  # "1.x": an agent that kept the password hash and the fleet key
    exposed: list[str] | None = None  # the services listening beyond the board (see exposed())


def agent_files(mpy: bool) -> dict[str, bytes]:
    out = {}
    for src in sorted(AGENT_SRC.glob("*.py")):
        data = src.read_bytes()
        if mpy:
            out[src.stem + ".mpy"] = compile_mpy("mptui_agent/" + src.name, data)
        else:
            out[src.name] = data
    return out


def agent_version() -> str:
    for line in (AGENT_SRC / "__init__.py").read_text().splitlines():
        if line.startswith("VERSION = "):
            return line.split("=", 1)[1].strip().strip('"')
    return "?"


def agent_settings(agent: dict[str, Any], secrets: Secrets | None,
                   board: str) -> dict[str, Any]:
    cfg = {"port": 2018, "bind": "127.0.0.1", "good_after": 30, **agent, "id": board}
    cfg["login"] = secrets.login_key(board) if secrets else ""
    cfg["sign"] = secrets.board_signing_key(board) if secrets else ""
    return cfg


def board_settings(agent: dict[str, Any], address: Address, name: str | None = None,
                   keep_bind: bool = False) -> dict[str, Any]:
    """The agent's settings for one board (`address` parsed): the project's [ota.agent]; on
    a virtual board its services listen on loopback (its network is this computer's) unless
    `keep_bind` (a bind asked for on the command line); `name` (a config name, a virtual
    board's) names it in announcements and logs unless the project does."""
    agent = dict(agent)
    if address.kind == "virtual":
        if not keep_bind:
            agent["bind"] = "127.0.0.1"
        if name is None:
            target = address.target
            name = "virtual" if target == "default" else target
    if name and "name" not in agent:
        agent["name"] = name
    return agent


def exposed(cfg: dict[str, Any]) -> list[str]:
    """The agent's services that listen beyond the board itself (not on loopback)."""
    out = []
    bind = cfg.get("bind", "127.0.0.1")
    for name, port, address in (("OTA", cfg.get("port", 2018), bind),
                                ("RemoteIO", cfg.get("remoteio_port", 2019),
                                 cfg.get("remoteio_bind", bind))):
        try:
            loopback = ipaddress.ip_address(address).is_loopback
        except ValueError:
            loopback = address == "localhost"
        if port and not loopback:
            out.append(f"{name} on {address}:{port}")
    return out


async def room(session: Session) -> tuple[int, int] | None:
    """(free heap after gc.collect(), what the agent needs there) in bytes; None when the
    board does not say, or runs the agent already (it fits: an upgrade)."""
    value = await session.eval(ROOM)
    if not (isinstance(value, tuple) and len(value) == 4 and type(value[1]) is int):
        return None
    _, free, wide, running = value
    if running is True or free < 0:
        return None
    return free, AGENT_HEAP if wide is True else AGENT_HEAP // 2


async def check_room(session: Session) -> None:
    """BoardError (one line) when the agent cannot fit in the board's free heap."""
    fit = await room(session)
    if fit is not None and fit[0] < fit[1]:
        raise BoardError(f"the OTA agent does not fit: it needs about {fit[1] // 1024} KB of "
                         f"free heap, the board has {fit[0] // 1024} KB (nothing was installed)")


async def install(session: Session, agent: dict[str, Any], secrets: Secrets | None,
                  use_mpy: bool | None = None,
                  progress: Progress | None = None) -> InstallResult:
    """Install or upgrade the agent; the board runs it from its next boot. BoardError before
    anything is written when the agent cannot fit in the board's heap (check_room)."""
    await check_room(session)
    board_mpy = await session.eval("getattr(__import__('sys').implementation,'_mpy',0)")
    mpy = mpy_cross_matches(board_mpy) if use_mpy is None else use_mpy
    if mpy and not mpy_cross_matches(board_mpy):
        raise BoardError("mpy-cross does not emit .mpy files this board loads; install as .py")
    files = agent_files(mpy)
    old = {}
    if await session.fs.exists(CONFIG):
        try:
            old = json.loads(await session.fs.read(CONFIG))
        except ValueError:
            old = {}
    if not isinstance(old, dict):
        old = {}
    board = board_id(old.get("id")) or random.token_hex(8)
    upgraded = "1.x" if ("pw" in old or "key" in old) and "id" not in old else ""
    await session.fs.mkdir(AGENT_DIR, parents=True)
    await session.fs.mkdir("/config", parents=True)
    for i, (name, data) in enumerate(files.items()):
        await session.fs.write(f"{AGENT_DIR}/{name}", data)
        if progress:
            progress(i + 1, len(files))
    stale = {e.name for e in await session.fs.ls(AGENT_DIR)} - set(files)
    for name in sorted(stale):
        if name.endswith((".py", ".mpy")):
            await session.fs.rm(f"{AGENT_DIR}/{name}")
    cfg = agent_settings(agent, secrets, board)
    await session.fs.write(CONFIG, json.dumps(cfg).encode())
    if secrets is not None and (secrets.signing_key or secrets.password):
        remember_board(secrets.path, board, str(session.address))
    boot = b""
    if await session.fs.exists("/boot.py"):
        boot = await session.fs.read("/boot.py")
    if b"mptui_agent" in boot:
        hooked = "already there"
    else:
        sep = b"" if not boot or boot.endswith(b"\n") else b"\n"
        await session.fs.write("/boot.py", boot + sep + BOOT_HOOK.encode())
        hooked = "added"
    return InstallResult(agent_version(), mpy, len(files), hooked, board, upgraded, exposed(cfg))
