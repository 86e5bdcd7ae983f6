"""Open a file in the user's editor ($VISUAL, $EDITOR, else vi) with the app suspended."""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess


def editor_command() -> list[str]:
    return shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")


async def run_editor(app, path: str) -> int:
    """The editor's exit status. The terminal is handed over to it (app.suspend()); with no
    terminal (a headless app) it runs as is. Raises OSError when the editor cannot start,
    textual's SuspendNotSupported where the terminal cannot be handed over (a browser)."""
    command = [*editor_command(), path]
    if app.is_headless:
        done = await asyncio.to_thread(
            subprocess.run, command, check=False, stdin=subprocess.DEVNULL
        )
        return done.returncode
    with app.suspend():  # the app waits while the editor has the terminal
        return subprocess.run(command, check=False).returncode  # noqa: ASYNC221
