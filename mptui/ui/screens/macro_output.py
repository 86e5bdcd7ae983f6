"""A [commands] macro run from the palette: its output as it comes, then how it ended."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Log, Static

from mptui.ui.safe_text import visible

CLOSE_HINT = "Esc or q closes this"


class MacroOutputScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    MacroOutputScreen { align: center middle; }
    MacroOutputScreen > Vertical {
        width: 100; max-width: 96%; height: 80%;
        border: round $primary; background: $surface; padding: 0 1;
        border-title-color: $primary; border-subtitle-color: $text;
    }
    MacroOutputScreen #macro-output { height: 1fr; }
    MacroOutputScreen #macro-status { height: 1; color: $text-muted; }
    MacroOutputScreen #macro-status.-failed { color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="macro.close"),
    ]

    def __init__(self, name: str, board: str) -> None:
        super().__init__()
        self.title_text = f"{name} on {board}"
        self.text = ""  # all the output so far, as shown (tests read it)
        self._partial = ""  # the last line until its end comes
        self.exit_code: int | None = None
        # made here: output may come before the screen is composed
        self._log = Log(id="macro-output", auto_scroll=True)
        self._status = Static("running…", id="macro-status", markup=False)

    def compose(self) -> ComposeResult:
        box = Vertical()
        box.border_title = self.title_text
        box.border_subtitle = CLOSE_HINT
        with box:
            yield self._log
            yield self._status

    def write(self, data: bytes) -> None:
        """Output of the macro's commands (called on the app's loop), bytes from the board:
        line ends made '\\n', escapes and other control characters not drawn."""
        text = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "")
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        shown = [visible(line) for line in lines]
        self.text += "".join(line + "\n" for line in shown)
        if shown:
            self._log.write_lines(shown)

    def finished(self, code: int) -> None:
        if self._partial:
            self.write(b"\n")
        self.exit_code = code
        status = self._status
        status.update("done" if code == 0 else f"failed (exit status {code})")
        status.set_class(code != 0, "-failed")

    def action_close(self) -> None:
        self.dismiss()
