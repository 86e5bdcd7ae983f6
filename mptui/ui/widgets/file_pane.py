"""One pane of the Files tab: a folder on one side, this computer or a board, browsed with
Midnight Commander's keys. Both panes are this widget over a PaneModel (mptui.ui.models.files),
which holds the folder, its entries, marks and cursor; the widget never knows which side it
shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from mptui.services.filesystem import FileInfo, FileSystem
from mptui.ui.models.files import UP, PaneModel
from mptui.ui.safe_text import fit, last_cells, printable
from mptui.ui.units import short_size
from mptui.ui.workers import work

SIZE_WIDTH = 7  # the size column: '12.3K', '<DIR>', 'UP--DIR'
WATCH_MS = 200  # a burst of changes on disk is listed once, this long after it settles


class FilePane(OptionList):
    """A folder's entries: name and size, folders first, marks in colour. Posts FileChosen
    when Enter is pressed on a file."""

    BINDING_GROUP_TITLE = "File pane"
    DEFAULT_CSS = """
    FilePane {
        width: 1fr;
        height: 1fr;
        border: round $panel;
        border-title-color: $text-muted;
        border-subtitle-color: $text-muted;
        padding: 0;
        scrollbar-size-vertical: 1;
        scrollbar-gutter: stable;
    }
    FilePane:focus { border: round $primary; border-title-color: $primary; }
    FilePane > .option-list--option { padding: 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", show=False, id="files.open",
                tooltip="Open the folder (on a file: view it)"),
        Binding("backspace", "up", "Up", show=False, id="files.up",
                tooltip="Go up to the parent folder"),
        Binding("space,insert", "mark", "Mark", show=False, id="files.mark",
                tooltip="Mark or unmark the entry and move down (F5, F6, F8 take marked ones)"),
        Binding("asterisk", "invert_marks", "Invert marks", show=False, id="files.invert-marks",
                tooltip="Mark what is not marked and unmark what is"),
    ]

    @dataclass
    class FileChosen(Message):
        """Enter on a file."""

        pane: FilePane
        info: FileInfo

        @property
        def control(self) -> FilePane:
            return self.pane

    def __init__(self, model: PaneModel | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model or PaneModel()
        self._width = 0
        self._rendering = False  # the options are being replaced: the cursor is the model's
        self._watched = ""  # the local folder watched for changes on disk

    def watch_highlighted(self, highlighted: int | None) -> None:
        super().watch_highlighted(highlighted)
        if not self._rendering:
            self.model.cursor = highlighted

    # -- what is shown ----------------------------------------------------------------------

    def set_fs(self, fs: FileSystem | None, prefix: str = "", message: str = "") -> None:
        """Show a side (its home folder), or, with fs None, a message instead of files."""
        self.model.set_fs(fs, prefix, message)
        self.redraw()
        if fs is not None:
            self.show_folder(fs.home())

    def show_folder(self, path: str, select: str | None = None) -> None:
        """List a folder (in a worker); the cursor goes to `select` if it is there."""
        if self.model.fs is not None:
            self.model.loading = True
            self._list(path, select)

    def reload(self) -> None:
        """List the folder again, keeping the cursor on the same entry."""
        model = self.model
        current = model.current
        self.show_folder(model.path or (model.fs.home() if model.fs else ""),
                         current.name if current else None)

    @work(exclusive=True, group="file-pane-list")
    async def _list(self, path: str, select: str | None) -> None:
        error = await self.model.load(path, select)
        if error:
            self.app.notify(f"{self.model.prefix}{path}: {error}", severity="error")
        self.redraw()
        fs = self.model.fs
        if fs is not None and fs.is_local and self.model.path and self.model.path != self._watched:
            self._watched = self.model.path
            self._watch_folder(self.model.path)

    @work(exclusive=True, group="file-pane-watch")
    async def _watch_folder(self, path: str) -> None:
        """This computer's folder shown: listed again when something in it changes on disk
        (a file saved elsewhere shows its new size), until another folder is shown."""
        from watchfiles import awatch

        try:
            async for _ in awatch(path, recursive=False, watch_filter=None, debounce=WATCH_MS,
                                  step=50):
                if self.model.path != path:
                    return
                self.reload()
        except (OSError, RuntimeError):  # gone, or not watchable: listed on Ctrl-R then
            pass
        finally:
            if self._watched == path:
                self._watched = ""

    def clear_marks(self) -> None:
        if self.model.clear_marks():
            self.redraw()

    # -- drawing ----------------------------------------------------------------------------

    def on_resize(self) -> None:
        if self.scrollable_content_region.width != self._width:
            self.redraw()

    def redraw(self) -> None:
        """Show the model as it is now."""
        model = self.model
        self._width = width = self.scrollable_content_region.width
        self._rendering = True
        try:
            if model.fs is None or (model.error and not model.entries):
                text = printable(model.message if model.fs is None
                                 else f"cannot list: {model.error}")
                self.set_options([Option(Content.styled(text, "$text-muted"), disabled=True)])
            else:
                self.set_options(Option(self._row(e, width)) for e in model.rows)
                if self.option_count and model.cursor is not None:
                    self.highlighted = min(model.cursor, self.option_count - 1)
        finally:
            self._rendering = False
        self.border_title = Content(self._title(width))  # a board's names: no markup
        self.border_subtitle = self._subtitle(width)

    def _row(self, info: FileInfo | None, width: int) -> Content:
        if info is None:
            name, size, style = "/" + UP, "UP--DIR", "bold"
        else:
            name = ("/" if info.is_dir else "") + printable(info.name)
            size = "<DIR>" if info.is_dir else short_size(info.size)
            style = "bold" if info.is_dir else ""
        marked = info is not None and info.path in self.model.marked
        if marked:
            style = "$warning bold"
        name_width = max(width - SIZE_WIDTH - 2, 1)
        text = fit(name, name_width)
        row = ("*" if marked else " ") + text + " " * (name_width - cell_len(text))
        return Content.styled(row + " " + size.rjust(SIZE_WIDTH), style)

    def _title(self, width: int) -> str:
        shown = printable(self.model.location)
        room = max(width - 4, 8)
        if cell_len(shown) > room:
            shown = "…" + last_cells(shown, room - 1)
        return shown

    def _subtitle(self, width: int) -> str:
        """Marks and the free space; the marks alone when both do not fit."""
        model = self.model
        parts = []
        if model.loading and not model.entries:
            parts.append("listing…")
        if model.marked:
            parts.append(model.marks_text())
        if model.free is not None:
            free = f"{short_size(model.free[1])} free"
            if not parts or cell_len(" · ".join([*parts, free])) <= width - 4:
                parts.append(free)
        return " · ".join(parts)

    # -- keys -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return self.model.fs is not None or action not in ("open", "up", "mark", "invert_marks")

    def action_open(self) -> None:
        if self.highlighted is None or self.model.fs is None:
            return
        entry = self.model.current
        if entry is None:
            self.action_up()
        elif entry.is_dir:
            self.show_folder(entry.path)
        else:
            self.post_message(self.FileChosen(self, entry))

    def action_up(self) -> None:
        up = self.model.up()
        if up is not None:
            self.show_folder(*up)

    def action_mark(self) -> None:
        self.model.toggle_mark()
        self.redraw()
        self.action_cursor_down()

    def action_invert_marks(self) -> None:
        self.model.invert_marks()
        self.redraw()

    async def _on_click(self, event: events.Click) -> None:
        """A click moves the cursor; a double click opens, as Enter does."""
        event.prevent_default()  # OptionList's own click would select (open) at once
        clicked = event.style.meta.get("option")
        if clicked is not None and not self.get_option_at_index(clicked).disabled:
            self.highlighted = clicked
            if event.chain == 2:
                self.action_open()
