"""The line under the tabs: the selected board's name, address and state, then what fits of
the rest (flags, its agent's servers, a USB or BLE description): nothing is cut in the middle;
what does not fit is left out, the least needed first."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from mptui.services.events import BoardInfo
from mptui.ui.safe_text import printable
from mptui.ui.widgets.device_list import state_mark

SEPARATOR = " │ "


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

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._parts: list[Content] = []
        self._needed = 0  # the first parts shown whatever the width

    def show(self, board: BoardInfo | None, flags: list[str] = ()) -> None:
        if board is None:
            self._parts, self._needed = [Content("no board selected")], 1
            self._fit()
            return
        parts = [
            Content.assemble(state_mark(board), " ", Content.styled(printable(board.name), "bold")),
            Content(printable(board.address)),
            Content(printable(board.label)),
            *(Content.styled(flag, "$warning") for flag in flags),
        ]
        needed = len(parts)
        ways = [way for way in board.ways if way != board.address]
        if ways:  # its agent, reached beside its link
            parts.append(Content.styled(printable("agent " + " ".join(ways)), "$text-muted"))
        usb = printable(" ".join(x for x in (board.description, board.vid_pid) if x))
        if usb and board.kind == "usb":
            parts.append(Content.styled(usb, "$text-muted"))
        if board.kind == "ble":
            rssi = f"{board.rssi} dBm" if board.rssi is not None else ""
            radio = printable(", ".join(x for x in (board.description, rssi) if x))
            parts.append(Content.styled(radio, "$text-muted"))
        self._parts, self._needed = parts, needed
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        room = self.content_size.width
        parts = list(self._parts)
        while room and len(parts) > self._needed and \
                Content(SEPARATOR).join(parts).cell_length > room:
            parts.pop()
        self.update(Content(SEPARATOR).join(parts))

    @property
    def text(self) -> str:
        """What it shows now, as plain text."""
        return str(self.render())
