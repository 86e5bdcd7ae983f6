"""The REPL terminal: a thin widget over the Textual-free TerminalModel.

Every key the board can use goes to the board, as the bytes a terminal sends (posted up as
`ReplTerminal.Typed`); the one key that gives focus back is Ctrl-] (binding `repl.leave`).
Board output arrives through `receive()`, is batched and parsed within a time budget once per
frame, and only changed lines are repainted, so a flood never stalls typing or the UI.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from mptui.ui.terminal.keys import encode_key, encode_paste
from mptui.ui.terminal.model import TerminalModel

FRAME = 1 / 30  # seconds between repaints while output streams in
PARSE_BUDGET = 0.012  # seconds of parsing per frame; the rest is for input and drawing
CHUNK = 2048  # bytes parsed between budget checks; fewer while a chunk costs more than the
MIN_CHUNK = 128  # budget (a stream of costly sequences), so a frame stays within it
# A flood faster than the terminal can parse: once the backlog would take longer than this to
# parse, lines too old to stay even in the scrollback are skipped unparsed (the screen and the
# scrollback then hold the same lines as if all had been parsed), then, if that is not enough
# (long lines, costly escape sequences), the oldest bytes: the screen stays current.
LAG_LIMIT = 0.1
WHEEL_LINES = 3

_ANSI = {
    "black": "black",
    "red": "red",
    "green": "green",
    "brown": "yellow",
    "blue": "blue",
    "magenta": "magenta",
    "cyan": "cyan",
    "white": "white",
}


def _color(name: str) -> str | None:
    if name == "default":
        return None
    if name in _ANSI:
        return _ANSI[name]
    if name.startswith("bright") and name[6:] in _ANSI:
        return "bright_" + _ANSI[name[6:]]
    return "#" + name if len(name) == 6 else None


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
        self.passthrough: set[str] = {"ctrl+q"}  # app-wide keys that are not sent
        self.capture_path: Path | None = None
        self.received = 0  # bytes received from the board
        self.skipped = 0  # bytes skipped to catch up with a flood
        self._parse_rate = 1e6  # bytes/s, measured while output streams in
        self._chunk = CHUNK
        self._capture: BinaryIO | None = None
        self._backlog = bytearray()
        self._timer: Timer | None = None
        self._last_flush = 0.0
        self._seen_top = 0
        self._scroll_back = 0
        self._strips: dict[int, Strip] = {}
        self._styles: dict[tuple, Style] = {}
        self._cursor: tuple[int, int] | None = None  # (column, line) last painted
        self._select_from: tuple[int, int] | None = None
        self._select_to: tuple[int, int] | None = None

    # -- output from the board --------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        """Board output; parsed and shown within a frame."""
        self.received += len(data)
        if self._capture:
            self._capture.write(data)
        self._backlog += data
        if self._timer is None and self.is_mounted:  # else on_mount shows it
            delay = max(0.001, self._last_flush + FRAME - time.monotonic())
            self._timer = self.set_timer(delay, self._flush, name="repl-frame")

    def on_mount(self) -> None:
        if self._backlog and self._timer is None:
            self._timer = self.set_timer(0.001, self._flush, name="repl-frame")

    def on_unmount(self) -> None:
        if self._capture:
            self._capture.close()
            self._capture = None

    def notice(self, text: str) -> None:
        """A line of mptui's own in the terminal (reset, reconnect, capture)."""
        self._flush_all()
        self.model.notice(text)
        self._repaint()

    @property
    def pending(self) -> int:
        """Bytes received and not yet shown."""
        return len(self._backlog)

    def _catch_up(self) -> None:
        """When the backlog would take longer than LAG_LIMIT to parse, drop its lines that
        would scroll out of the scrollback anyway; and if what is left would still take
        longer (long lines, costly escape sequences), its oldest bytes."""
        backlog = self._backlog
        keep = int(self._parse_rate * LAG_LIMIT)
        if len(backlog) <= keep:
            return
        cut = len(backlog)
        for _ in range(self.model.scrollback + self.model.lines):
            cut = backlog.rfind(b"\n", 0, cut)
            if cut < 0:
                break  # all of it would still be kept
        skipped = max(cut + 1, len(backlog) - max(keep, CHUNK))
        del backlog[:skipped]
        self.skipped += skipped
        self.model.notice(
            f"[mptui: {skipped // 1024} KB of output went by faster than shown. "
            "Capture (F2) keeps everything.]"
        )

    def _flush(self) -> None:
        self._timer = None
        start = time.monotonic()
        self._last_flush = start
        self._catch_up()
        parsed = 0
        now = start
        while self._backlog and now - start < PARSE_BUDGET:
            chunk = bytes(self._backlog[: self._chunk])
            del self._backlog[: self._chunk]
            self.model.feed(chunk)
            parsed += len(chunk)
            before, now = now, time.monotonic()
            self._fit_chunk(now - before)
        spent = now - start
        if self._backlog and parsed and spent > 0:  # the budget ran out first: a true rate
            self._parse_rate = 0.7 * self._parse_rate + 0.3 * parsed / spent
        self._repaint()
        if self._backlog:
            self._timer = self.set_timer(FRAME, self._flush, name="repl-frame")

    def _fit_chunk(self, took: float) -> None:
        if took > PARSE_BUDGET:
            self._chunk = max(MIN_CHUNK, self._chunk // 2)
        elif took < PARSE_BUDGET / 8:
            self._chunk = min(CHUNK, self._chunk * 2)

    def _flush_all(self) -> None:
        self._catch_up()
        if self._backlog:
            self.model.feed(bytes(self._backlog))
            self._backlog.clear()

    # -- painting ---------------------------------------------------------------------------

    def _repaint(self) -> None:
        model = self.model
        changed = model.take_changed()
        for line in changed:
            self._strips.pop(line, None)
        x, y = model.cursor
        cursor = (x, model.screen_top + y)
        if cursor != self._cursor:
            if self._cursor is not None:
                changed.add(self._cursor[1])
            changed.add(cursor[1])
            self._cursor = cursor
        grew = model.screen_top - self._seen_top
        self._seen_top = model.screen_top
        if len(self._strips) > 4 * (model.lines + 500):
            self._strips = {k: v for k, v in self._strips.items() if k >= model.first_line}
            if len(self._strips) > 4 * (model.lines + 500):
                self._strips.clear()
        if self._scroll_back:
            self._scroll_back = min(self._scroll_back + grew, self._max_back)
            self.refresh(Region(0, 0, self.size.width, 1))  # the "scrolled back" bar
            return
        if grew:
            self.refresh()
            return
        top = self._view_top
        for line in changed:
            if top <= line < top + self.size.height:
                self.refresh(Region(0, line - top, self.size.width, 1))

    @property
    def _max_back(self) -> int:
        return self.model.screen_top - self.model.first_line

    @property
    def _view_top(self) -> int:
        return self.model.screen_top - self._scroll_back

    def _strip_for(self, line: int) -> Strip:
        strip = self._strips.get(line)
        if strip is None:
            strip = self._strips[line] = self._build_strip(line)
        return strip

    def _build_strip(self, line: int) -> Strip:
        row = self.model.row(line)
        if not row:
            return Strip([])
        default = self.model.screen.default_char
        width = max(row) + 1
        segments = []
        text: list[str] = []
        attrs = None
        for x in range(width):
            char = row.get(x, default)
            a = char[1:]
            if a != attrs:
                if text:
                    segments.append(Segment("".join(text), self._style(attrs)))
                text, attrs = [], a
            text.append(char.data)
        if text:
            segments.append(Segment("".join(text), self._style(attrs)))
        return Strip(segments)

    def _style(self, attrs) -> Style | None:
        style = self._styles.get(attrs)
        if style is None:
            fg, bg, bold, italics, underscore, strike, reverse, _blink = attrs
            style = self._styles[attrs] = Style(
                color=_color(fg),
                bgcolor=_color(bg),
                bold=bold or None,
                italic=italics or None,
                underline=underscore or None,
                strike=strike or None,
                reverse=reverse or None,
            )
        return style

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        line = self._view_top + y
        strip = self._strip_for(line)
        selection = self._selected_columns(line)
        if selection:
            style = self.get_component_rich_style("repl-terminal--selection")
            strip = _restyle(strip, selection[0], selection[1] + 1, style, width)
        cx, cy = self.model.cursor
        if (
            self.has_focus
            and not self.model.cursor_hidden
            and line == self.model.screen_top + cy
            and cx < width
        ):
            style = self.get_component_rich_style("repl-terminal--cursor")
            strip = _restyle(strip, cx, cx + 1, style, width)
        if y == 0 and self._scroll_back:
            bar = f" ↑ {self._scroll_back} lines back · Shift+End follows "
            style = self.get_component_rich_style("repl-terminal--scrolled")
            bar_strip = Strip([Segment(bar[: width], style)])
            keep = max(0, width - bar_strip.cell_length)
            strip = Strip.join([strip.extend_cell_length(keep).crop(0, keep), bar_strip])
        return strip.extend_cell_length(width).crop(0, width).apply_style(base)

    def on_resize(self, event: events.Resize) -> None:
        self._flush_all()
        self.model.resize(event.size.width, event.size.height)
        self._strips.clear()
        self._seen_top = self.model.screen_top
        self._scroll_back = min(self._scroll_back, self._max_back)
        self.model.take_changed()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._styles.clear()

    def on_focus(self) -> None:
        self._refresh_cursor()

    def on_blur(self) -> None:
        self._refresh_cursor()

    def _refresh_cursor(self) -> None:
        if self._cursor is not None:
            y = self._cursor[1] - self._view_top
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
        if self._scroll_back:
            self.action_follow()
        self.post_message(self.Typed(self, data))

    # -- actions ----------------------------------------------------------------------------

    def action_leave(self) -> None:
        self.post_message(self.FocusReleased(self))

    def action_capture(self) -> None:
        if self._capture:
            self.stop_capture()
        else:
            self.post_message(self.CaptureRequested(self))

    def start_capture(self, path: Path) -> None:
        """Append everything the board sends from now on to `path` (raw bytes)."""
        self.stop_capture()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._capture = path.open("ab")
        self.capture_path = path
        self.notice(f"[capturing to {path}]")
        self._mode_changed()

    def stop_capture(self) -> None:
        if self._capture is None:
            return
        self._capture.close()
        self._capture = None
        self.notice(f"[capture saved in {self.capture_path}]")
        self.capture_path = None
        self._mode_changed()

    def _mode_changed(self) -> None:
        # sent by the terminal itself: it goes past the parent whose call may have started it
        self.post_message(self.ModeChanged(self).set_sender(self))

    @property
    def capturing(self) -> bool:
        return self._capture is not None

    @property
    def hex(self) -> bool:
        return self.model.hex

    def action_toggle_hex(self) -> None:
        self._flush_all()
        self.model.hex = not self.model.hex
        self._mode_changed()

    def action_inject_code(self) -> None:
        self.post_message(self.InjectRequested(self, "code"))

    def action_inject_file(self) -> None:
        self.post_message(self.InjectRequested(self, "file"))

    def action_copy(self) -> None:
        if self._select_from and self._select_to:
            text = self.model.text_between(self._select_from, self._select_to)
        else:
            top = self._view_top
            text = "\n".join(self.model.text(top + y) for y in range(self.size.height)).rstrip()
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {len(text.splitlines())} lines", timeout=2)

    def action_paste(self) -> None:
        self.send(encode_paste(self.app.clipboard))

    def action_scroll_back(self, lines: int | None = None) -> None:
        self._scroll_to(self._scroll_back + (lines or max(1, self.size.height - 1)))

    def action_scroll_forward(self, lines: int | None = None) -> None:
        self._scroll_to(self._scroll_back - (lines or max(1, self.size.height - 1)))

    def action_scroll_oldest(self) -> None:
        self._scroll_to(self._max_back)

    def action_follow(self) -> None:
        self._scroll_to(0)

    def _scroll_to(self, back: int) -> None:
        back = max(0, min(back, self._max_back))
        if back != self._scroll_back:
            self._scroll_back = back
            self.refresh()

    @property
    def scrolled_back(self) -> int:
        return self._scroll_back

    # -- mouse ------------------------------------------------------------------------------

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.action_scroll_back(WHEEL_LINES)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.action_scroll_forward(WHEEL_LINES)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self._clear_selection()
        self._select_from = (self._view_top + event.y, event.x)
        self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._select_from is None or not event.button:
            return
        y = max(0, min(event.y, self.size.height - 1))
        self._select_to = (self._view_top + y, max(0, event.x))
        self.refresh()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self.release_mouse()
        if self._select_to is None:
            self._select_from = None
            return
        self.action_copy()

    def _clear_selection(self) -> None:
        if self._select_to is not None:
            self.refresh()
        self._select_from = self._select_to = None

    def _selected_columns(self, line: int) -> tuple[int, int] | None:
        if self._select_from is None or self._select_to is None:
            return None
        (l0, c0), (l1, c1) = sorted((self._select_from, self._select_to))
        if not l0 <= line <= l1:
            return None
        return (c0 if line == l0 else 0, c1 if line == l1 else self.size.width - 1)


def _restyle(strip: Strip, start: int, end: int, style: Style, width: int) -> Strip:
    """The strip with cells start..end (end excluded) in `style`, over their own style."""
    length = max(end, strip.cell_length)
    strip = strip.extend_cell_length(length)
    middle = strip.crop(start, end)
    middle = Strip([Segment(text, (s or Style()) + style) for text, s, _ in middle])
    return Strip.join([strip.crop(0, start), middle, strip.crop(end, length)])
