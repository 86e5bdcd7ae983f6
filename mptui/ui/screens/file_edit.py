"""F4 in the Files tab: a file of either side (the board's or this computer's) in the app's own
editor, Textual's TextArea (Python highlighted when tree-sitter and its Python grammar are
installed, plain text otherwise). Ctrl-S saves it, atomically as every copy does; Esc closes
(asking first when there are unsaved changes).

The file's sha256 is taken when it is opened and compared with the side's before each save:
a file changed there meanwhile (by a sync, a program, another tool) is marked in the title and
the save asks before overwriting it."""

from __future__ import annotations

import hashlib
from importlib.util import find_spec
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Label, TextArea

from mptui.services.filesystem import FileInfo, FileSystem
from mptui.services.transfer import TransferMeter, copy_file
from mptui.ui.models.files import FAILURES
from mptui.ui.safe_text import printable
from mptui.ui.screens.confirm import ConfirmScreen
from mptui.ui.screens.file_view import PYTHON, is_text
from mptui.ui.units import error_text, size_text
from mptui.ui.workers import work

EDIT_LIMIT = 1024 * 1024  # bytes: a larger file is viewed (F3) or edited in $EDITOR (Shift-F4)
HIGHLIGHTING = find_spec("tree_sitter") is not None and find_spec("tree_sitter_python") is not None


def not_editable(data: bytes) -> str | None:
    """Why a file's content cannot be edited here, or None."""
    if len(data) > EDIT_LIMIT:
        return f"over {size_text(EDIT_LIMIT)}: F3 views it, Shift-F4 edits it in $EDITOR"
    if not is_text(data):
        return "not UTF-8 text: F3 shows it as hex"
    return None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileEditScreen(Screen[bool]):
    """Returns whether the file was saved."""

    AUTO_FOCUS = "#edit-text"
    DEFAULT_CSS = """
    FileEditScreen #edit-title { width: 1fr; height: 1; background: $panel; padding: 0 1; }
    FileEditScreen #edit-title.-changed-there { background: $warning 40%; }
    FileEditScreen #edit-text { width: 1fr; height: 1fr; border: none; padding: 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True, id="edit.save",
                tooltip="Save to the file's side (atomic; asks first if it changed there)"),
        Binding("escape", "close", "Close", priority=True, id="edit.close",
                tooltip="Close the editor (asks first when there are unsaved changes)"),
    ]

    def __init__(self, fs: FileSystem, info: FileInfo, data: bytes, title: str,
                 where: str = "the board") -> None:
        super().__init__()
        self.fs, self.info, self.title_text, self.where = fs, info, title, where
        self.saved_text = data.decode("utf-8")
        self.opened_hash = sha256(data)  # what the side had when it was opened or last saved
        self.changed_there = False
        self.saving = False
        self.saved_any = False

    def compose(self) -> ComposeResult:
        yield Label("", id="edit-title", markup=False)
        python = self.info.name.lower().endswith(PYTHON) and HIGHLIGHTING
        dark = self.app.current_theme.dark
        yield TextArea.code_editor(self.saved_text, language="python" if python else None,
                                   theme="monokai" if dark else "github_light", id="edit-text")
        yield Footer()

    def on_mount(self) -> None:
        self._show_state()

    @property
    def text_area(self) -> TextArea:
        return self.query_one("#edit-text", TextArea)

    @property
    def modified(self) -> bool:
        return self.text_area.text != self.saved_text

    def _show_state(self, doing: str = "") -> None:
        state = [doing or ("modified" if self.modified else "saved")]
        if self.changed_there:
            state.insert(0, f"CHANGED ON {self.where.upper()}")
        title = self.query_one("#edit-title", Label)
        title.update(printable(f"{self.title_text} ({' · '.join(state)})"))
        title.set_class(self.changed_there, "-changed-there")

    def on_text_area_changed(self, _: TextArea.Changed) -> None:
        self._show_state()

    # -- saving ---------------------------------------------------------------------------

    def action_save(self) -> None:
        if not self.saving:
            self._save(self.text_area.text, check=True)

    @work(exclusive=True, group="file-edit-save")
    async def _save(self, text: str, check: bool) -> None:
        data = text.encode("utf-8")
        self.saving = True
        self._show_state("saving")
        try:
            if check and await self._current_hash() != self.opened_hash:
                self.changed_there = True
                self.app.push_screen(ConfirmScreen(
                    f"{self.info.name} changed on {self.where} since it was opened here. "
                    "Overwrite it with this text?",
                    "No keeps editing: F3 in the Files tab shows what it holds now.",
                    title="Changed meanwhile"), lambda yes: self._overwrite(yes, text))
                return
            await copy_file(None, "", self.fs, self.info.path,
                            TransferMeter(len(data), 1, None), data=data)
        except FAILURES as e:
            self.app.notify(f"Not saved: {error_text(e)}", severity="error", timeout=10)
            return
        finally:
            self.saving = False
            self._show_state()
        self.saved_text, self.opened_hash = text, sha256(data)
        self.changed_there, self.saved_any = False, True
        self._show_state()
        self.app.notify(f"Saved {self.info.name} ({size_text(len(data))})")

    def _overwrite(self, yes: bool | None, text: str) -> None:
        if yes:
            self._save(text, check=False)

    async def _current_hash(self) -> str | None:
        try:
            return await self.fs.sha256(self.info.path)
        except FileNotFoundError:
            return None

    # -- closing --------------------------------------------------------------------------

    def action_close(self) -> None:
        if not self.modified:
            self.dismiss(self.saved_any)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(self.saved_any)

        self.app.push_screen(ConfirmScreen(f"Close {self.info.name} without saving?",
                                           "Your changes here are lost.", title="Unsaved"),
                             answered)
