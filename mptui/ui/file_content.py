"""A file's content for F3 and F4: read with progress, edited in the user's editor ($VISUAL,
$EDITOR, else vi) with the app suspended, written back only if it changed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import tempfile
from collections.abc import Callable
from pathlib import Path

from mptui.services.copier import check_name
from mptui.services.filesystem import FileInfo, FileSystem
from mptui.services.transfer import TransferMeter, TransferProgress, copy_file
from mptui.ui.units import size_text

ShowProgress = Callable[[TransferProgress], None]


def editor_command() -> list[str]:
    return shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")


async def run_editor(app, path: str) -> int:
    """The editor's exit status. The terminal is handed over to it (app.suspend()) while the
    event loop carries on (boards' output, transfers, watches, timers) and the app draws
    nothing until the editor exits; with no terminal (a headless app) it runs with no input.
    Raises OSError when the editor cannot start, textual's SuspendNotSupported where the
    terminal cannot be handed over (a browser)."""
    command = [*editor_command(), path]
    if app.is_headless:
        return await _wait_for(command, stdin=asyncio.subprocess.DEVNULL)
    with app.batch_update(), app.suspend():  # no repaint over the editor, one after it
        return await _wait_for(command)


async def _wait_for(command: list[str], **options) -> int:
    process = await asyncio.create_subprocess_exec(*command, **options)
    try:
        return await process.wait()
    finally:
        if process.returncode is None:  # cancelled (the app is closing): ask it to end
            with contextlib.suppress(ProcessLookupError):
                process.terminate()


async def read_file(fs: FileSystem, info: FileInfo, progress: ShowProgress) -> bytes:
    meter = TransferMeter(info.size, 1, progress)
    data = await fs.read(info.path, meter.file(info.path, info.size))
    meter.finish_file(info.path, len(data))
    return data


def _one_component(name: str) -> str:
    """A board's file name as the name of a file in a folder here: never a path out of it."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].replace("\0", "")
    return name if name not in ("", ".", "..") else "file"


async def edit_file(app, fs: FileSystem, info: FileInfo, progress: ShowProgress,
                    stage: Callable[[str], None]) -> str:
    """Edit a file of either side; returns what became of it, in words. A board's file is
    downloaded to a temporary file first and uploaded (atomically) only if it changed.
    `stage` is told when the editor opens and when the upload starts."""
    if fs.is_local:
        stage(f"Editing {info.name}")
        status = await run_editor(app, info.path)
        return "" if status == 0 else f"The editor exited with status {status}"
    check_name(info.name)  # as the board listed it: it becomes a local file's name
    old = await read_file(fs, info, progress)
    with tempfile.TemporaryDirectory(prefix="mptui-edit-") as folder:
        copy = Path(folder, _one_component(info.name))
        await asyncio.to_thread(copy.write_bytes, old)
        stage(f"Editing {info.name}")
        status = await run_editor(app, str(copy))
        new = await asyncio.to_thread(copy.read_bytes)
    if status != 0:
        return f"The editor exited with status {status}: {info.name} not uploaded"
    if new == old:
        return f"{info.name} unchanged: not uploaded"
    stage("Uploading")
    await copy_file(None, "", fs, info.path, TransferMeter(len(new), 1, progress), data=new)
    return f"Uploaded {info.name} ({size_text(len(new))})"
