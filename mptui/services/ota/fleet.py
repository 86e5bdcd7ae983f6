"""The OTA dashboard's model, with no UI: which boards (the project's `[ota] boards`, then the
DeviceManager's), what each one runs, and how pushes to them go.

Boards reached over the agent's TCP server (`ota://`, or a config name with an `ota` option)
are asked what they run whenever asked for. Boards reached through the engine (USB, virtual,
bridges) are asked only when the DeviceManager holds them idle at the REPL (asking runs code
at the raw REPL, which would stop a running program), or, for a project board the manager does
not know, on an explicit refresh. A push connects engine boards through the DeviceManager and
reuses its Session, so the board list and the REPL see what the push does.

Every change is announced through `on_change(keys)` (None: the list itself changed); progress
events are frequent, so a UI should coalesce its repaints.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from mptui.board import BoardError
from mptui.board.session import IDLE
from mptui.errors import MptuiError
from mptui.services.ota import BoardStatus, PushEvent, PushResult, push_fleet, status
from mptui.services.ota.history import History, PushRecord, last_results
from mptui.services.ota.install import InstallResult, board_settings, install
from mptui.services.ota.keys import board_id
from mptui.services.ota.links import EngineLink, OtaError
from mptui.services.ota.project import Project, ProjectError, load_project

Change = Callable[[set[str] | None], None]


@dataclass
class FleetBoard:
    key: str  # the target handed to push/status, and the board's name in the history
    name: str
    manager_key: str | None = None  # an engine board the DeviceManager knows
    in_project: bool = False  # listed in [ota] boards
    via_agent: bool = False  # over the agent's TCP server; else through the engine
    agent: str = ""  # an engine board's agent server too (ota://): asked there when its link
    # is not free to ask
    status: BoardStatus | None = None  # what the board said when last asked
    note: str = ""  # why it was not asked
    checking: bool = False
    pushing: bool = False
    progress: PushEvent | None = None  # the push under way (or the last one's final event)
    phases: list[str] = field(default_factory=list)  # the phases that push went through
    last: tuple[float, PushResult] | None = None  # the latest result in the history, and when

    @property
    def has_agent(self) -> bool:
        return bool(self.status and self.status.reachable and self.status.agent)


class OtaFleet:
    def __init__(self, manager, history: History | None = None,
                 on_change: Change | None = None) -> None:
        self.manager = manager
        self.history = history or History()
        self.on_change: Change = on_change or (lambda keys: None)
        self.project: Project | None = None
        self.project_error = ""  # why there is no project, or why its release cannot be read
        self.release_files = 0
        self.release_bytes = 0
        self.boards: dict[str, FleetBoard] = {}
        self.records: list[PushRecord] = []  # the history, oldest first
        self.running: dict[str, asyncio.Task] = {}  # a push's task a board, while it runs

    # -- the project and the list -----------------------------------------------------------

    async def open_project(self, path: Path | None = None) -> None:
        """Load `path` (a folder or its mptui.toml; None: found from the current directory
        up) off the event loop, and the history; then rebuild the list, all at once."""
        project, error, files = None, "", {}
        try:
            project = await asyncio.to_thread(load_project, path)
            files = await asyncio.to_thread(project.files)
        except ProjectError as e:
            error = str(e)  # no project, or one whose release cannot be read
        records = await asyncio.to_thread(self.history.load)
        self.project, self.project_error, self.records = project, error, records
        self.release_files = len(files)
        self.release_bytes = sum(len(data) for data in files.values())
        self.boards = {}
        self.sync()
        self.on_change(None)

    def sync(self) -> bool:
        """Rebuild the list from the project and the DeviceManager's boards, keeping what is
        known of each board; True if the list (keys or names) changed."""
        wanted = self._wanted()
        before = [(k, b.name) for k, b in self.boards.items()]
        last = None
        boards = {}
        for key, fresh in wanted.items():
            row = self.boards.get(key)
            if row is None:
                last = last if last is not None else last_results(self.records)
                fresh.last = last.get(key)
                row = fresh
            else:
                row.name, row.manager_key = fresh.name, fresh.manager_key
                row.in_project, row.via_agent = fresh.in_project, fresh.via_agent
                row.agent = fresh.agent
            boards[key] = row
        self.boards = boards
        return before != [(k, b.name) for k, b in boards.items()]

    def _wanted(self) -> dict[str, FleetBoard]:
        if self.project is None:
            return {}
        rows: dict[str, FleetBoard] = {}
        for entry in self.project.boards:
            if self._via_agent(entry):
                rows.setdefault(entry, FleetBoard(entry, short_name(entry), in_project=True,
                                                  via_agent=True))
                continue
            info = self.manager.find(entry)
            key = info.key if info else entry
            rows.setdefault(key, FleetBoard(key, info.name if info else entry,
                                            info.key if info else None, in_project=True))
        for info in sorted(self.manager.boards(), key=lambda b: b.list_order):
            if not info.present and not info.connected:
                continue
            if info.kind == "config" and self._via_agent(info.name):
                rows.setdefault(info.name, FleetBoard(info.name, info.name, via_agent=True))
            elif info.agent_only:  # a board heard announcing itself: its agent's OTA server
                if info.ota and not any(row.agent == info.ota for row in rows.values()):
                    rows.setdefault(info.ota, FleetBoard(info.ota, info.name, via_agent=True))
            else:
                row = rows.setdefault(info.key, FleetBoard(info.key, info.name, info.key))
                row.agent = row.agent or info.ota
        return rows

    def _via_agent(self, name: str) -> bool:
        """Pushed over its OTA agent's TCP server (ota://, a config board with an ota
        option), rather than through a link the manager holds."""
        try:
            return self.manager.resolver.resolve(name).ota is not None
        except MptuiError:
            return False

    # -- asking the boards ------------------------------------------------------------------

    async def refresh(self, keys: list[str] | None = None, *, explicit: bool = False) -> None:
        """Ask the boards (all, or `keys`) what they run, all at once. `explicit`: the user
        asked, so project boards reached through a link of their own are asked too."""
        rows = [self.boards[k] for k in (keys if keys is not None else list(self.boards))
                if k in self.boards]
        await asyncio.gather(*(self._ask(row, explicit) for row in rows if not row.pushing))

    async def _ask(self, row: FleetBoard, explicit: bool) -> None:
        link, target = None, row.key
        if row.manager_key:
            info = self._manager_board(row.manager_key)
            session = self.manager.session(row.manager_key)
            if info is not None and session is not None and info.state == IDLE:
                link = EngineLink(session)
            elif row.agent:  # its link is not free to ask (or not there): its agent is
                target = row.agent
            elif info is None or session is None or not info.connected:
                row.note = "not connected"
            else:
                row.note = f"{info.label}: not asked"
            if link is None and target == row.key:
                self.on_change({row.key})
                return
        elif not row.via_agent and not explicit:
            row.note = "not asked yet (a refresh asks it)"
            self.on_change({row.key})
            return
        row.checking, row.note = True, ""
        self.on_change({row.key})
        try:
            secrets = self.project.secrets if self.project else None
            row.status = await status(target, secrets, link=link,
                                      resolver=self.manager.resolver)
        except (MptuiError, OSError, ValueError) as e:
            kind = e.kind if isinstance(e, OtaError) else "unreachable"
            row.status = BoardStatus(row.key, False, error=str(e) or type(e).__name__,
                                     error_kind=kind)
        finally:
            row.checking = False
            self.on_change({row.key})
        if link is not None and row.status.reachable:  # its agent's id: one board, one entry
            self.manager.identify(row.manager_key, board_id(row.status.info.get("id")))

    def _manager_board(self, key: str):
        try:
            return self.manager.board(key)
        except KeyError:
            return None

    # -- pushing ----------------------------------------------------------------------------

    async def push(self, keys: list[str], full: bool = False,
                   allow_downgrade: bool = False) -> PushRecord | None:
        """Push the project's release to these boards in parallel (those not already being
        pushed); the results go to the history. None if there was nothing to do.
        `allow_downgrade`: boards running a newer version install it all the same."""
        project = self.project
        rows = [self.boards[k] for k in dict.fromkeys(keys)
                if k in self.boards and not self.boards[k].pushing]
        if project is None or not rows:
            return None
        for row in rows:
            row.pushing, row.progress, row.phases = True, None, []
        self.on_change({row.key for row in rows})
        try:
            early = await asyncio.gather(*(self._connect(row, project) for row in rows))
            failed = {r.board: r for r in early if r is not None}
            targets = [row.key for row in rows if row.key not in failed]
            results = await push_fleet(targets, project, full=full, on_event=self._on_event,
                                       link_for=self._link_for, running=self.running,
                                       allow_downgrade=allow_downgrade,
                                       resolver=self.manager.resolver)
        finally:
            for row in rows:
                row.pushing = False
        by_key = {**failed, **{r.board: r for r in results}}
        record = History.record([by_key[row.key] for row in rows], project.version, full,
                                project.path)
        for row in rows:
            result = by_key[row.key]
            row.last = (record.when, result)
            if result.ok:  # it answered with this version (a refresh may not be able to ask)
                row.status = replace(row.status or BoardStatus(row.key, True), reachable=True,
                                     release=result.version, error="", error_kind="")
        self.records.append(record)
        self.on_change({row.key for row in rows})
        await asyncio.to_thread(self.history.add, record)
        await self.refresh([row.key for row in rows])
        return record

    async def install(self, key: str) -> InstallResult:
        """Install or upgrade the agent on a board reached through its own link (USB, virtual,
        a bridge) with the project's settings and this board's keys, then reset it so that
        the agent runs; progress in its row as a push's. BoardError (or TransportError) when
        it cannot be done."""
        row, project = self.boards.get(key), self.project
        if row is None or project is None:
            raise BoardError("no such board in the OTA project")
        if not row.manager_key:
            raise BoardError(f"{row.name} is reached only through its agent: the agent is "
                             "installed through a board's own link (USB, virtual, a bridge)")
        row.pushing, row.progress, row.phases = True, None, []
        self._on_event(PushEvent(key, "connect"))
        try:
            session = await self.manager.connect(row.manager_key)
            info = self.manager.board(row.manager_key)
            named = info.name if info.kind in ("config", "virtual") else None
            settings = board_settings(project.agent, session.address, named)
            result = await install(session, settings, project.secrets, progress=lambda done,
                                   total: self._on_event(PushEvent(key, "install", done, total)))
            self.manager.identify(row.manager_key, result.board_id)
            self._on_event(PushEvent(key, "reboot"))
            await session.hard_reset()
            self._on_event(PushEvent(key, "done"))
        except (MptuiError, OSError) as e:
            self._on_event(PushEvent(key, "failed", message=str(e)))
            raise BoardError(str(e)) from None
        finally:  # the outcome is the tab's to tell; the row shows what the board runs
            row.pushing, row.progress, row.phases = False, None, []
            self.on_change({key})
        await self.refresh([key])
        return result

    def cancel(self, keys: list[str]) -> int:
        """Stop the pushes to these boards (see push_fleet); how many were stopped."""
        tasks = [self.running[k] for k in keys if k in self.running and not self.running[k].done()]
        for task in tasks:
            task.cancel()
        return len(tasks)

    async def _connect(self, row: FleetBoard, project: Project) -> PushResult | None:
        """Connect an engine board through the DeviceManager; a failed result if it cannot."""
        if not row.manager_key:
            return None
        try:
            await self.manager.connect(row.manager_key)
        except (MptuiError, KeyError) as e:
            error = OtaError("unreachable", str(e))
            self._on_event(PushEvent(row.key, "failed", message=str(error)))
            return PushResult(row.key, False, project.version, error=str(error),
                              error_kind=error.kind)
        return None

    def _link_for(self, target: str):
        row = self.boards.get(target)
        session = self.manager.session(row.manager_key) if row and row.manager_key else None
        return EngineLink(session) if session is not None else None

    def _on_event(self, event: PushEvent) -> None:
        row = self.boards.get(event.board)
        if row is None:
            return
        row.progress = event
        if not row.phases or row.phases[-1] != event.phase:
            row.phases.append(event.phase)
        self.on_change({row.key})


def short_name(target: str) -> str:
    """How a board is named in lists: `ota://HOST:PORT` without the scheme."""
    return target[6:].strip("/") if target.lower().startswith("ota://") else target
