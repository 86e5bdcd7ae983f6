"""A session's states and the events it publishes (mptui/board/session.py re-exports them)."""

from __future__ import annotations

from dataclasses import dataclass

# Session states, as the device manager and the UI show them.
DISCONNECTED = "disconnected"
CONNECTING = "connecting"
IDLE = "idle"
BUSY = "busy"
RUNNING = "running"
RECONNECTING = "reconnecting"
ERROR = "error"


@dataclass(frozen=True)
class SessionEvent:
    kind: str  # "state" | "reset" | "output"
    state: str = ""
    detail: str = ""
