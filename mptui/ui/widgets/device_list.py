"""The boards on the left: every board the DeviceManager knows, with its state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from mptui.board.session import BUSY, CONNECTING, ERROR, IDLE, RECONNECTING, RUNNING
from mptui.services.events import BoardInfo
from mptui.ui.safe_text import fit, printable

_STATE_STYLE = {
    IDLE: "$device-idle",
    RUNNING: "$device-busy",
    BUSY: "$device-busy",
    CONNECTING: "$device-busy",
    RECONNECTING: "$device-busy",
    ERROR: "$device-error",
}


def state_mark(board: BoardInfo) -> Content:
    """A dot in the colour of the board's state (a cross once it is gone)."""
    if not board.present and not board.connected:
        return Content.styled("✕", "$device-offline")
    return Content.styled("●", _STATE_STYLE.get(board.state, "$device-offline"))


WIDTH = 26  # the list's width, borders included
WIDE = (140, 34)  # from this many columns of terminal on, the list is this wide
TEXT_WIDTH = WIDTH - 2 - 2 - 2  # a line's text: no borders, padding or the mark before it


class DeviceList(OptionList):
    """Posts BoardHighlighted as the cursor moves and BoardChosen on Enter."""

    BINDING_GROUP_TITLE = "Boards"
    DEFAULT_CSS = f"""
    DeviceList {{
        width: {WIDTH};
        height: 1fr;
        border: round $panel;
        border-title-color: $text-muted;
        padding: 0;
    }}
    DeviceList:focus {{ border: round $primary; border-title-color: $primary; }}
    DeviceList > .option-list--option {{ padding: 0 1; }}
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open", id="board.open",
                tooltip="Connect to the board and open its REPL"),
    ]

    @dataclass
    class BoardHighlighted(Message):
        device_list: DeviceList
        key: str

        @property
        def control(self) -> DeviceList:
            return self.device_list

    @dataclass
    class BoardChosen(Message):
        device_list: DeviceList
        key: str

        @property
        def control(self) -> DeviceList:
            return self.device_list

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Boards"
        self.boards: dict[str, BoardInfo] = {}
        self._chosen_by_user = False
        self._auto_key: str | None = None  # the board highlighted for the user, not by them
        self._rebuilding = False
        self._told_key: str | None = None  # the board last posted as highlighted
        self.text_width = TEXT_WIDTH

    def update_board(self, board: BoardInfo) -> None:
        old = self.boards.get(board.key)
        self.boards[board.key] = board
        if old is None or old.list_order != board.list_order:
            self._rebuild()
            return
        # Same place in the list: redraw its option only if it looks different (busy/idle
        # flips come many times a second during a copy).
        before, after = self._prompt(old), self._prompt(board)
        if (before.plain, before.spans) != (after.plain, after.spans):
            self.replace_option_prompt(board.key, after)

    def remove_board(self, key: str) -> None:
        self.boards.pop(key, None)
        self._rebuild()

    def select_board(self, key: str) -> None:
        """Move the cursor to a board (as the user would)."""
        self._chosen_by_user = True
        if key in self.boards:
            self.highlighted = self._order().index(key)

    @property
    def selected_key(self) -> str | None:
        option = self.highlighted_option
        return option.id if option else None

    def _order(self) -> list[str]:
        return sorted(self.boards, key=lambda k: self.boards[k].list_order)

    def _rebuild(self) -> None:
        current = self.selected_key
        order = self._order()
        self._rebuilding = True
        try:
            self.set_options(Option(self._prompt(self.boards[k]), id=k) for k in order)
            if current in order and self._chosen_by_user:
                self.highlighted = order.index(current)
            elif order:
                self.highlighted = 0  # the first board (USB before virtual) until one is chosen
                self._auto_key = order[0]
        finally:
            self._rebuilding = False
        if self.selected_key != current and self.selected_key:
            self._highlight(self.selected_key)

    def fit_width(self, terminal_width: int) -> None:
        """Wider on a wide terminal (the main screen says its width): more of long names."""
        width = WIDE[1] if terminal_width >= WIDE[0] else WIDTH
        self.styles.width = width
        if width - 6 != self.text_width:
            self.text_width = width - 6
            self._rebuild()

    def _prompt(self, board: BoardInfo) -> Content:
        """Two lines, each kept to one line of the list (a long name or error loses its
        middle; the status line under the tabs has it whole)."""
        rssi = board.rssi
        signal = f" {rssi} dBm" if rssi is not None else ""
        name = Content.styled(fit(printable(board.name), self.text_width - len(signal)),
                              "bold" if board.connected else "")
        state = Content.styled(fit(printable(board.label), self.text_width), "$text-muted")
        return Content.assemble(state_mark(board), " ", name,
                                Content.styled(signal, "$text-muted"), "\n  ", state)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if self._rebuilding or event.option.id is None:
            return
        if event.option.id != self._auto_key:
            self._chosen_by_user = True
        self._highlight(event.option.id)

    def _highlight(self, key: str) -> None:
        """Tell of a newly highlighted board; a rebuild for a board's new state (its option
        highlighted again, the message arriving after the rebuild) is not news."""
        if key != self._told_key:
            self._told_key = key
            self.post_message(self.BoardHighlighted(self, key))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self._chosen_by_user = True
            self.post_message(self.BoardChosen(self, event.option.id))
