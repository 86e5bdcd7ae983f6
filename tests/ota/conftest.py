"""Virtual boards running the real OTA agent, and releases to push to them.

Each board gets its own folder and a free loopback port; the agent is installed through the
engine (Session.fs), exactly as `mptui ota install` does. The Session stays open for the board's
lifetime: it keeps the board's output drained.
"""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from mptui.board import Session
from mptui.services.ota_install import install
from mptui.services.ota_links import AgentLink, OtaError
from mptui.services.ota_project import Project, Secrets
from mptui.transports.virtual import VirtualTransport

PASSWORD = "correct horse"
KEY = "signing-key-for-tests"
WAIT = 30.0  # seconds; only turns a hang into a failure


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
                return await link.info()
            except OtaError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.05)
            finally:
                await link.close()

    async def wait_for(self, predicate, timeout: float = WAIT, what: str = "") -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.name}: timed out waiting for {what or predicate}")
            await asyncio.sleep(0.02)

    async def wait_run(self, version: str, count: int | None = None) -> None:
        """Until the app has started (count times in all, if given) on `version`."""
        def seen():
            runs = self.runs()
            return bool(runs) and runs[-1].startswith(version + " ") and (
                count is None or len(runs) >= count)

        await self.wait_for(seen, what=f"the app to run {version}")


@pytest.fixture
def secrets(tmp_path) -> Secrets:
    return Secrets(tmp_path / ".mptui-secrets.toml", password=PASSWORD, signing_key=KEY)


@pytest.fixture
async def make_board(tmp_path, secrets):
    """async make_board(name, good_after=0.3, **agent settings) -> AgentBoard (agent running)."""
    boards: list[AgentBoard] = []

    async def make(name: str = "b", good_after: float = 0.3, sec: Secrets | None = secrets,
                   **agent) -> AgentBoard:
        root = tmp_path / "boards" / name
        root.mkdir(parents=True)
        port = free_port()
        session = Session(f"virtual:{name}", transport=VirtualTransport(name, root=root))
        await session.connect()
        board = AgentBoard(name, root, port, session)
        boards.append(board)
        await install(session, {"port": port, "good_after": good_after, **agent}, sec)
        await session.hard_reset()
        await board.wait_agent(sec.password if sec else "")
        return board

    yield make
    await asyncio.gather(*(b.session.close() for b in boards), return_exceptions=True)
