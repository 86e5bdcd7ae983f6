"""Talking MicroPython to one board: REPL protocol, filesystem, sessions."""

from mptui.board.errors import (
    BoardAccessDenied,
    BoardDisconnected,
    BoardError,
    BoardExecError,
    BoardOSError,
    BoardTimeout,
    ProgramExit,
    RawReplError,
)
from mptui.board.session import Session, SessionEvent

__all__ = [
    "BoardAccessDenied",
    "BoardDisconnected",
    "BoardError",
    "BoardExecError",
    "BoardOSError",
    "BoardTimeout",
    "ProgramExit",
    "RawReplError",
    "Session",
    "SessionEvent",
]
