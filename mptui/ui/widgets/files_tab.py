"""The Files tab: this computer on the left, the selected board on the right, Midnight
Commander's keys, transfers with progress (Esc cancels), sync with a plan, watch mode.

Its state and decisions are a FilesModel (mptui.ui.models.files): the two sides, what an
action applies to, the board side, the transfer; the work is the engine's (mptui.services:
copier, sync, watch). This widget asks, runs the work in a worker (one transfer at a time; the
panes list in their own), shows progress and reports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from textual import events, on
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import OptionList, Static
from textual.worker import Worker

from mptui.services.copier import copy_paths, delete_paths, move_paths
from mptui.services.events import BoardInfo
from mptui.services.localfs import LocalFS
from mptui.ui.file_content import ShowProgress
from mptui.ui.models.files import (
    COPY_OPTIONS,
    FAILURES,
    TRANSFER_RUNNING,
    Copy,
    Delete,
    FilesModel,
    PaneModel,
    copied_text,
    describe,
    refusals_text,
    valid_name,
)
from mptui.ui.safe_text import fit, printable
from mptui.ui.screens.confirm import ConfirmScreen
from mptui.ui.screens.prompt import PromptScreen
from mptui.ui.tab import TabContent
from mptui.ui.units import error_text, size_text
from mptui.ui.widgets.file_pane import FilePane
from mptui.ui.widgets.files_actions import FilesActions
from mptui.ui.widgets.transfer_bar import TransferBar
from mptui.ui.widgets.watch_panel import WatchPanel
from mptui.ui.workers import work


class FilesTab(FilesActions, TabContent, Vertical):
    """Shown in the Files tab. `show_board()` is called with the selected board."""

    BINDING_GROUP_TITLE = "Files"
    DEFAULT_CSS = """
    FilesTab { width: 1fr; height: 1fr; }
    FilesTab #files-panes { height: 1fr; }
    FilesTab #files-current { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "switch_pane", "Other pane", show=False, id="files.switch-pane",
                tooltip="Switch between this computer's pane and the board's"),
        Binding("f2", "sync", "Sync", id="files.sync",
                tooltip="Sync the left folder to the board folder: the plan first, then apply"),
        Binding("f3", "view", "View", id="files.view",
                tooltip="View the file (Python highlighted, binary as hex)"),
        Binding("f4", "edit", "Edit", id="files.edit",
                tooltip="Edit the file here (Ctrl-S saves it; Python highlighted)"),
        Binding("shift+f4", "edit_outside", "Edit in $EDITOR", show=False,
                id="files.edit-outside",
                tooltip="Edit the file in $VISUAL/$EDITOR (a board file goes back only if it "
                "changed)"),
        Binding("f5", "copy", "Copy", id="files.copy",
                tooltip="Copy the marked entries (or the one under the cursor) to the other side"),
        Binding("f6", "move", "Move", id="files.move",
                tooltip="Move the marked entries (or the one under the cursor) to the other side"),
        Binding("shift+f6", "rename", "Rename", show=False, id="files.rename",
                tooltip="Rename the entry under the cursor"),
        Binding("f7", "mkdir", "Mkdir", id="files.mkdir", tooltip="Make a folder"),
        Binding("f8,delete", "delete", "Delete", id="files.delete",
                tooltip="Delete the marked entries (or the one under the cursor), after asking"),
        Binding("w", "watch", "Watch", id="files.watch",
                tooltip="Watch the left folder: every save goes to the board folder (again: stop)"),
        Binding("m", "mount", "Mount", show=False, id="files.mount",
                tooltip="Mount the folder under the left cursor (else the left folder) at "
                        "/remote on the board, as `mptui mount` does (again: unmount)"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="files.refresh",
                tooltip="List both folders again, with the board's free space"),
        Binding("escape", "cancel", "Cancel", id="files.cancel",
                tooltip="Cancel the transfer: no partial file is left on either side"),
    ]

    def __init__(self, manager=None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.manager = manager
        self.model = FilesModel(manager)
        self.transfer: Worker | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="files-panes"):
            yield FilePane(self.model.local, id="files-local")
            yield FilePane(self.model.board, id="files-board")
        yield Static("", id="files-current", markup=False)  # the entry under the cursor, whole
        yield TransferBar(id="files-transfer")
        yield WatchPanel(id="files-watch")

    @property
    def local_pane(self) -> FilePane:
        return self.query_one("#files-local", FilePane)

    @property
    def board_pane(self) -> FilePane:
        return self.query_one("#files-board", FilePane)

    @property
    def transfer_bar(self) -> TransferBar:
        return self.query_one(TransferBar)

    @property
    def watch_panel(self) -> WatchPanel:
        return self.query_one(WatchPanel)

    def pane(self, model: PaneModel) -> FilePane:
        """The widget that shows a side."""
        return self.local_pane if model is self.model.local else self.board_pane

    @property
    def transferring(self) -> bool:
        return bool(self.model.transfer)

    def _parts_there(self) -> bool:  # not when the app quit as it was made, nor in teardown
        return bool(self.is_attached and self.query("#files-local") and self.query("#files-board"))

    def on_mount(self) -> None:
        if not self._parts_there():
            return
        self.local_pane.set_fs(LocalFS())
        self.show_board(self.model.board_info)

    # -- the board ---------------------------------------------------------------------------

    def show_board(self, board: BoardInfo | None) -> None:
        """The selected board, or what became of it: its files once it is connected and the
        tab is shown."""
        if board is not None and self.model.watch_lost(board) and self.watch_panel.watching:
            self.watch_panel.stop()
            self.app.notify(f"Watch stopped: {board.name} is {board.label}", severity="warning")
        shown = self.is_mounted and self.region.area > 0
        side = self.model.show_board(board, shown)
        if side is not None:
            self.board_pane.set_fs(*side)

    def on_show(self) -> None:
        self.call_after_refresh(self._show_when_laid_out)

    def _show_when_laid_out(self) -> None:  # (run by the screen: the tab may be gone by then)
        if self._parts_there():
            self.show_board(self.model.board_info)

    def focus_tab(self) -> None:
        self.pane(self.model.active).focus()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, FilePane):
            self.model.active = event.widget.model
            self._show_current()

    @on(OptionList.OptionHighlighted)
    def _cursor_moved(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list is self.pane(self.model.active):
            self._show_current()

    def _show_current(self) -> None:
        """Under the panes, as in Midnight Commander: the name of the entry under the active
        pane's cursor, whole (the pane may shorten it), and its size."""
        pane = self.model.active
        entry = pane.current
        if entry is None:
            text = "" if pane.at_root or pane.cursor is None else ".."
        elif entry.is_dir:
            text = f"{printable(entry.name)}/"
        else:
            text = printable(entry.name)
        line = self.query_one("#files-current", Static)
        room = max(line.content_size.width, 20)
        size = "" if entry is None or entry.is_dir else f"  {size_text(entry.size)}"
        line.update(text + size if len(text + size) <= room else fit(text, room))

    # -- transfers ---------------------------------------------------------------------------

    def run_transfer(
        self,
        title: str,
        work: Callable[[ShowProgress], Awaitable[Any]],
        finished: Callable[[Any], str | None],
        reload: tuple[PaneModel, ...] = (),
    ) -> Worker | None:
        """Run one piece of file work with the progress bar up (Esc cancels it); `finished`
        gets its result and returns what to tell the user; the sides are listed again."""
        if not self.model.begin_transfer(title):
            self.app.notify(TRANSFER_RUNNING, severity="warning")
            return None
        self.transfer_bar.start(title)
        self.transfer = self._transfer_worker(title, work, finished, reload)
        self.refresh_bindings()
        return self.transfer

    @work(group="files-transfer")
    async def _transfer_worker(self, title, work, finished, reload) -> None:
        try:
            result = await work(self.transfer_bar.show)
        except asyncio.CancelledError:
            self.app.notify(f"{title}: cancelled; no partial file is left", severity="warning")
            raise
        except SuspendNotSupported:
            self.app.notify("No terminal to run an editor in here", severity="error")
        except FAILURES as e:
            self.app.notify(f"{title}: {error_text(e)}", severity="error", timeout=10)
        else:
            message = finished(result)
            if message:
                self.app.notify(message)
        finally:
            self.model.end_transfer()
            self.transfer = None
            self.transfer_bar.stop()
            for side in reload:
                self.pane(side).reload()
            self.refresh_bindings()

    def action_cancel(self) -> None:
        if self.transfer is not None:
            self.transfer.cancel()

    def _warn(self, why: str) -> None:
        self.app.notify(why, severity="warning")

    def action_copy(self) -> None:
        self._to_other_side(move=False)

    def action_move(self) -> None:
        self._to_other_side(move=True)

    def _to_other_side(self, move: bool) -> None:
        plan = self.model.copy(move)
        if not isinstance(plan, Copy):
            self._warn(plan)
            return
        src, dst, entries = plan.src, plan.dst, plan.entries
        src_fs, dst_fs, dest, where = src.ready_fs, dst.ready_fs, dst.path, dst.location

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            engine = move_paths if move else copy_paths

            def done(result) -> str:
                self.pane(src).clear_marks()
                if result.refused or result.warnings:
                    self.app.notify(refusals_text(result.refused + result.warnings),
                                    title="Not copied",
                                    severity="warning", timeout=15, markup=False)
                return copied_text(result, move, where)

            self.run_transfer(
                "Moving" if move else "Copying",
                lambda progress: engine(src_fs, entries, dst_fs, dest, progress, COPY_OPTIONS),
                done,
                reload=(src, dst),
            )

        verb = "Move" if move else "Copy"
        self.app.push_screen(ConfirmScreen(plan.question, plan.details, title=verb), answered)

    def action_delete(self) -> None:
        plan = self.model.delete()
        if not isinstance(plan, Delete):
            self._warn(plan)
            return
        pane, entries = plan.pane, plan.entries
        paths, fs, where = [e.path for e in entries], pane.ready_fs, pane.location

        def answered(yes: bool | None) -> None:
            if not yes:
                return

            def done(_) -> str:
                self.pane(pane).clear_marks()
                return f"Deleted {describe(entries)} from {where}"

            self.run_transfer("Deleting", lambda _: delete_paths(fs, paths), done, (pane,))

        self.app.push_screen(ConfirmScreen(plan.question, plan.details, title="Delete"),
                             answered)

    def action_mkdir(self) -> None:
        pane = self.model.active
        why = self.model.not_ready(pane)
        if why:
            self._warn(why)
            return
        fs, folder = pane.ready_fs, pane.path
        self._ask_name(pane, f"New folder in {pane.location}:", "", "Making a folder",
                       lambda name: fs.mkdir(fs.join(folder, name)))

    def action_rename(self) -> None:
        pane = self.model.active
        entry = pane.current
        why = self.model.not_ready(pane)
        if why:
            self._warn(why)
            return
        if entry is not None:
            fs, folder = pane.ready_fs, pane.path
            self._ask_name(pane, f"Rename {entry.name} to:", entry.name, "Renaming",
                           lambda name: fs.rename(entry.path, fs.join(folder, name)))

    def _ask_name(self, pane: PaneModel, question: str, value: str, title: str,
                  change: Callable[[str], Awaitable[None]]) -> None:
        """Ask for a name (not a path), make the change, put the cursor on it."""
        folder = pane.path

        def named(name: str | None) -> None:
            if not name or name == value:
                return
            if not valid_name(name):
                self.app.notify(f"Not a name: {name!r} (no folders, no '/')", severity="error")
                return
            self.run_transfer(title, lambda _: change(name),
                              lambda _: self.pane(pane).show_folder(folder, select=name))

        self.app.push_screen(PromptScreen(question, value), named)

    # -- view and edit, sync and watch, mount: ui/widgets/files_actions.py -------------------

    @on(FilePane.FileChosen)
    def file_chosen(self, message: FilePane.FileChosen) -> None:
        self._view(message.pane.model, message.info)

    @on(WatchPanel.Changed)
    def board_changed(self, message: WatchPanel.Changed) -> None:
        """Show the watch's change in the board side, if it shows that board."""
        if self.model.watched_change(message.event):
            self.board_pane.redraw()

    @on(WatchPanel.Stopped)
    def watch_stopped(self, message: WatchPanel.Stopped) -> None:
        if message.reason != "stopped":
            self.app.notify(f"Watch stopped: {message.reason}", severity="error", timeout=10)

    # -- the rest ----------------------------------------------------------------------------

    def action_switch_pane(self) -> None:
        # Active now, not when the focus arrives: a key read with Tab acts on the new side.
        side = self.model.active = self.model.other(self.model.active)
        self._show_current()
        self.pane(side).focus()

    def action_refresh(self) -> None:
        self.local_pane.reload()
        if self.model.list_board_now():
            self.board_pane.set_fs(self.model.board_fs, self.model.board.prefix)
        elif self.model.board.fs is not None:
            self.board_pane.reload()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "cancel":
            return self.transferring
        return True
