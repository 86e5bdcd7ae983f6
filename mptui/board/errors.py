"""Errors from a board, each with a message fit for one line (plus the board's traceback)."""

from __future__ import annotations

import errno as _errno
import re

from mptui.errors import MptuiError


class BoardError(MptuiError):
    """Anything that went wrong talking to a board."""


class RawReplError(BoardError):
    """The board would not enter the raw REPL."""


class BoardTimeout(BoardError):
    pass


class BoardDisconnected(BoardError):
    pass


class BoardAccessDenied(BoardDisconnected):
    """The link was refused for want of the right password (WebREPL's "Access denied", or no
    password at all); the transport's error is the `__cause__`."""


class Damaged(BoardError):
    """Bytes that did not arrive whole (a file written or read, or the answer about it):
    doing it again may help (a written file's old contents are still there)."""


class BoardExecError(BoardError):
    """Code raised an exception on the board; carries the board's traceback."""

    path: str | None = None  # set by filesystem operations: the board path concerned

    def __init__(self, traceback: str, output: str = "") -> None:
        self.traceback = traceback.strip()
        self.output = output
        last = self.traceback.splitlines()[-1] if self.traceback else "error"
        exc_type, _, message = last.partition(":")
        self.exc_type, self.exc_message = exc_type.strip(), message.strip()
        super().__init__(last)

    @property
    def summary(self) -> str:
        return str(self)

    @property
    def report(self) -> str:
        """A program's error is the board's traceback, as the board printed it; a filesystem
        operation's is one line naming the path."""
        return super().report if self.path is not None else self.traceback


class ProgramExit(MptuiError):
    """A user's program ended with sys.exit(N), N not 0: the command exits with N, printing
    only what the program asked (sys.exit("message") prints the message; its status is 1)."""

    def __init__(self, status: int, text: str = "") -> None:
        super().__init__(text or f"the program exited with status {status}")
        self.status, self.text = status, text

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        return self.status

    @property
    def report(self) -> str:
        return self.text


class BoardOSError(BoardExecError):
    """An OSError on the board, with its errno mapped to the host's names."""

    def __init__(self, traceback: str, output: str = "", errno: int | None = None) -> None:
        super().__init__(traceback, output)
        self.errno = errno
        self.errname = _errno.errorcode.get(errno, "") if errno is not None else ""

    def __str__(self) -> str:
        if self.errno is None:
            return super().__str__()
        import os

        what = f"{os.strerror(self.errno)} [{self.errname or self.errno}]"
        return f"{self.path}: {what}" if self.path else f"OSError: {what}"


_ERRNO = re.compile(r"^OSError: (?:\[Errno (\d+)\]|(-?\d+)\b|(E[A-Z]+)\b)")


def exec_error(traceback: str, output: str = "") -> BoardExecError:
    """The right exception for a board traceback; OSError errnos are mapped (ports print
    `[Errno 2] ENOENT`, a bare `2`, or just `ENOENT`)."""
    last = traceback.strip().splitlines()[-1] if traceback.strip() else ""
    m = _ERRNO.match(last)
    if m:
        if m.group(3):
            num = getattr(_errno, m.group(3), None)
        else:
            num = abs(int(m.group(1) or m.group(2)))
        return BoardOSError(traceback, output, num)
    return BoardExecError(traceback, output)
