"""A file's content for F3, F4 and Shift-F4: read with progress; edited in the user's editor
($VISUAL, $EDITOR, else vi) with the app suspended, written back only if it changed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from mptui.services.copier import check_name
from mptui.services.editing import edit_on_host, editor_command
from mptui.services.filesystem import FileInfo, FileSystem
from mptui.services.transfer import TransferMeter, TransferProgress
from mptui.ui.units import size_text

ShowProgress = Callable[[TransferProgress], None]


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


async def read_file(fs: FileSystem, info: FileInfo, progress: ShowProgress,
                    named: bool = False) -> bytes:
    """A file's bytes, with progress. `named`: a board's file must have a plain name (as it
    listed it), so that its path is the file it names (the editor saves to that path)."""
    if named and not fs.is_local:
        check_name(info.name)
    meter = TransferMeter(info.size, 1, progress)
    data = await fs.read(info.path, meter.file(info.path, info.size))
    meter.finish_file(info.path, len(data))
    return data


async def edit_file(app, fs: FileSystem, info: FileInfo, progress: ShowProgress,
                    stage: Callable[[str], None]) -> str:
    """Edit a file of either side in the user's editor; returns what became of it, in words.
    A board's file is downloaded to a temporary file first and uploaded (atomically) only if
    it changed (services/editing.py, as `mptui edit` does). `stage` is told when the editor
    opens and when the upload starts."""
    if fs.is_local:
        stage(f"Editing {info.name}")
        status = await run_editor(app, info.path)
        return "" if status == 0 else f"The editor exited with status {status}"
    check_name(info.name)  # as the board listed it: its path must be the file it names
    edited = await edit_on_host(fs, info.path, lambda path: run_editor(app, path), progress,
                                lambda: stage(f"Editing {info.name}"), lambda: stage("Uploading"))
    if edited.status != 0:
        return f"The editor exited with status {edited.status}: {info.name} not uploaded"
    if not edited.changed:
        return f"{info.name} unchanged: not uploaded"
    return f"Uploaded {info.name} ({size_text(edited.size)})"
