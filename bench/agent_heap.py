"""The free heap the board agent needs: the smallest `?heap=` (free heap after boot, after
gc.collect()) on which `ota install`, the agent's start at boot, a small push, and a RemoteIO
call and log stream (LINES lines) all work, on this machine's MicroPython runtime (the unix port, 64-bit).

    .venv/bin/python bench/agent_heap.py [KIB ...]
    .venv/bin/python bench/agent_heap.py --map

Prints one line per heap tried (ok, or where it failed), then the smallest that worked: the
figure behind AGENT_HEAP in mptui/services/ota/install.py. Seen (2026-12): 72 KiB worked every
time (the install read 65.5 KiB free), 68 now and then, 64 never; before the agent loaded its
OTA and RemoteIO client code on demand, 92-96.

--map: where the heap goes, on a roomy board: each module imported in turn at the REPL (bytes
allocated after gc.collect(); the qstrs a module adds count where they land), then the running
agent idle, with an OTA client logged in, and after it left (what stays: the qstrs its code
interned, which a board never frees, and what a stale pointer may hold).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import _venv  # noqa: F401  (the project's venv)

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "tests" / d) for d in ("ota", "remoteio", "")]

from agentboards import app_files, free_port, make_project
from rioboards import Collector, start_rio_board

from mptui.board import Session
from mptui.services.ota import (
    install,
    push,
)
from mptui.services.ota.links import AgentLink
from mptui.services.ota.project import Secrets
from mptui.services.remoteio import agent_lines
from mptui.transports.virtual import VirtualTransport

PASSWORD = "bench"
LINES = 300  # printed by the app at 500 a second, through the log stream


async def trial(kib: int) -> str:
    tmp = Path(tempfile.mkdtemp())
    board = None
    seen = []
    real_room = install.room

    async def reading(session):  # what `ota install` reads before it writes a byte
        fit = await real_room(session)
        seen.append(fit)
        return fit

    install.room = reading
    try:
        board = await asyncio.wait_for(
            start_rio_board(tmp / "b", password=PASSWORD, heap=f"{kib}k"), 60)
        if await board.call("add", {"a": 2, "b": 3}) != 5:
            return "RemoteIO call: wrong answer"
        lines = Collector(agent_lines("127.0.0.1", board.port, PASSWORD), "line done")
        await asyncio.wait_for(lines.connected.wait(), 30)
        await board.call("start", {"lines": LINES, "rate": 500})
        await lines.wait(timeout=60)
        if lines.texts != [f"line {i}" for i in range(LINES)] + ["line done"]:
            return f"RemoteIO log stream: {len(lines.texts)} lines, not as printed"
        secrets = Secrets(tmp / ".b-secrets.toml", password=PASSWORD)
        r = await push(board.agent.address, make_project(tmp, "1.0", app_files("1.0"), secrets),
                       online_timeout=30)
        return ("ok" if r.ok else f"push: {r.error}") + _read(seen)
    except Exception as e:  # noqa: BLE001 (a bench: report and go on)
        return f"{type(e).__name__}: {e}"[:100] + _read(seen)
    finally:
        install.room = real_room
        if board is not None:
            await board.close()


def _read(seen: list) -> str:
    fit = seen[0] if seen else None
    return f" (install read {fit[0] / 1024:.1f} KiB free)" if fit else ""


async def main(sizes: list[int]) -> None:
    worked = []
    for kib in sizes:
        outcome = await trial(kib)
        print(f"heap {kib:4d} KiB: {outcome}", flush=True)
        if outcome.startswith("ok"):
            worked.append(kib)
    print(f"smallest that worked: {min(worked)} KiB" if worked else "none worked")


IMPORTS = """
import gc, sys
_last = [0]
def _step(label):
    gc.collect()
    a = gc.mem_alloc()
    print('%-34s %6d' % (label, a - _last[0]))
    _last[0] = a
_step('(the REPL, before)')
for _m in ('mptui_agent', 'mptui_agent.host', 'mptui_agent.gate', 'mptui_agent.ota',
           'mptui_agent.remoteio', 'mptui_agent.release', 'mptui_agent.ota_session',
           'mptui_agent.remoteio_session', 'mptui_agent.pull', 'mptui_agent.announce'):
    __import__(_m)
    _step('import ' + _m)
"""
ALLOC = "(__import__('gc').collect(), __import__('gc').mem_alloc())[1]"


async def heap_map() -> None:
    tmp = Path(tempfile.mkdtemp())
    transport = VirtualTransport("map", root=tmp / "map", heap="400k")
    session = Session(transport.address, transport=transport)
    await session.connect()
    try:
        secrets = Secrets(tmp / ".map-secrets.toml", password=PASSWORD)
        port = free_port()
        await install.install(session, {"port": port, "remoteio_port": free_port(),
                                        "announce": ""}, secrets)
        print("bytes allocated by each import (64-bit; after gc.collect()):")
        print((await session.exec(IMPORTS)).decode().rstrip())
        await session.hard_reset()  # the agent starts at boot
        idle = None
        for label in ("agent running, idle", "an OTA client logged in", "after it left"):
            if label == "an OTA client logged in":
                link = AgentLink("127.0.0.1", port, PASSWORD, timeout=30)
                await link.open()
                await link.info()
            now = await session.eval(ALLOC)
            idle = now if idle is None else idle
            print(f"{label:34s} {now:7d} (idle {now - idle:+d})")
            if label == "an OTA client logged in":
                await link.close()
                await asyncio.sleep(0.5)  # (not a sync point: the figure is what it is then)
    finally:
        await session.close()


if __name__ == "__main__":
    install.AGENT_HEAP = 0  # try every size: the check would refuse the small ones
    if sys.argv[1:] == ["--map"]:
        asyncio.run(heap_map())
    else:
        asyncio.run(main([int(a) for a in sys.argv[1:]] or [64, 68, 72, 76, 80, 96]))
