"""A board file edited in the user's editor on this computer, for `mptui edit` and the Files
tab's external edit: downloaded to a temporary file, the editor run on it, and written back
(atomically, by the copy engine's one-file step) only if it changed.

The editor is $VISUAL, else $EDITOR, else vi, split as a shell would (as git does), and the
file's path is added as its last argument.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from mptui.errors import MptuiError, UsageError
from mptui.services.copier import check_name
from mptui.services.filesystem import FileSystem
from mptui.services.transfer import TransferMeter, TransferProgress, copy_file

RunEditor = Callable[[str], Awaitable[int]]  # the temporary file's path -> the exit status


def editor_command() -> list[str]:
    """The user's editor as a command line (UsageError when the variable cannot be split)."""
    value = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        command = shlex.split(value)
    except ValueError as e:
        raise UsageError(f"$VISUAL/$EDITOR is not a command line ({e}): {value!r}") from None
    return command or ["vi"]


@dataclass(frozen=True)
class Edited:
    status: int  # the editor's exit status
    changed: bool  # and written to the board
    created: bool  # it was not on the board before
    size: int

    def describe(self, name: str) -> str:
        if self.status != 0:
            return f"the editor exited with status {self.status}: {name} not written"
        if not self.changed:
            return f"{name} unchanged: not written" if not self.created else \
                f"{name} left empty: not created"
        return f"{'created' if self.created else 'wrote'} {name} ({self.size} B)"


async def edit_on_host(fs: FileSystem, path: str, run_editor: RunEditor,
                       progress: Callable[[TransferProgress], None] | None = None,
                       before_editor: Callable[[], None] = lambda: None,
                       before_upload: Callable[[], None] = lambda: None) -> Edited:
    """Edit one board file (a new one when it is missing) in the user's editor."""
    name = check_name(fs.basename(path) or "file")  # it becomes a local file's name
    created = False
    try:
        info = await fs.stat(path)
    except FileNotFoundError:
        old, created = b"", True
    else:
        if info.is_dir:
            raise IsADirectoryError(21, "is a folder, not a file", path)
        meter = TransferMeter(info.size, 1, progress)
        old = await fs.read(path, meter.file(path, info.size))
        meter.finish_file(path, len(old))
    with tempfile.TemporaryDirectory(prefix="mptui-edit-") as folder:
        copy = Path(folder, name)
        await asyncio.to_thread(copy.write_bytes, old)
        before_editor()
        status = await run_editor(str(copy))
        new = await asyncio.to_thread(_read_or, copy, old)
    changed = status == 0 and new != old
    if changed:
        before_upload()
        await copy_file(None, "", fs, path, TransferMeter(len(new), 1, progress), data=new)
    return Edited(status, changed, created, len(new))


def _read_or(path: Path, old: bytes) -> bytes:
    """The file's bytes; old when the editor removed it."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return old


async def run_in_terminal(path: str) -> int:
    """Run the editor on path with this process's terminal; its exit status."""
    command = editor_command()
    try:
        process = await asyncio.create_subprocess_exec(*command, path)
    except OSError as e:
        raise MptuiError(f"the editor {command[0]!r} could not start ({e.strerror or e}); "
                         "set $VISUAL or $EDITOR") from None
    try:
        return await process.wait()
    finally:
        if process.returncode is None:  # cancelled (Ctrl-C): ask it to end
            try:
                process.terminate()
            except ProcessLookupError:
                pass
