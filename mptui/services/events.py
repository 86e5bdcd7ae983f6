"""What the DeviceManager tells its subscribers: plain dataclasses, no UI."""

from __future__ import annotations

from dataclasses import dataclass

from mptui.board.session import (
    BUSY,
    CONNECTING,
    DISCONNECTED,
    ERROR,
    IDLE,
    RECONNECTING,
    RUNNING,
)

STATE_LABELS = {
    DISCONNECTED: "disconnected",
    CONNECTING: "connecting",
    IDLE: "idle at the REPL",
    RUNNING: "running a program",
    BUSY: "busy with a transfer",
    RECONNECTING: "reconnecting",
    ERROR: "error",
}
CONNECTED_STATES = (IDLE, RUNNING, BUSY)
# USB and named boards first, then boards added by hand, BLE boards from a scan and boards
# announcing themselves on the network, and the virtual board last (it is always there).
_KIND_ORDER = {"usb": 0, "config": 1, "manual": 2, "ble": 3, "network": 3, "virtual": 4}
AGENT_SCHEMES = ("rio://", "ota://")  # addresses of a board's agent: no REPL link there


@dataclass(frozen=True)
class BoardInfo:
    """A board the manager knows of, as it was when the event was made."""

    key: str  # the canonical address; stable while the board is known
    name: str
    address: str
    kind: str  # the source kind that names it: usb, config, virtual, manual, ...
    description: str = ""
    serial_number: str | None = None
    vid_pid: str | None = None
    rssi: int | None = None  # dBm, when a radio scan saw it (BLE)
    present: bool = True  # False: no source sees it any more (unplugged, gone)
    state: str = DISCONNECTED
    error: str = ""  # why, when state is error (one line)
    board_id: str = ""  # the id its agent was installed with, once known: one board, one entry
    agent: str = ""  # its agent's RemoteIO server (rio://HOST:PORT), when it has one known
    ota: str = ""  # its agent's OTA server (ota://HOST:PORT), when it has one known

    @property
    def label(self) -> str:
        """The state in words, e.g. 'idle at the REPL', 'error: could not open port'."""
        if self.state == ERROR and self.error:
            return f"error: {self.error}"
        if self.agent_only:
            return self.description or "agent only, no REPL" if self.present else "gone"
        if not self.present and self.state in (DISCONNECTED, ERROR):
            return "gone"
        return STATE_LABELS.get(self.state, self.state)

    @property
    def agent_only(self) -> bool:
        """Reached through its agent (RemoteIO, OTA) over the network: logs and calls, no
        REPL link (a board announcing itself, or one added as rio://HOST)."""
        return self.address.lower().startswith(AGENT_SCHEMES)

    @property
    def connected(self) -> bool:
        return self.state in CONNECTED_STATES

    @property
    def ways(self) -> tuple[str, ...]:
        """Every address it is reached at: its link, then its agent's servers."""
        return tuple(dict.fromkeys(a for a in (self.address, self.agent, self.ota) if a))

    @property
    def list_order(self) -> tuple[int, str]:
        """Sort key for lists of boards (the board list, the OTA tab)."""
        return _KIND_ORDER.get(self.kind, 3), self.name


@dataclass(frozen=True)
class BoardEvent:
    board: BoardInfo


@dataclass(frozen=True)
class BoardAdded(BoardEvent):
    """A board appeared (a source found it, or it was added by hand)."""


@dataclass(frozen=True)
class BoardUpdated(BoardEvent):
    """What is known of a board changed: gone or back, name, description."""


@dataclass(frozen=True)
class BoardRemoved(BoardEvent):
    """The board was taken off the list."""


@dataclass(frozen=True)
class BoardStateChanged(BoardEvent):
    """The connection state changed (board.state); `detail` says why, when known."""

    previous: str = DISCONNECTED
    detail: str = ""


@dataclass(frozen=True)
class BoardReset(BoardEvent):
    """The board restarted: 'soft reboot', 'hard reset', or 'reconnected' after a link loss."""

    detail: str = ""
