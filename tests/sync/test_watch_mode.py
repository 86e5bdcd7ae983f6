"""Watch mode against a real (virtual) board: saves reach the board, bursts end with the final
content, deletes follow only when asked, and main.py can be re-run after an upload."""

from __future__ import annotations

import asyncio
import contextlib
import os

import pytest
from synchelp import make_tree, sha

from mptui.services.boardfs import BoardFSAdapter
from mptui.services.console import ConsoleRouter
from mptui.services.localfs import LocalFS
from mptui.services.sync import Syncer, SyncOptions
from mptui.services.watch import AFTER_RESET, AFTER_RUN, Watcher

TIMEOUT = 20.0  # generous: the machine is shared; the usual figure is in bench/watch.py


class Events:
    """The watcher's events, and a way to wait for one."""

    def __init__(self) -> None:
        self.seen = []
        self._changed = asyncio.Condition()

    def __call__(self, event) -> None:
        self.seen.append(event)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait(self, predicate, what: str, after: int = 0):
        """The first event from number `after` on for which predicate holds."""

        async def find():
            async with self._changed:
                while True:
                    for event in self.seen[after:]:
                        if predicate(event):
                            return event
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(find(), TIMEOUT)
        except asyncio.TimeoutError:
            kinds = [(e.kind, e.path) for e in self.seen]
            raise AssertionError(f"no {what} event; seen: {kinds}") from None


