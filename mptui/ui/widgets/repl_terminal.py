"""The REPL terminal: a thin widget over the Textual-free parts in mptui.ui.terminal: the
screen model, the intake of output, the capture file, the viewport (scrollback, selection);
its lines are painted and kept as Strips by repl_strips.py.

Every key the board can use goes to the board, as the bytes a terminal sends (posted up as
`ReplTerminal.Typed`); the one key that gives focus back is Ctrl-] (binding `repl.leave`).
Board output arrives through `receive()`, is parsed within a time budget once per frame
(`Intake`), frames paced by `Pacing` (a key's echo at once), and only changed lines are
repainted, so a flood never stalls typing or the UI.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from mptui.ui.quiet import output_came, output_expected
from mptui.ui.terminal.capture import Capture
from mptui.ui.terminal.intake import Intake
from mptui.ui.terminal.keys import encode_key, encode_paste
from mptui.ui.terminal.model import TerminalModel
from mptui.ui.terminal.pacing import Pacing
from mptui.ui.terminal.viewport import Viewport
from mptui.ui.widgets.repl_strips import LineStrips, restyle, with_bar

WHEEL_LINES = 3

class ReplTerminal(Widget, can_focus=True):
    """A terminal on one board's REPL."""

    ALLOW_SELECT = False  # selection is the terminal's own (mouse drag, Ctrl+Insert copies)
    BINDING_GROUP_TITLE = "REPL"
    DEFAULT_CSS = """
    ReplTerminal {
        width: 1fr;
        height: 1fr;
        background: $repl-background;
        color: $repl-foreground;
        scrollbar-size: 0 0;
    }
    ReplTerminal > .repl-terminal--cursor { background: $repl-foreground; color: $repl-background; }
    ReplTerminal > .repl-terminal--selection { background: $accent 60%; }
    ReplTerminal > .repl-terminal--scrolled { background: $warning; color: $background; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "repl-terminal--cursor",
        "repl-terminal--selection",
        "repl-terminal--scrolled",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+right_square_bracket", "leave", "Leave", key_display="^]", id="repl.leave",
                tooltip="Leave the REPL: focus goes back to the board list"),
        Binding("f2", "capture", "Capture", id="repl.capture",
                tooltip="Capture the board's output to a file; again to stop"),
        Binding("f3", "toggle_hex", "Hex", id="repl.hex",
                tooltip="Show non-printable bytes as hex (toggle)"),
        Binding("ctrl+j", "inject_code", "Inject", id="repl.inject-code",
                tooltip="Type the inject code into the REPL ([repl] inject_code, else asked)"),
        Binding("ctrl+k", "inject_file", "Run file", id="repl.inject-file",
                tooltip="Run a local file on the board, output here ([repl] inject_file)"),
        Binding("ctrl+insert", "copy", "Copy", show=False, id="repl.copy",
                tooltip="Copy the selection (drag with the mouse) or else the screen"),
        Binding("shift+insert", "paste", "Paste", show=False, id="repl.paste",
                tooltip="Paste what mptui copied (a terminal paste works too)"),
        Binding("shift+pageup", "scroll_back", "Scroll back", show=False, id="repl.scroll-up"),
        Binding("shift+pagedown", "scroll_forward", "Scroll forward", show=False,
                id="repl.scroll-down"),
        Binding("shift+home", "scroll_oldest", "Oldest output", show=False, id="repl.scroll-top"),
        Binding("shift+end", "follow", "Follow output", show=False, id="repl.scroll-bottom"),
    ]

    @dataclass
    class Typed(Message):
        """Bytes for the board: keys, a paste."""

        terminal: ReplTerminal
        data: bytes

        @property
        def control(self) -> ReplTerminal:
            return self.terminal

    @dataclass
    class FocusReleased(Message):
        """The user pressed the leave key."""

        terminal: ReplTerminal

    @dataclass
    class CaptureRequested(Message):
        """Start capturing to a file: the screen asks where, then calls start_capture()."""

        terminal: ReplTerminal

    @dataclass
    class InjectRequested(Message):
        """Inject code (`kind` "code") or a file ("file"), as mpremote's Ctrl-J / Ctrl-K."""

        terminal: ReplTerminal
        kind: str

    @dataclass
    class ModeChanged(Message):
        """Hex display or capture was switched on or off."""

        terminal: ReplTerminal

    def __init__(
        self,
        board_key: str = "",
        *,
        scrollback: int = 5000,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.board_key = board_key
        self.model = TerminalModel(80, 24, scrollback)
        self.intake = Intake(self.model)
        self.capture = Capture()
        self.view = Viewport(self.model)
        self.passthrough: set[str] = {"ctrl+q"}  # app-wide keys that are not sent
        self._timer: Timer | None = None
        self._due = 0.0  # when the pending frame (self._timer) is
        self.pacing = Pacing()  # when frames come, which are painted at once
        self.strips = LineStrips(self.model)
        output_expected(time.monotonic())  # made for a board being connected

    # -- output from the board --------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        """Board output; parsed and shown within a frame."""
        self.capture.write(data)
        self.intake.receive(data)
        now = time.monotonic()
        output_came(now)
        if not self.is_mounted:  # on_mount shows it
            return
        due = self.pacing.output(data, now, None if self._timer is None else self._due)
        if self._timer is None or due < self._due - 0.0001:
            self._schedule(due - now)

    def _schedule(self, delay: float) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._due = time.monotonic() + delay
        self._timer = self.set_timer(delay, self._flush, name="repl-frame")

    @property
    def received(self) -> int:
        """Bytes received from the board."""
        return self.intake.received

    @property
    def skipped(self) -> int:
        """Bytes skipped to catch up with a flood."""
        return self.intake.skipped

    @property
    def pending(self) -> int:
        """Bytes received and not yet shown."""
        return self.intake.pending

    def on_mount(self) -> None:
        if self.intake.pending and self._timer is None:
            self._schedule(0.001)

    def on_unmount(self) -> None:
        self.capture.stop()

    def notice(self, text: str) -> None:
        """A line of mptui's own in the terminal (reset, reconnect, capture)."""
        self.intake.parse_all()
        self.model.notice(text)
        self._repaint()

    def _flush(self) -> None:
        self._timer = None
        now = time.monotonic()
        self.pacing.frame(now)
        self.intake.parse_frame()
        if self.pacing.drawn(self._repaint(), self.size.height):
            self._paint_now()
        if self.intake.pending:
            self._schedule(self.pacing.interval(now))

    def _paint_now(self) -> None:
        """Put what was refreshed on the terminal now, not at the screen's next update tick
        (Textual paints at most 60 times a second, on a fixed beat: a key's echo would wait up
        to a beat, and more while a flood keeps the loop busy): the screen's update, with
        whatever else it has pending, done now (private names: skipped if they go); its next
        tick then finds nothing to do."""
        screen = self.screen
        update = getattr(screen, "_on_timer_update", None)
        dirty = getattr(screen, "_dirty_widgets", None)
        if update is not None and isinstance(dirty, set) and screen.is_current:
            dirty.add(self)  # (refresh() has it added later, once the widget is idle)
            update()

    # -- painting ---------------------------------------------------------------------------

    def _repaint(self) -> int:
        """Repaint what changed; how many lines the output scrolled."""
        changed, grew = self.strips.take_changed()
        if self.view.back:
            self.view.output_grew(grew)
            self.refresh(Region(0, 0, self.size.width, 1))  # the "scrolled back" bar
            return grew
        if grew:
            self.refresh()
            return grew
        top = self.view.top
        for line in changed:
            if top <= line < top + self.size.height:
                self.refresh(Region(0, line - top, self.size.width, 1))
        return grew

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        strips = self.strips
        base = strips.base
        if width != strips.width or base is None:
            base = self.rich_style
            strips.fit(width, base)
        line = self.view.top + y
        strip = strips.get(line)
        selection = self.view.selected_columns(line, width)
        if selection:
            style = self.get_component_rich_style("repl-terminal--selection")
            strip = restyle(strip, selection[0], selection[1] + 1, style, width)
        cx, cy = self.model.cursor
        if (
            self.has_focus
            and not self.model.cursor_hidden
            and line == self.model.screen_top + cy
            and cx < width
        ):
            style = self.get_component_rich_style("repl-terminal--cursor")
            strip = restyle(strip, cx, cx + 1, style, width)
        if y == 0 and self.view.back:
            bar = f" ↑ {self.view.back} lines back · Shift+End follows "
            style = self.get_component_rich_style("repl-terminal--scrolled")
            strip = with_bar(strip, bar, style, width, base)
        return strip

    def on_resize(self, event: events.Resize) -> None:
        self.intake.parse_all()
        self.model.resize(event.size.width, event.size.height)
        self.strips.resized()
        self.view.fit()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.strips.styles_changed()

    def on_focus(self) -> None:
        self._refresh_cursor()

    def on_blur(self) -> None:
        self._refresh_cursor()

    def _refresh_cursor(self) -> None:
        cursor = self.strips.cursor
        if cursor is not None:
            y = cursor[1] - self.view.top
            self.refresh(Region(0, y, self.size.width, 1))

    # -- keys -------------------------------------------------------------------------------

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        """Keys the board gets, so the app's own bindings for them stand aside."""
        return key not in self.passthrough and encode_key(key, character) is not None

    async def on_key(self, event: events.Key) -> None:
        key = event.key
        if key in self.passthrough or self._is_bound(key):
            return  # the binding system handles it
        data = encode_key(key, event.character)
        if data is None:
            return
        event.stop()
        event.prevent_default()
        self.send(data)

    def _is_bound(self, key: str) -> bool:
        if key not in self._bindings.key_to_bindings:  # (cheap: most keys are not, and the
            return False  # screen's active bindings are worked out anew each time)
        active = self.screen.active_bindings.get(key)
        return active is not None and active.node is self

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        self.send(encode_paste(event.text))

    def send(self, data: bytes) -> None:
        """Bytes to the board, as if typed; snaps the view back to the live screen."""
        if not data:
            return
        self._clear_selection()
        if self.view.back:
            self.action_follow()
        self.pacing.typed(data, time.monotonic())
        self.post_message(self.Typed(self, data))

    # -- actions ----------------------------------------------------------------------------

    def action_leave(self) -> None:
        self.post_message(self.FocusReleased(self))

    def action_capture(self) -> None:
        if self.capture.active:
            self.stop_capture()
        else:
            self.post_message(self.CaptureRequested(self))

    def start_capture(self, path: Path) -> None:
        """Append everything the board sends from now on to `path` (raw bytes)."""
        self.stop_capture()
        self.capture.start(path)
        self.notice(f"[capturing to {path}]")
        self._mode_changed()

    def stop_capture(self) -> None:
        path = self.capture.stop()
        if path is not None:
            self.notice(f"[capture saved in {path}]")
            self._mode_changed()

    def _mode_changed(self) -> None:
        # sent by the terminal itself: it goes past the parent whose call may have started it
        self.post_message(self.ModeChanged(self).set_sender(self))

    @property
    def capturing(self) -> bool:
        return self.capture.active

    @property
    def capture_path(self) -> Path | None:
        return self.capture.path

    @property
    def hex(self) -> bool:
        return self.model.hex

    def action_toggle_hex(self) -> None:
        self.intake.parse_all()
        self.model.hex = not self.model.hex
        self._mode_changed()

    def action_inject_code(self) -> None:
        self.post_message(self.InjectRequested(self, "code"))

    def action_inject_file(self) -> None:
        self.post_message(self.InjectRequested(self, "file"))

    def action_copy(self) -> None:
        text = self.view.text(self.size.height)
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {len(text.splitlines())} lines", timeout=2)

    def action_paste(self) -> None:
        self.send(encode_paste(self.app.clipboard))

    def action_scroll_back(self, lines: int | None = None) -> None:
        self._scroll_back_to(self.view.back + (lines or max(1, self.size.height - 1)))

    def action_scroll_forward(self, lines: int | None = None) -> None:
        self._scroll_back_to(self.view.back - (lines or max(1, self.size.height - 1)))

    def action_scroll_oldest(self) -> None:
        self._scroll_back_to(self.view.max_back)

    def action_follow(self) -> None:
        self._scroll_back_to(0)

    def _scroll_back_to(self, back: int) -> None:
        if self.view.scroll_to(back):
            self.refresh()

    @property
    def scrolled_back(self) -> int:
        return self.view.back

    # -- mouse ------------------------------------------------------------------------------

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.action_scroll_back(WHEEL_LINES)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.action_scroll_forward(WHEEL_LINES)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self._clear_selection()
        self.view.select_start(event.x, event.y)
        self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if event.button and self.view.select_drag(event.x, event.y, self.size.height):
            self.refresh()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self.release_mouse()
        if self.view.select_to is None:
            self.view.select_from = None
            return
        self.action_copy()

    def _clear_selection(self) -> None:
        if self.view.clear_selection():
            self.refresh()
