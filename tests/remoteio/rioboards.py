"""Virtual boards running the real agent with RemoteIO on, and an app that prints on request.
Shared by the tests (through conftest.py) and bench/remoteio_soak.py.

The app (main.py, in the board's main thread as on a real board) registers RemoteIO handlers
and waits; `start(lines, rate, tag)` makes it print `<tag> <i>` lines at `rate` lines a second
(0: as fast as it can), then `<tag> done`. `progress()` is its own count of lines printed.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "ota"))

from agentboards import WAIT, AgentBoard, free_port, start_board

from mptui.services.logs import OUT, LogLine
from mptui.services.ota.project import Secrets
from mptui.services.remoteio import RemoteIO, RemoteIOError

APP = """\
import time
import remoteio

state = {"n": 0, "run": None}


@remoteio.on("start")
def start(lines, rate=1000, tag="line"):
    state["run"] = (lines, rate, tag)
    return "started"


@remoteio.on("progress")
def progress():
    return state["n"]


@remoteio.on("add")
def add(a, b=0):
    return a + b


@remoteio.on("fail")
def fail(why="on purpose"):
    raise ValueError(why)


@remoteio.on("odd")
def odd():
    return object()


while True:
    while state["run"] is None:
        time.sleep_ms(5)
    lines, rate, tag = state["run"]
    state["run"] = None
    t0 = time.ticks_ms()
    for i in range(lines):
        print(tag, i)
        state["n"] += 1
        if rate:
            due = i * 1000 // rate
            while time.ticks_diff(time.ticks_ms(), t0) < due:
                time.sleep_ms(1)
    print(tag, "done")
"""


@dataclass
class RioBoard:
    agent: AgentBoard
    port: int  # RemoteIO
    password: str = ""
    opened: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.agent.name

    @property
    def address(self) -> str:
        return f"rio://127.0.0.1:{self.port}"

    async def connect(self, password: str | None = None, **kw) -> RemoteIO:
        rio = RemoteIO("127.0.0.1", self.port, self.password if password is None else password,
                       timeout=WAIT, **kw)
        self.opened.append(rio)
        await rio.open()
        return rio

    async def call(self, name: str, args: dict | None = None):
        rio = await self.connect()
        try:
            return await rio.call(name, args)
        finally:
            await rio.close()

    async def wait_remoteio(self, handler: str = "ping", timeout: float = WAIT) -> None:
        """Until the RemoteIO server answers a call to `handler` (after a boot). The agent
        starts in boot.py, before main.py: "ping" (the agent's own) is answered while the
        app's handlers may not be registered yet; one of the app's says the app runs."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                await self.call(handler)
                return
            except RemoteIOError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.05)  # polling: the deadline above ends it

    async def close(self) -> None:
        for rio in self.opened:
            await rio.close()
        await self.agent.session.close()


async def start_rio_board(root: Path, app: str = APP, password: str = "",
                          ready: str = "progress", **agent) -> RioBoard:
    """A virtual board with the agent (RemoteIO on a free port, no announcements unless asked)
    running `app` as main.py; returns once the app answers a call to its handler `ready`
    ("ping": once the agent does)."""
    agent.setdefault("remoteio_port", free_port())  # (start_board turns announcements off)
    agent.setdefault("name", root.name)  # as `mptui ota install -d virtual:NAME` sets it
    secrets = Secrets(root.parent / f".{root.name}-secrets.toml", password=password) \
        if password else None
    board = await start_board(root, secrets, good_after=0, **agent)
    # main.py goes in after the install: an app that never ends would hold up the install's
    # reset (which waits for the REPL), so the board is power-cycled into it instead.
    (root / "main.py").write_text(app)
    board.power_cycle()
    rb = RioBoard(board, agent["remoteio_port"], password)
    await rb.wait_remoteio(ready)
    return rb


class Collector:
    """Collects one source of LogLines (e.g. agent_lines) in a task until `until` is seen."""

    def __init__(self, lines, until: str) -> None:
        self.lines: list[LogLine] = []
        self.until = until
        self.connected = asyncio.Event()
        self.finished = asyncio.Event()
        self._source = lines
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async for line in self._source:
                self.lines.append(line)
                if line.kind != OUT and line.text.startswith(("connected", "reconnected",
                                                              "watching")):
                    self.connected.set()
                if line.kind == OUT and line.text == self.until:
                    break
        finally:
            self.finished.set()
            await self._source.aclose()

    @property
    def texts(self) -> list[str]:
        return [line.text for line in self.lines if line.kind == OUT]

    @property
    def drops(self) -> int:
        return sum(line.dropped for line in self.lines)

    async def wait(self, timeout: float = 60.0) -> None:
        await asyncio.wait_for(self.finished.wait(), timeout)

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