@contextlib.asynccontextmanager
async def watching(session, local, **kw):
    options = SyncOptions(delete=kw.pop("delete", False))
    syncer = Syncer(LocalFS(), local, BoardFSAdapter(session), "/", options)
    events = Events()
    router = ConsoleRouter(lambda key, state: None)
    router.attach("board", session, kw.pop("sink", None))
    watcher = Watcher(syncer, console=router.board("board"), on_event=events, **kw)
    task = asyncio.create_task(watcher.run())
    ready = asyncio.create_task(watcher.ready.wait())
    await asyncio.wait({task, ready}, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    assert watcher.ready.is_set()
    try:
        yield events
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await router.detach("board")


async def board_sha(session, path):
    """The board's sha256 of a file (None when it has none)."""
    if not await session.fs.exists(path):
        return None
    return await session.fs.sha256(path)


async def test_a_saved_file_reaches_the_board(session, board_root, tmp_path):
    local = tmp_path / "proj"
    make_tree(local, {"main.py": "print(1)\n", "notes.pyc": b"x"})
    async with watching(session, local) as events:
        assert (await events.wait(lambda e: e.kind == "synced", "synced")).detail == (
            "1 copied, 0 deleted, 0 unchanged")
        content = b"print('saved')\n" * 100
        (local / "lib").mkdir()
        (local / "lib" / "app.py").write_bytes(content)
        await events.wait(lambda e: e.kind == "uploaded" and e.path == "lib/app.py", "upload")
        assert await board_sha(session, "/lib/app.py") == sha(content)
        mark = len(events.seen)
        (local / "again.pyc").write_bytes(b"ignored")
        (local / "main.py").write_text("print(2)\n")
        await events.wait(lambda e: e.kind == "uploaded" and e.path == "main.py", "upload", mark)
    assert (board_root / "main.py").read_text() == "print(2)\n"
    assert not (board_root / "again.pyc").exists()


async def test_a_burst_of_saves_ends_with_the_final_content(session, tmp_path):
    local = tmp_path / "proj"
    local.mkdir()
    async with watching(session, local, initial_sync=False) as events:
        target = local / "busy.py"
        for i in range(40):
            target.write_text(f"VERSION = {i}\n" + "#" * (i * 997 % 5000) + "\n")
            await asyncio.sleep(0)  # not a wait: the watcher may see any of the saves
        final = target.read_bytes()

        deadline = asyncio.get_running_loop().time() + TIMEOUT
        mark = 0
        while await board_sha(session, "/busy.py") != sha(final):
            assert asyncio.get_running_loop().time() < deadline, "the final content never came"
            await events.wait(lambda e: e.kind == "uploaded", "upload", mark)
            mark = len(events.seen)
        uploads = sum(1 for e in events.seen if e.kind == "uploaded")
        assert uploads < 40  # saves were gathered, not sent one by one


async def test_an_editor_save_dance(session, board_root, tmp_path):
    """Swap file, backup copy, probe file, new file renamed over the old: only the final
    content of main.py reaches the board."""
    local = tmp_path / "proj"
    make_tree(local, {"main.py": "v1\n"})
    async with watching(session, local) as events:
        mark = len(events.seen)
        (local / ".main.py.swp").write_bytes(b"swap")
        (local / "main.py~").write_bytes(b"v1\n")
        (local / "4913").write_bytes(b"")
        (local / "4913").unlink()
        (local / ".main.py.new").write_bytes(b"v2\n")
        os.replace(local / ".main.py.new", local / "main.py")
        (local / ".main.py.swp").unlink()
        await events.wait(lambda e: e.kind == "uploaded" and e.path == "main.py", "upload", mark)
    assert (board_root / "main.py").read_bytes() == b"v2\n"
    assert sorted(p.name for p in board_root.iterdir()) == ["main.py"]
    assert not [e for e in events.seen if e.kind in ("error", "warning")]


async def test_ignore_rules_apply_and_follow_their_file(session, board_root, tmp_path):
    local = tmp_path / "proj"
    make_tree(local, {".mptuiignore": "*.txt\n"})
    async with watching(session, local) as events:
        (local / "notes.txt").write_text("ignored")
        (local / "code.py").write_text("kept")
        await events.wait(lambda e: e.kind == "uploaded" and e.path == "code.py", "upload")
        assert not (board_root / "notes.txt").exists()
        mark = len(events.seen)
        (local / ".mptuiignore").write_text("*.log\n")  # now the .txt goes too
        await events.wait(lambda e: e.kind == "uploaded" and e.path == "notes.txt", "upload", mark)
    assert not (board_root / ".mptuiignore").exists()


@pytest.mark.parametrize("delete", [False, True])
async def test_a_local_delete(session, board_root, tmp_path, delete):
    local = tmp_path / "proj"
    make_tree(local, {"a.py": "a", "lib/b.py": "b"})
    async with watching(session, local, delete=delete) as events:
        (local / "a.py").unlink()
        kind = "deleted" if delete else "kept"
        await events.wait(lambda e: e.kind == kind and e.path == "a.py", kind)
    assert (board_root / "a.py").exists() is not delete
    assert (board_root / "lib" / "b.py").exists()


class Console:
    """The board's console output (`feed` is its sink), and a way to wait for some text."""

    def __init__(self) -> None:
        self.data = bytearray()
        self._grew = asyncio.Event()

    def feed(self, data: bytes) -> None:
        self.data.extend(data)
        self._grew.set()

    async def wait(self, text: bytes, start: int = 0) -> None:
        async def find():
            while text not in self.data[start:]:
                self._grew.clear()
                await self._grew.wait()

        try:
            await asyncio.wait_for(find(), TIMEOUT)
        except asyncio.TimeoutError:
            raise AssertionError(f"{text!r} not in {bytes(self.data[-300:])!r}") from None


async def test_run_main_after_an_upload(session, tmp_path):
    local = tmp_path / "proj"
    local.mkdir()
    console = Console()
    async with watching(session, local, after=AFTER_RUN, initial_sync=False,
                        sink=console.feed) as events:
        (local / "main.py").write_text("import time\nprint('second run')\nwhile True:\n"
                                       "    time.sleep(0.01)\n")  # (the board's program)
        await console.wait(b"second run")
        mark = len(console.data)
        (local / "main.py").write_text("print('third run')\n")  # stops the loop, runs again
        await console.wait(b"third run", mark)
        await console.wait(b">>> ", mark)  # the prompt is back once it ends
    assert [e.kind for e in events.seen].count("run") == 2
    assert not [e for e in events.seen if e.kind == "error"]
    assert b"exec(" not in console.data  # run as Ctrl-K runs a file: no code typed at the REPL
    assert b"KeyboardInterrupt" in console.data[:mark + 200]  # the upload stopped the loop


async def test_stopping_the_watch_stops_the_program_it_ran(session, tmp_path):
    local = tmp_path / "proj"
    local.mkdir()
    console = Console()
    async with watching(session, local, after=AFTER_RUN, initial_sync=False,
                        sink=console.feed):
        (local / "main.py").write_text("import time\nprint('looping')\nwhile True:\n"
                                       "    time.sleep(0.01)\n")  # (the board's program)
        await console.wait(b"looping")
        mark = len(console.data)
    # the watch is over: the loop was stopped, the board answers at once
    assert b"KeyboardInterrupt" in console.data[mark:]
    assert await session.eval("6*7") == 42


async def test_soft_reset_after_an_upload(session, tmp_path):
    local = tmp_path / "proj"
    local.mkdir()
    console = Console()
    async with watching(session, local, after=AFTER_RESET, initial_sync=False,
                        sink=console.feed) as events:
        (local / "main.py").write_text("print('main says hello')\n")
        await events.wait(lambda e: e.kind == "reset", "reset")
        await console.wait(b"main says hello")
    assert b"soft reboot" in console.data
