"""Over-the-air updates: push a release to one board or a fleet, in parallel, with progress.

A push to one board goes through phases, each reported as a PushEvent:
connect -> verify (the board checks the manifest, signed for it: its key, a release counter
above all it has installed, no older version unless allow_downgrade) -> transfer (changed files only, or
all with full=True) -> commit (atomic, journaled on the board) -> reboot -> online (the board
answers with the new version) -> done | failed. The result is a PushResult. The OTA tab and
the CLI both use `push_fleet()`.

Targets are strings, resolved as everywhere (services/boards.py): `ota://HOST[:PORT]` (the
agent's TCP server), a config board name with an `ota = "HOST[:PORT]"` option (same), or any
device address (USB, virtual...: the engine). `resolver` (default: the user's config) carries
the command line's WebREPL password to engine links.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mptui.errors import MptuiError
from mptui.services.boards import Resolver
from mptui.services.ota.keys import board_id, next_seq, remember_board
from mptui.services.ota.links import AgentLink, EngineLink, OtaError
from mptui.services.ota.project import Project, ProjectError, Release, Secrets

PHASES = ("connect", "verify", "transfer", "commit", "reboot", "online", "done", "failed")
CANCELLED = "cancelled (a transfer is undone; a commit already sent stands)"


@dataclass(frozen=True)
class PushEvent:
    board: str
    phase: str
    files_done: int = 0
    files_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    message: str = ""


@dataclass
class PushResult:
    board: str
    ok: bool
    version: str = ""
    files: int = 0  # files sent
    bytes: int = 0  # bytes sent
    seconds: float = 0.0
    up_to_date: bool = False
    error: str = ""
    error_kind: str = ""


@dataclass
class BoardStatus:
    board: str
    reachable: bool
    agent: str = ""
    release: str | None = None
    previous: str | None = None
    good: bool = True
    unclean_boots: int = 0
    last: str = ""
    error: str = ""
    info: dict = field(default_factory=dict)
    error_kind: str = ""  # one of ota.links.KINDS when not reachable


# -- targets -----------------------------------------------------------------------------------


def make_link(target: str, secrets: Secrets | None = None, timeout: float = 15.0,
              resolver: Resolver | None = None):
    """An unopened AgentLink (the board's agent is known) or EngineLink (its REPL link) for
    a target string. AddressError (a usage error) for a name that names no board."""
    ref = (resolver or Resolver()).resolve(target)
    if ref.ota is not None:
        password = secrets.password if secrets else ""
        fallback = secrets.previous_password if secrets else ""
        return AgentLink(ref.ota[0], ref.ota[1], password, timeout, fallback)
    if ref.address is None:
        raise OtaError("proto", f"{target}: no OTA agent known for it (ota://HOST[:PORT], or a "
                       "config board with an ota option)")
    # a USB board drops off the bus when it resets: its session reconnects
    return EngineLink((resolver or Resolver()).session(ref, reconnect=True))


# -- one board ---------------------------------------------------------------------------------


class _Reporter:
    def __init__(self, board: str, on_event: Callable[[PushEvent], None] | None) -> None:
        self.board, self.on_event = board, on_event
        self.files_total = self.bytes_total = self.files_done = self.bytes_done = 0

    def __call__(self, phase: str, message: str = "", **counts) -> None:
        for k, v in counts.items():
            setattr(self, k, v)
        if self.on_event:
            self.on_event(PushEvent(self.board, phase, self.files_done, self.files_total,
                                    self.bytes_done, self.bytes_total, message))


async def push(target: str, project: Project, *, full: bool = False,
               on_event: Callable[[PushEvent], None] | None = None, link=None,
               online_timeout: float = 30.0, builds: dict | None = None,
               allow_downgrade: bool = False, resolver: Resolver | None = None) -> PushResult:
    """Push the project's release to one board; never raises for board problems. The board
    refuses a version older than the one it runs unless `allow_downgrade` (the manifest then
    says so, signed)."""
    started = time.monotonic()
    report = _Reporter(target, on_event)
    result = PushResult(target, False, project.version)
    secrets = project.secrets
    try:
        report("connect")
        link = link or make_link(target, secrets, resolver=resolver)
        await link.open()
        try:
            info = await link.info()
            board = link.board_id or board_id(info.get("id"))
            if board and secrets is not None:
                remember_board(secrets.path, board, target)  # for bundles (ota/keys.py)
            release = await _build(project, info.get("mpy"), builds)
            report("verify")
            live = await link.hashes()
            send = sorted(p for p, h in release.hashes.items() if full or live.get(p) != h)
            if not send and info.get("v") == release.version:
                result.ok = result.up_to_date = True
                report("done", "up to date")
                return result
            top = info.get("top")
            manifest = release.manifest(board, next_seq(top if isinstance(top, int) else 0),
                                        allow_downgrade)
            await _transfer(link, release, manifest, send, report, result)
            report("reboot")
            if isinstance(link, AgentLink):
                await link.close()
            report("online")
            await wait_online(target, release.version, secrets, online_timeout, link,
                              old_boot=info.get("boot"), resolver=resolver)
        finally:
            with contextlib.suppress(Exception):
                await link.close()
        result.ok = True
        report("done", f"{release.version} running")
    except OtaError as e:
        result.error, result.error_kind = str(e), e.kind
        report("failed", str(e))
    except ProjectError as e:  # the release folder changed under us, mpy-cross failed...
        result.error, result.error_kind = str(e), "project"
        report("failed", str(e))
    except asyncio.TimeoutError:
        result.error, result.error_kind = "the board stopped answering", "timeout"
        report("failed", result.error)
    except MptuiError as e:  # a name that names no board, a link that cannot open
        result.error, result.error_kind = str(e), "unreachable"
        report("failed", str(e))
    finally:
        result.seconds = time.monotonic() - started
    return result


async def _transfer(link, release: Release, manifest: bytes, send: list[str],
                    report: _Reporter, result: PushResult) -> None:
    """Manifest (verified by the board), the files, then the commit; abort on any failure."""
    total = sum(len(release.files[p]) for p in send)
    await link.begin(manifest, total)
    report("transfer", files_total=len(send), bytes_total=total)
    done = 0
    try:
        for i, path in enumerate(send):
            data = release.files[path]

            def progress(n, _size, base=done, i=i, path=path):
                report("transfer", path, files_done=i, bytes_done=base + n)

            await link.send_file(path, data, progress)
            done += len(data)
            report("transfer", path, files_done=i + 1, bytes_done=done)
        result.files, result.bytes = len(send), done
        report("commit")
        # The board resets by itself right after its answer: never a new release on disk
        # beside the old one running in memory, whatever happens to the link.
        await link.commit(reboot=True)
    except BaseException:
        with contextlib.suppress(Exception):
            await asyncio.shield(link.abort())
        raise


async def _build(project: Project, mpy, builds: dict | None) -> Release:
    """The release for a board's .mpy version, built once per version for a whole fleet, in a
    thread (reading the files and mpy-cross must not hold up the event loop: the UI runs on it)."""
    if builds is None:
        return await asyncio.to_thread(project.build, mpy)
    if mpy not in builds:
        builds[mpy] = asyncio.ensure_future(asyncio.to_thread(project.build, mpy))
    return await asyncio.shield(builds[mpy])


async def wait_online(target: str, version: str, secrets: Secrets | None, timeout: float, link=None,
                      old_boot: str | None = None, resolver: Resolver | None = None) -> dict:
    """Wait until the board's agent answers again, rebooted (a boot id other than `old_boot`),
    with `version` running."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last = "no answer"
    while loop.time() < deadline:
        probe = link if isinstance(link, EngineLink) else make_link(target, secrets, 3.0,
                                                                    resolver)
        try:
            if isinstance(probe, EngineLink):
                await probe.session.wait_connected(max(0.1, deadline - loop.time()))
            else:
                await probe.open()
            info = await probe.info()
            if old_boot is not None and info.get("boot") == old_boot:
                last = "not rebooted yet"
            elif info.get("v") == version:
                return info
            else:
                last = f"the board runs {info.get('v')!r}" + (f" ({info['last']})" if info.get("last") else "")
                if "rolled back" in info.get("last", ""):
                    raise OtaError("rolledback", info["last"])
        except OtaError as e:
            if e.kind == "rolledback":
                raise
            last = str(e)
        except (OSError, ValueError, MptuiError) as e:  # the board is still coming up
            last = str(e) or type(e).__name__
        finally:
            if not isinstance(probe, EngineLink):
                await probe.close()
        await asyncio.sleep(0.1)
    raise OtaError("timeout", f"not back online with {version}: {last}")


# -- a fleet -----------------------------------------------------------------------------------


async def push_fleet(targets: list[str], project: Project, *, full: bool = False,
                     on_event: Callable[[PushEvent], None] | None = None,
                     parallel: int = 32, link_for: Callable[[str], object] | None = None,
                     running: dict[str, asyncio.Task] | None = None,
                     allow_downgrade: bool = False,
                     resolver: Resolver | None = None) -> list[PushResult]:
    """Push to every target at once (at most `parallel` at a time); results in target order.

    `link_for(target)` may supply the link for a target (the UI passes an EngineLink over the
    Session it already holds for a USB board); None or a None result: `make_link(target)`.
    `running` gets each target's task while it runs: cancelling one stops that board's push
    (a transfer is aborted on the board, which keeps its release) and gives it a "cancelled"
    result; the others go on."""
    gate = asyncio.Semaphore(parallel)
    builds: dict = {}

    async def one(target: str) -> PushResult:
        try:
            async with gate:
                link = link_for(target) if link_for else None
                return await push(target, project, full=full, on_event=on_event,
                                  builds=builds, link=link, allow_downgrade=allow_downgrade,
                                  resolver=resolver)
        except asyncio.CancelledError:
            if on_event:  # now, not when the others are done
                on_event(PushEvent(target, "failed", message=CANCELLED))
            raise

    tasks = {t: asyncio.ensure_future(one(t)) for t in targets}
    if not tasks:
        return []
    if running is not None:
        running.update(tasks)
    try:
        await asyncio.wait(tasks.values())
    finally:
        for task in tasks.values():
            task.cancel()  # only those still running: this push was cancelled as a whole
        await asyncio.wait(tasks.values())
        if running is not None:
            for t in tasks:
                running.pop(t, None)
    return [PushResult(t, False, project.version, error=CANCELLED, error_kind="cancelled")
            if task.cancelled() else task.result() for t, task in tasks.items()]


async def status(target: str, secrets: Secrets | None = None, link=None,
                 resolver: Resolver | None = None) -> BoardStatus:
    """What the board's agent runs; `link` may be one the caller holds (see push_fleet)."""
    link = link or make_link(target, secrets, 5.0, resolver)
    try:
        await link.open()
        info = await link.info()
    except OtaError as e:
        return BoardStatus(target, False, error=str(e), error_kind=e.kind)
    finally:
        with contextlib.suppress(Exception):
            await link.close()
    return BoardStatus(target, True, info.get("agent", ""), info.get("v"), info.get("pv"),
                       bool(info.get("good", True)), int(info.get("n", 0)), info.get("last", ""),
                       info=info)


async def set_password(target: str, secrets: Secrets, new_password: str,
                       resolver: Resolver | None = None) -> None:
    """Give the board a new password ("": none); `secrets` holds the current one. The board
    gets only its own login key for it (ota/keys.py)."""
    link = make_link(target, secrets, resolver=resolver)
    await link.open()
    try:
        await link.set_login_key(secrets.login_key(link.board_id, new_password))
    finally:
        await link.close()
