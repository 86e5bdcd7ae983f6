"""Helpers for the OTA tab's tests: projects as `mptui ota init` makes them, the tab as the user
sees it, and virtual boards running the real agent (tests/ota/agentboards.py), also from a loop
of their own for snapshot tests (snap_compare runs the app on its own loop)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from agentboards import KEY, PASSWORD, start_board  # tests/ota, on sys.path (conftest.py)

from mptui.services.ota.project import Secrets
from mptui.ui.widgets.ota_board_detail import OtaBoardDetail
from mptui.ui.widgets.ota_tab import OtaTab

from .conftest import wait_until

__all__ = ["LoopThread", "asked", "cells", "detail", "open_tab", "ota_secrets", "start_board",
           "write_project"]


def ota_secrets(folder: Path, password: str = PASSWORD, key: str = KEY) -> Secrets:
    return Secrets(folder / ".mptui-secrets.toml", password=password, signing_key=key)


def write_project(folder: Path, version: str, files: dict[str, bytes], boards: list[str],
                  secrets: Secrets | None = None) -> Path:
    """A project as `mptui ota init` makes one: mptui.toml [ota], app/, the secrets file."""
    for rel, data in files.items():
        (folder / "app" / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / "app" / rel).write_bytes(data)
    listed = ", ".join(f'"{b}"' for b in boards)
    (folder / "mptui.toml").write_text(f'[ota]\nversion = "{version}"\nboards = [{listed}]\n')
    secrets = secrets or ota_secrets(folder)
    secrets.path = folder / ".mptui-secrets.toml"
    secrets.save()
    return folder


async def open_tab(app, pilot) -> OtaTab:
    """`o`, then until the project has been read."""
    await pilot.press("o")
    tab = app.screen.query_one(OtaTab)
    await wait_until(lambda: tab.fleet.project is not None or tab.fleet.project_error,
                     what="the project read")
    return tab


async def asked(tab: OtaTab, *keys: str) -> None:
    """Until these boards have answered (or failed to) and a repaint came after."""
    def done():
        rows = [tab.fleet.boards.get(k) for k in keys]
        return all(r is not None and r.status is not None and not r.checking for r in rows)

    await wait_until(done, what=f"status of {keys}")
    await wait_until(lambda: not tab._dirty and tab._repaint is None, what="the repaint")


def cells(tab: OtaTab, key: str) -> list[str]:
    """A board's row as the table shows it."""
    return [str(cell).strip() for cell in tab.table.get_row(key)]


def detail(tab: OtaTab) -> str:
    return str(tab.query_one(OtaBoardDetail).render())


class LoopThread:
    """An event loop in a thread of its own, for boards that outlive one test's loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro, timeout: float = 120.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
