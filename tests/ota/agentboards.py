"""Virtual boards running the real OTA agent, releases to push to them, and cut trials.
Shared by the tests (through conftest.py) and the bench scripts (bench/ota*.py).

Each board gets its own folder and a free loopback port; the agent is installed through the
engine (Session.fs), exactly as `mptui ota install` does. The Session stays open for the board's
lifetime: it keeps the board's output drained.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from helpers import free_port  # the tests' one port reserve, imported from here too

from mptui.board import Session
from mptui.services.ota import actions as ota  # make_link is looked up there
from mptui.services.ota import push
from mptui.services.ota.install import install
from mptui.services.ota.links import AgentLink, OtaError
from mptui.services.ota.project import Project, Secrets
from mptui.transports.virtual import VirtualTransport

PASSWORD = "correct horse"
KEY = "signing-key-for-tests"
WAIT = 30.0  # seconds; only turns a hang into a failure


def board_tree(root: Path) -> dict[str, bytes]:
    """Every file of a board's folder, bytes included."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def release_tree(root: Path) -> dict[str, bytes]:
    """The board's files that belong to releases (not the agent, its state, config, data)."""
    skip = ("mptui_agent/", ".ota/", "config/", "data/", "boot.py")
    return {p: d for p, d in board_tree(root).items() if not p.startswith(skip)}


def app_files(version: str, extra: int = 0, drop: bool = False) -> dict[str, bytes]:
    """A release whose main.py checks that its modules are all of its own version, then
    appends `<version> ok` (or `<version> MIXED`) to /data/runs.txt."""
    files = {
        "main.py": (
            f"VERSION = {version!r}\n"
            "import os\n"
            "try:\n os.mkdir('/data')\nexcept OSError:\n pass\n"
            "import appinfo\n"
            "ok = all(v == VERSION for v in appinfo.versions())\n"
            "with open('/data/runs.txt', 'a') as f:\n"
            "    f.write(VERSION + (' ok' if ok else ' MIXED') + '\\n')\n"
        ).encode(),
        "lib/appinfo.py": (
            "def versions():\n"
            "    import mod_a\n"
            "    out = [mod_a.V]\n"
            + "".join(f"    import pkg.m{i}\n    out.append(pkg.m{i}.V)\n" for i in range(extra))
            + "    return out\n"
        ).encode(),
        "lib/mod_a.py": f"V = {version!r}\n".encode() + b"# padding\n" * 200,
        "static/blob.bin": bytes(range(256)) * 8,  # unchanged between releases
    }
    if extra:
        files["lib/pkg/__init__.py"] = b""
    for i in range(extra):
        files[f"lib/pkg/m{i}.py"] = f"V = {version!r}\n".encode() + b"#" * (300 + i)
    if not drop:
        files["lib/old_only.py"] = b"X = 1\n"
    return files


def make_project(tmp: Path, version: str, files: dict[str, bytes], secrets: Secrets,
                 boards: list[str] | None = None) -> Project:
    src = tmp / f"release-{version}"
    for rel, data in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    return Project(tmp / "mptui.toml", version, src, secrets=secrets, boards=boards or [])


@dataclass
class AgentBoard:
    name: str
    root: Path
    port: int
    session: Session

    @property
    def address(self) -> str:
        return f"ota://127.0.0.1:{self.port}"

    @property
    def vboard(self):
        return self.session.transport.board

    def power_cycle(self) -> None:
        self.vboard.power_cycle()

    def state(self) -> dict:
        try:
            return json.loads((self.root / ".ota/state.json").read_text())
        except (OSError, ValueError):
            return {}

    def runs(self) -> list[str]:
        try:
            return (self.root / "data/runs.txt").read_text().split("\n")[:-1]
        except OSError:
            return []

    async def wait_agent(self, password: str = PASSWORD, timeout: float = WAIT) -> dict:
        """Until the agent answers; returns its info."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            link = AgentLink("127.0.0.1", self.port, password, timeout=2.0)
            try:
                await link.open()
                info = await link.info()
                mine = json.loads((self.root / "config/mptui_agent.json").read_text())["id"]
                assert info.get("id") == mine, f"{self.name}: another board answers on {self.port}"
                return info
            except OtaError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.05)  # polling: the deadline above ends it
            finally:
                await link.close()

    async def wait_for(self, predicate, timeout: float = WAIT, what: str = "") -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.name}: timed out waiting for {what or predicate}")
            await asyncio.sleep(0.02)  # polling: the deadline above ends it

    async def wait_run(self, version: str, count: int | None = None) -> None:
        """Until the app has started (count times in all, if given) on `version`."""
        def seen():
            runs = self.runs()
            return bool(runs) and runs[-1].startswith(version + " ") and (
                count is None or len(runs) >= count)

        await self.wait_for(seen, what=f"the app to run {version}")

    async def power_up_and_run(self, version: str) -> None:
        """Power the board up again, untouched, until its app has run `version` once more.
        After a push over the engine, mptui's online check ran code at the REPL: that stops
        main.py if it still runs then (as any host's operation does once Session.hard_reset's
        boot grace is over), which a loaded machine can make the app's first run."""
        runs = len(self.runs())
        self.power_cycle()
        await self.wait_run(version, count=runs + 1)




