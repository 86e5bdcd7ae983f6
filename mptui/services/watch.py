"""Watch mode: a saved local file goes to the board at once (watchfiles), through the sync
engine, so ignore rules, hashing, .mpy compiling and atomic writes are the same as for a sync.

    watcher = Watcher(syncer, console=manager.console.board(key), after=AFTER_RUN, on_event=show)
    await watcher.run()     # until cancelled; watcher.ready is set once saves are seen

What happens is reported as WatchEvents (to `on_event`, for the UI's list or the CLI's lines).
A burst of saves is read once it settles, so the board gets the final content. A file deleted
here is deleted on the board only with SyncOptions(delete=True). After an upload the board can
be left alone, soft-reset (Ctrl-C, Ctrl-D typed at its REPL: boot.py and main.py run) or made
to run main.py, as Ctrl-K runs a file (mptui.services.console.BoardConsole: its output on the
board's console, its code not typed there; the board is running until it ends). The next
upload stops that program first (Ctrl-C).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import posixpath
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from mptui.board.errors import BoardError, BoardExecError
from mptui.services.console import BoardConsole
from mptui.services.ignore import IGNORE_FILE
from mptui.services.sync import EXTRA, PlanItem, Syncer

AFTER_NONE, AFTER_RESET, AFTER_RUN = "none", "reset", "run"
AFTER_CHOICES = (AFTER_NONE, AFTER_RESET, AFTER_RUN)
DEBOUNCE_MS = 300  # the longest a burst of saves is gathered before it is sent
SETTLE_MS = 50  # a burst ends after this long without a change
WAKE_MS = 250  # with no change, the watch still reports back this often (first: "in place")
STOP_WAIT = 5.0  # seconds a program run after an upload has to stop at Ctrl-C (then: dropped)
T = TypeVar("T")


@dataclass(frozen=True)
class WatchEvent:
    """kind: "synced" (the first sync; detail is its summary), "watching", "uploaded",
    "made" (a folder), "deleted", "kept" (deleted here, kept on the board), "reset", "run",
    "warning", "error"."""

    kind: str
    path: str = ""  # relative to the synced folders
    detail: str = ""
    size: int = 0
    time: float = field(default_factory=time.time)


class Watcher:
    def __init__(
        self,
        syncer: Syncer,
        *,
        console: BoardConsole | None = None,
        after: str = AFTER_NONE,
        on_event: Callable[[WatchEvent], None] | None = None,
        initial_sync: bool = True,
        debounce_ms: int = DEBOUNCE_MS,
        force_polling: bool | None = None,
    ) -> None:
        if after not in AFTER_CHOICES:
            raise ValueError(f"after must be one of {', '.join(AFTER_CHOICES)}")
        if after != AFTER_NONE and console is None:
            raise ValueError("resetting or running main.py needs the board's console")
        self.syncer, self.console, self.after = syncer, console, after
        self.program: asyncio.Task[None] | None = None  # main.py, run after the last upload
        self.on_event = on_event
        self.initial_sync = initial_sync
        self.debounce_ms = debounce_ms
        self.force_polling = force_polling
        self.ready = asyncio.Event()

    def _emit(self, kind: str, path: str = "", detail: str = "", size: int = 0) -> None:
        if self.on_event:
            self.on_event(WatchEvent(kind, path, detail, size))

    async def run(self) -> None:
        batches: asyncio.Queue[set[str]] = asyncio.Queue()
        live = asyncio.Event()
        watching = asyncio.create_task(self._watch(batches, live), name="mptui-watch")
        try:
            await _until(live.wait(), watching)
            if self.initial_sync:
                plan = await self.syncer.plan()
                for warning in plan.warnings:  # what is left out: secrets, links, ...
                    self._emit("warning", detail=warning)
                result = await self.syncer.apply(plan, on_done=self._done)
                self._emit("synced", detail=result.summary())
            else:
                await self.syncer.refresh()
            self.ready.set()
            self._emit("watching", detail=self.syncer.local_root)
            while True:
                paths = await _until(batches.get(), watching)
                while not batches.empty():
                    paths |= batches.get_nowait()
                await self._handle(paths)
        finally:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watching
            # the program the watch started (--after run) ends with it, as Ctrl-C ends `run`
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._stop_program()

    async def _watch(self, batches: asyncio.Queue[set[str]], live: asyncio.Event) -> None:
        from watchfiles import awatch

        # rust_timeout + yield_on_timeout: the first (maybe empty) batch tells us the watch
        # is in place, so a save made after `ready` is never missed; later empty ones are
        # dropped.
        async for changes in awatch(
            self.syncer.local_root,
            watch_filter=None,
            debounce=self.debounce_ms,
            step=SETTLE_MS,
            rust_timeout=WAKE_MS,
            yield_on_timeout=True,
            force_polling=self.force_polling,
        ):
            live.set()
            if changes:
                batches.put_nowait({path for _, path in changes})

    async def _handle(self, paths: set[str]) -> None:
        rels = _inside(paths, self.syncer.local_root)
        if not rels:
            return
        rules_changed = any(posixpath.basename(r) == IGNORE_FILE for r in rels)
        try:
            if rules_changed:
                self.syncer.reload_rules()
                plan = await self.syncer.plan()
            else:
                plan = await self.syncer.plan(only=rels)
            for warning in plan.warnings:
                self._emit("warning", detail=warning)
            if not plan.delete and not rules_changed:
                for item in plan.of(EXTRA):
                    self._emit("kept", item.path, "deleted here; kept on the board (no --delete)")
            if plan.up_to_date:
                return
            await self._stop_program()
            await self.syncer.apply(plan, on_done=self._done)
        except (OSError, BoardExecError) as e:
            self._emit("error", detail=str(e))
            return
        await self._after()

    def _done(self, item: PlanItem, action: str) -> None:
        kind = {"copied": "uploaded"}.get(action, action)
        self._emit(kind, item.path + ("/" if item.is_dir else ""), size=item.size)

    # -- after an upload --------------------------------------------------------------------

    async def _after(self) -> None:
        if self.after == AFTER_RESET:
            # Ctrl-C clears the line; Ctrl-D soft-reboots: boot.py, then main.py
            await self._console().type(b"\x03\x04")
            self._emit("reset", detail="soft reset")
        elif self.after == AFTER_RUN:
            main = posixpath.join(self.syncer.remote_root, "main.py")
            code = f"exec(compile(open({main!r}).read(),{main!r},'exec'),{{'__name__':'__main__'}})"
            self.program = asyncio.create_task(self._run(code), name="mptui-watch-main")
            self._emit("run", main)

    def _console(self) -> BoardConsole:
        if self.console is None:  # (refused at the start, unless `after` is none)
            raise ValueError("resetting or running main.py needs the board's console")
        return self.console

    async def _run(self, code: str) -> None:
        try:
            await self._console().run(code)
        except BoardError as e:  # the board went away: said, the watch goes on
            self._emit("error", detail=str(e))

    async def _stop_program(self) -> None:
        """The program the last upload started stops before the next upload (Ctrl-C; one that
        ignores it is left to the upload's own interrupt)."""
        program, self.program = self.program, None
        if program is None or program.done():
            return
        self._console().interrupt()
        done, _ = await asyncio.wait({program}, timeout=STOP_WAIT)
        if not done:
            program.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await program


def _inside(paths: set[str], root: str) -> set[str]:
    """The changed paths under `root`, relative to it, with '/' separators."""
    rels = set()
    for path in paths:
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        if rel != "." and not rel.startswith("../"):
            rels.add(rel)
    return rels


async def _until(aw: Awaitable[T], watching: asyncio.Task[None]) -> T:
    """Await aw, unless the watch task ends first (its error is raised)."""
    waiter = asyncio.ensure_future(aw)
    try:
        await asyncio.wait({waiter, watching}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        waiter.cancel()
        raise
    if waiter.done():
        return waiter.result()
    waiter.cancel()
    watching.result()  # raises what ended it
    raise RuntimeError("the folder watch stopped")
