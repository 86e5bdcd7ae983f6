"""Fixtures for the TUI and the DeviceManager: every test gets its own data dir and config
file (never the user's), virtual boards with a temporary root, and a USB port listing the test
controls (there is no hardware here)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mptui.config import load_config
from mptui.services.discovery import UsbPort
from mptui.services.manager import DeviceManager
from mptui.services.sources import UsbSource

# the OTA and Logs tabs' tests use the virtual boards with the real agent of
# tests/ota/agentboards.py and tests/remoteio/rioboards.py
sys.path[:0] = [str(Path(__file__).resolve().parent.parent / name) for name in ("ota", "remoteio")]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("MPTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MPTUI_CONFIG", str(tmp_path / "config" / "config.toml"))
    (tmp_path / "config").mkdir()
    return tmp_path


@pytest.fixture
def config_file(isolated) -> Path:
    return isolated / "config" / "config.toml"


class FakePorts:
    """The USB port listing: tests plug and unplug boards by changing `ports`."""

    def __init__(self) -> None:
        self.ports: list[UsbPort] = []

    def __call__(self) -> list[UsbPort]:
        return list(self.ports)

    def plug(self, device: str, serial: str = "E660583883", description: str = "Pico") -> None:
        self.ports.append(UsbPort(device, serial, 0x2E8A, 0x0005, description))

    def unplug(self, device: str) -> None:
        self.ports = [p for p in self.ports if p.device != device]


@pytest.fixture
def utc():
    """Times shown in UTC (snapshots show the same times everywhere)."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.fixture
def usb_ports() -> FakePorts:
    return FakePorts()


@pytest.fixture
def make_manager(isolated, usb_ports) -> Callable[..., DeviceManager]:
    def make(**kw) -> DeviceManager:
        kw.setdefault("usb", UsbSource(usb_ports, interval=0.05))
        kw.setdefault("network", False)  # announcements: only where a test asks (on loopback)
        kw.setdefault("virtual_root", isolated / "boards")
        return DeviceManager(load_config(), **kw)

    return make


@pytest.fixture
def make_app(make_manager):
    from mptui.ui.app import MptuiApp

    def make(device: str | None = None, *, tabs=None, **kw):
        manager = make_manager(**kw)
        if tabs is None:
            return MptuiApp(manager.config, manager, device=device)
        return MptuiApp(manager.config, manager, device=device, tabs=tabs)

    return make


async def wait_until(predicate: Callable[[], object], timeout: float = 15.0, what: str = ""):
    """Poll `predicate` (cheap, in-process state) until true; the timeout is generous."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.02)  # polling: the deadline above ends it


@pytest.fixture
async def agent_boards(isolated):
    """async agent_boards(*names, secrets=...) -> [AgentBoard]: virtual boards running the real
    OTA agent, started concurrently, each answering on a free port; stopped after the test."""
    from .ota_help import ota_secrets, start_board

    started = []

    async def start(*names: str, secrets=None):
        secrets = secrets or ota_secrets(isolated)
        return await asyncio.gather(*(
            start_board(isolated / "agents" / name, secrets, on_start=started.append)
            for name in names))

    yield start
    await asyncio.gather(*(b.session.close() for b in started), return_exceptions=True)


@pytest.fixture
def project(isolated, monkeypatch) -> Path:
    """The current directory for the Files tab: `~/proj`, with home a temporary folder, so it
    shows the same in every run."""
    monkeypatch.setenv("HOME", str(isolated))
    proj = isolated / "proj"
    proj.mkdir()
    monkeypatch.chdir(proj)
    return proj


@pytest.fixture
def board_root(isolated) -> Path:
    """The virtual board's own `/` folder (files put here are on the board when it starts)."""
    root = isolated / "boards" / "default"
    root.mkdir(parents=True)
    return root