def stall_transfers(monkeypatch, targets: list[str]) -> asyncio.Event:
    """Pushes to these targets stop after their first file, until cancelled (the real link to
    the real agent otherwise). The event is set once every one of them has sent a file."""
    real_link = ota.make_link
    waiting = set(targets)
    all_sent = asyncio.Event()

    def make_link(target, *args, **kwargs):
        link = real_link(target, *args, **kwargs)
        if target in targets:
            send_file = link.send_file

            async def stalls(*args, **kwargs):
                await send_file(*args, **kwargs)
                waiting.discard(target)
                if not waiting:
                    all_sent.set()
                await asyncio.Event().wait()

            link.send_file = stalls
        return link

    monkeypatch.setattr(ota, "make_link", make_link)
    return all_sent


async def start_board(root: Path, secrets: Secrets | None, good_after: float = 0.3,
                      on_start=None, link: str | None = None, heap: str | None = None,
                      **agent) -> AgentBoard:
    """A virtual board in `root` with the agent installed and answering on a free port (on a
    link profile and with a free heap, as in virtual:NAME?link=LINK&heap=HEAP, when given).
    Its RemoteIO gets a free port too and it announces nothing unless asked: the defaults
    (2019, announcements to 127.0.0.1:2020) are shared by every board on this computer."""
    agent.setdefault("remoteio_port", free_port())
    agent.setdefault("announce", "")
    root.mkdir(parents=True)
    name = root.name
    transport = VirtualTransport(name, root=root, link=link, heap=heap)
    session = Session(transport.address, transport=transport)
    await session.connect()
    board = AgentBoard(name, root, free_port(), session)
    if on_start:
        on_start(board)
    await install(session, {"port": board.port, "good_after": good_after, **agent}, secrets)
    await session.hard_reset()
    await board.wait_agent(secrets.password if secrets else "")
    return board


# -- cut trials ------------------------------------------------------------------------------


@dataclass
class Trial:
    phase: str
    cut_at: str  # where the power went: "transfer 37%", "commit +1.2 ms", ...
    outcome: str  # "old" or "new"
    finished_at_boot: bool  # the board found a journal and completed the commit at boot


async def cut_trial(board: AgentBoard, old: Project, new: Project, phase: str,
                    rng: random.Random) -> Trial:
    """Push `new` to a board running `old` (settled) and cut its power at a random point of the
    transfer or of the commit. The board must come back running exactly one of the two."""
    runs = len(board.runs())
    fired = threading.Event()
    where = []

    def cut(label: str) -> None:
        if not fired.is_set():
            fired.set()
            board.power_cycle()
            where.append(label)

    if phase == "transfer":
        point = rng.random()

        def on_event(ev):
            if ev.phase == "transfer" and ev.bytes_total and ev.bytes_done >= point * ev.bytes_total:
                cut(f"transfer {100 * ev.bytes_done // ev.bytes_total}%")
    else:
        journal = board.root / ".ota/journal.json"
        delay = rng.choice([0.0, rng.uniform(0, 0.002), rng.uniform(0, 0.01)])
        wait = rng.random() < 0.75  # else: cut at once, maybe before the journal is written

        def killer():
            t0 = time.monotonic()
            while wait and not journal.exists() and time.monotonic() - t0 < 0.5:
                pass
            t1 = time.monotonic()
            time.sleep(delay)  # not a wait: the cut's random point (0-10 ms) after the event
            cut(f"commit {'journal' if wait else 'sent'} +{1000 * (time.monotonic() - t1):.1f} ms")

        def on_event(ev):
            if ev.phase == "commit" and not fired.is_set():
                threading.Thread(target=killer, daemon=True).start()

    # (the trials go back and forth between the two releases: every other one is older)
    await push(board.address, new, on_event=on_event, online_timeout=WAIT, allow_downgrade=True)
    await board.wait_for(fired.is_set, what="the cut")
    await board.wait_agent()
    await board.wait_for(lambda: len(board.runs()) > runs, what="the app to start again")
    tree = release_tree(board.root)
    old_files, new_files = old.files(), new.files()
    assert tree in (old_files, new_files), f"{where}: a mixed release: {sorted(tree)}"
    outcome = "new" if tree == new_files else "old"
    version = (new if outcome == "new" else old).version
    await board.wait_run(version)
    assert board.runs()[-1] == f"{version} ok", board.runs()[-3:]
    info = await board.wait_agent()
    assert info["v"] == version and not info["busy"]
    # (on the old release, `last` still tells about an earlier commit)
    finished = outcome == "new" and "finished at boot" in info.get("last", "")
    await board.wait_for(lambda: board.state().get("good"), what="the release marked good")
    return Trial(phase, where[0], outcome, finished)
