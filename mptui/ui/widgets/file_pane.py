"""One pane of the Files tab: a folder on one side, this computer or a board, browsed with
Midnight Commander's keys. Both panes are this widget over the FileSystem interface; it never
knows which side it shows."""

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

from mptui.errors import MptuiError
from mptui.services.filesystem import FileInfo, FileSystem
from mptui.ui.safe_text import printable
from mptui.ui.units import error_text, home_relative, short_size
from mptui.ui.workers import work

SIZE_WIDTH = 7  # the size column: '12.3K', '<DIR>', 'UP--DIR'
UP = ".."


def sort_key(info: FileInfo) -> tuple:
    """Folders first, then files, by name (case folded, then as is)."""
    return (not info.is_dir, info.name.casefold(), info.name)


def fit(name: str, width: int) -> str:
    """The name in at most `width` cells; a long one loses its middle ('longna…me.py')."""
    if cell_len(name) <= width:
        return name
    if width <= 1:
        return "…"[:width]
    tail = (width - 1) // 2
    head = width - 1 - tail
    return Content(name).truncate(head).plain + "…" + _last_cells(name, tail)


def _last_cells(text: str, width: int) -> str:
    out = ""
    for ch in reversed(text):
        if cell_len(ch + out) > width:
            break
        out = ch + out
    return out


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

    def __init__(self, prefix: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.prefix = prefix  # before the path in the title: 'virtual:' for a board
        self.fs: FileSystem | None = None
        self.path = ""
        self.entries: list[FileInfo] = []  # sorted, without '..'
        self.marked: set[str] = set()  # paths
        self.free: tuple[int, int] | None = None  # (total, free) bytes
        self.loading = False
        self.error = ""  # why the last listing failed
        self.message = ""  # shown instead of a listing (no filesystem)
        self._width = 0

    # -- what is shown ----------------------------------------------------------------------

    def set_fs(self, fs: FileSystem | None, prefix: str = "", message: str = "") -> None:
        """Show a side (its home folder), or, with fs None, a message instead of files."""
        self.fs, self.prefix, self.message = fs, prefix, message
        self.entries, self.marked, self.free, self.path, self.error = [], set(), None, "", ""
        self._render()
        if fs is not None:
            self.show_folder(fs.home())

    def show_folder(self, path: str, select: str | None = None) -> None:
        """List a folder (in a worker); the cursor goes to `select` if it is there."""
        if self.fs is not None:
            self.loading = True
            self._list(self.fs, path, select)

    def reload(self) -> None:
        """List the folder again, keeping the cursor on the same entry."""
        current = self.highlighted_entry
        self.show_folder(self.path or (self.fs.home() if self.fs else ""),
                         current.name if current else None)

    @work(exclusive=True, group="file-pane-list")
    async def _list(self, fs: FileSystem, path: str, select: str | None) -> None:
        try:
            entries = await fs.list(path)
        except (OSError, MptuiError) as e:
            if fs is self.fs:
                self.loading = False
                self.error = error_text(e)
                self.app.notify(f"{self.prefix}{path}: {self.error}", severity="error")
                self._render()
            return
        try:
            free = await fs.df(path)
        except (OSError, MptuiError):
            free = None
        if fs is not self.fs:
            return
        if path != self.path:
            self.marked.clear()
        self.path, self.free, self.error, self.loading = path, free, "", False
        self.entries = sorted(entries, key=sort_key)
        self.marked &= {e.path for e in self.entries}
        self._render(select)

    @property
    def at_root(self) -> bool:
        return self.fs is None or not self.path or self.fs.parent(self.path) == self.path

    @property
    def rows(self) -> list[FileInfo | None]:
        """What each line shows: None for '..'."""
        return ([] if self.at_root else [None]) + list(self.entries)

    @property
    def highlighted_entry(self) -> FileInfo | None:
        rows = self.rows
        index = self.highlighted
        if self.fs is None or index is None or index >= len(rows):
            return None
        return rows[index]

    def chosen(self) -> list[FileInfo]:
        """What an action takes: the marked entries, else the one under the cursor."""
        if self.marked:
            return [e for e in self.entries if e.path in self.marked]
        entry = self.highlighted_entry
        return [entry] if entry else []

    def note_change(self, path: str, is_dir: bool = False, size: int = 0,
                    gone: bool = False) -> None:
        """Show a change made elsewhere (a watch upload) without listing the folder again: a
        round trip would stop the program the upload may have started."""
        if self.fs is None or not self.path or self.fs.parent(path) != self.path:
            return
        name = self.fs.basename(path)
        entries = [e for e in self.entries if e.name != name]
        if not gone:
            entries.append(FileInfo(name, path, is_dir, 0 if is_dir else size))
        current = self.highlighted_entry
        self.entries = sorted(entries, key=sort_key)
        self.marked &= {e.path for e in self.entries}
        self._render(current.name if current else None)

    def clear_marks(self) -> None:
        if self.marked:
            self.marked.clear()
            self._render()

    # -- drawing ----------------------------------------------------------------------------

    def on_resize(self) -> None:
        if self.scrollable_content_region.width != self._width:
            self._render()

    def _render(self, select: str | None = None) -> None:
        self._width = width = self.scrollable_content_region.width
        current = self.highlighted
        if self.fs is None or (self.error and not self.entries):
            text = printable(self.message if self.fs is None else f"cannot list: {self.error}")
            self.set_options([Option(Content.styled(text, "$text-muted"), disabled=True)])
        else:
            self.set_options(Option(self._row(e, width)) for e in self.rows)
            names = [e.name if e else UP for e in self.rows]
            if select in names:
                current = names.index(select)
            if self.option_count:
                self.highlighted = min(current or 0, self.option_count - 1)
        self.border_title = Content(self._title(width))  # a board's names: no markup
        self.border_subtitle = self._subtitle(width)

    def _row(self, info: FileInfo | None, width: int) -> Content:
        if info is None:
            name, size, style = "/" + UP, "UP--DIR", "bold"
        else:
            name = ("/" if info.is_dir else "") + printable(info.name)
            size = "<DIR>" if info.is_dir else short_size(info.size)
            style = "bold" if info.is_dir else ""
        marked = info is not None and info.path in self.marked
        if marked:
            style = "$warning bold"
        name_width = max(width - SIZE_WIDTH - 2, 1)
        text = fit(name, name_width)
        row = ("*" if marked else " ") + text + " " * (name_width - cell_len(text))
        return Content.styled(row + " " + size.rjust(SIZE_WIDTH), style)

    @property
    def location(self) -> str:
        """Where the pane is, as the user reads it: '~/proj', 'virtual:/lib'."""
        if self.fs is None or not self.path:
            return self.prefix
        return self.prefix + (home_relative(self.path) if self.fs.is_local else self.path)

    def _title(self, width: int) -> str:
        shown = printable(self.location)
        room = max(width - 4, 8)
        if cell_len(shown) > room:
            shown = "…" + _last_cells(shown, room - 1)
        return shown

    def _subtitle(self, width: int) -> str:
        """Marks and the free space; the marks alone when both do not fit."""
        parts = []
        if self.loading and not self.entries:
            parts.append("listing…")
        if self.marked:
            total = sum(e.size for e in self.entries if e.path in self.marked and not e.is_dir)
            parts.append(f"{len(self.marked)} marked, {short_size(total)}")
        if self.free is not None:
            free = f"{short_size(self.free[1])} free"
            if not parts or cell_len(" · ".join([*parts, free])) <= width - 4:
                parts.append(free)
        return " · ".join(parts)

    # -- keys -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return self.fs is not None or action not in ("open", "up", "mark", "invert_marks")

    def action_open(self) -> None:
        if self.highlighted is None or self.fs is None:
            return
        entry = self.highlighted_entry
        if entry is None:
            self.action_up()
        elif entry.is_dir:
            self.show_folder(entry.path)
        else:
            self.post_message(self.FileChosen(self, entry))

    def action_up(self) -> None:
        if self.fs is None or self.at_root:
            return
        self.show_folder(self.fs.parent(self.path), select=self.fs.basename(self.path))

    def action_mark(self) -> None:
        entry = self.highlighted_entry
        if entry is not None:
            self.marked ^= {entry.path}
            self._render()
        self.action_cursor_down()

    def action_invert_marks(self) -> None:
        self.marked = {e.path for e in self.entries} - self.marked
        self._render()

    async def _on_click(self, event: events.Click) -> None:
        """A click moves the cursor; a double click opens, as Enter does."""
        event.prevent_default()  # OptionList's own click would select (open) at once
        clicked = event.style.meta.get("option")
        if clicked is not None and not self.get_option_at_index(clicked).disabled:
            self.highlighted = clicked
            if event.chain == 2:
                self.action_open()
