"""The root of mptui's errors, and the exit codes of the command line.

Every error mptui raises on purpose derives from `MptuiError`: `str(error)` is one line for
the user, `exit_code` what the command line exits with. The families keep their own names
(BoardError, TransportError, OtaError, RemoteIOError, ProjectError, ...), so a caller catches
the one it can handle and lets the root reach the one place that shows it: `mptui.cli.main`
for a command, the app's worker-error handler for the app. Anything else that reaches those
places is a bug: one line naming the log file, and the traceback in the log.

This module imports nothing of mptui: every layer may use it.
"""

from __future__ import annotations

# The command line's exit codes (the README's table; tests/test_exit_codes.py holds them).
OK = 0
ERROR = 1  # the board, a link, a file or mptui itself failed: one line says what
USAGE = 2  # bad options, arguments, addresses or references: nothing was tried
INTERRUPTED = 130  # Ctrl-C, as a shell reports a command stopped by SIGINT
BROKEN_PIPE = 141  # the reader of our output went away (`| head`): as SIGPIPE ends `cat`


class MptuiError(Exception):
    """Something went wrong that mptui can say in one line."""

    exit_code = ERROR

    @property
    def message(self) -> str:
        """The one line: the first line of the text, or the kind of error when it has none."""
        text = str(self).strip()
        return text.splitlines()[0] if text else type(self).__name__

    @property
    def report(self) -> str:
        """What the command line prints on stderr for it."""
        return f"mptui: {self.message}"


class UsageError(MptuiError):
    """Bad input from the user (an option, an argument, an address, a reference)."""

    exit_code = USAGE


def exit_status(value: object) -> int:
    """A program's exit status from what it gave SystemExit, as CPython reads it: nothing or
    None is 0, an integer is itself (as a shell sees it, 0-255), anything else 1."""
    if value is None:
        return OK
    if isinstance(value, int) and not isinstance(value, bool):
        return value & 0xFF
    if isinstance(value, bool):
        return int(value)
    return ERROR
