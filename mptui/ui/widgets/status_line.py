"""The line under the tabs: the selected board's name, address and state."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from mptui.services.events import BoardInfo
from mptui.ui.safe_text import printable
from mptui.ui.widgets.device_list import state_mark


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    """

    def show(self, board: BoardInfo | None, flags: list[str] = ()) -> None:
        if board is None:
            self.update("no board selected")
            return
        parts = [
            Content.assemble(state_mark(board), " ", Content.styled(printable(board.name), "bold")),
            Content(printable(board.address)),
            Content(printable(board.label)),
            *(Content.styled(flag, "$warning") for flag in flags),
        ]
        usb = printable(" ".join(x for x in (board.description, board.vid_pid) if x))
        if usb and board.kind == "usb":
            parts.append(Content.styled(usb, "$text-muted"))
        if board.kind == "ble":
            rssi = f"{board.rssi} dBm" if board.rssi is not None else ""
            radio = printable(", ".join(x for x in (board.description, rssi) if x))
            parts.append(Content.styled(radio, "$text-muted"))
        self.update(Content(" │ ").join(parts))
