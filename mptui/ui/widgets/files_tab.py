"""The Files tab: this computer on the left, the selected board on the right, Midnight
Commander's keys, transfers with progress (Esc cancels), sync with a plan, watch mode.

The work is the engine's (mptui.services: transfer, sync, watch); this widget asks, shows
progress and reports. One transfer at a time, in a worker; the panes list in their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from textual import events, on
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.worker import Worker

from mptui.board import BoardError
from mptui.board.session import CONNECTING, DISCONNECTED, ERROR, RECONNECTING, RUNNING
from mptui.services.boardfs import BoardFSAdapter
from mptui.services.copier import CopyOptions, copy_paths, delete_paths, move_paths, name_problem
from mptui.services.events import BoardInfo
from mptui.services.filesystem import FileInfo
from mptui.services.ignore import UploadPolicy
from mptui.services.localfs import LocalFS
from mptui.services.mpy import MpyError
from mptui.services.sync import Syncer, SyncOptions, SyncPlan
from mptui.services.watch import AFTER_NONE
from mptui.transports import TransportError
from mptui.ui.file_content import ShowProgress, edit_file, read_file
from mptui.ui.screens.confirm import ConfirmScreen
from mptui.ui.screens.file_view import FileViewScreen
from mptui.ui.screens.prompt import PromptScreen
from mptui.ui.screens.sync_plan import SyncPlanScreen
from mptui.ui.screens.watch_setup import WatchChoice, WatchSetupScreen
from mptui.ui.units import error_text, size_text
from mptui.ui.widgets.file_pane import FilePane
from mptui.ui.widgets.transfer_bar import TransferBar
from mptui.ui.widgets.watch_panel import WatchPanel
from mptui.ui.workers import work

FAILURES = (OSError, BoardError, TransportError, MpyError)
# what the Files tab sends to a board: the ignore set, no secrets (the CLI can send them)
COPY_OPTIONS = CopyOptions(policy=UploadPolicy(how="mptui cp --allow-secrets sends it"))
SYNC_POLICY = UploadPolicy(how="mptui sync --allow-secrets sends it")


def valid_name(name: str) -> bool:
    """A single file or folder name (no path): the copier's rule for a board's names."""
    return name_problem(name) is None


def refusals_text(lines, shown: int = 4) -> str:
    """What was not copied, a few lines of it."""
    more = len(lines) - shown
    return "\n".join(lines[:shown]) + (f"\n… and {more} more" if more > 0 else "")


def describe(entries: list[FileInfo]) -> str:
    """'main.py', 'lib/' or '3 entries'."""
    if len(entries) == 1:
        return entries[0].name + ("/" if entries[0].is_dir else "")
    return f"{len(entries)} entries"


class FilesTab(Vertical):
    """Shown in the Files tab. `show_board()` is called with the selected board."""

    BINDING_GROUP_TITLE = "Files"
    DEFAULT_CSS = """
    FilesTab { width: 1fr; height: 1fr; }
    FilesTab #files-panes { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "switch_pane", "Other pane", show=False, id="files.switch-pane",
                tooltip="Switch between this computer's pane and the board's"),
        Binding("f2", "sync", "Sync", id="files.sync",
                tooltip="Sync the left folder to the board folder: the plan first, then apply"),
        Binding("f3", "view", "View", id="files.view",
                tooltip="View the file (Python highlighted, binary as hex)"),
        Binding("f4", "edit", "Edit", id="files.edit",
                tooltip="Edit the file in $EDITOR (a board file goes back only if it changed)"),
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
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="files.refresh",
                tooltip="List both folders again, with the board's free space"),
        Binding("escape", "cancel", "Cancel", id="files.cancel",
                tooltip="Cancel the transfer: no partial file is left on either side"),
    ]

    def __init__(self, manager=None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.manager = manager
        self.board: BoardInfo | None = None
        self.board_fs: BoardFSAdapter | None = None
        self.board_listed = False  # the board pane lists board_fs (else it waits to be shown)
        self.transfer: Worker | None = None
        self.watch_choice = WatchChoice(AFTER_NONE, False)
        self.sync_delete = False
        self._active: FilePane | None = None
        self._watched: tuple | None = None  # (board key, session, board folder) of the watch

    def compose(self) -> ComposeResult:
        with Horizontal(id="files-panes"):
            yield FilePane(id="files-local")
            yield FilePane(id="files-board")
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

    @property
    def active_pane(self) -> FilePane:
        return self._active or self.local_pane

    def other_pane(self, pane: FilePane) -> FilePane:
        return self.board_pane if pane is self.local_pane else self.local_pane

    @property
    def transferring(self) -> bool:
        return self.transfer is not None

    def on_mount(self) -> None:
        self.local_pane.set_fs(LocalFS())
        self.show_board(self.board)

    # -- the board ---------------------------------------------------------------------------

    def show_board(self, board: BoardInfo | None) -> None:
        """The selected board, or what became of it: its files once it is connected and the
        tab is shown."""
        self.board = board
        if board is not None and self._watched and board.key == self._watched[0] and (
            board.state in (DISCONNECTED, ERROR)
        ) and self.watch_panel.watching:
            self.watch_panel.stop()
            self.app.notify(f"Watch stopped: {board.name} is {board.label}", severity="warning")
        session = self.manager.session(board.key) if board and self.manager else None
        usable = session is not None and board.connected
        if self.board_fs is not None and (not usable or self.board_fs.session is not session):
            self.board_fs = None
        if usable and self.board_fs is None:
            self.board_fs, self.board_listed = BoardFSAdapter(session), False
        prefix = f"{board.name}:" if board else ""
        pane = self.board_pane
        if self.board_fs is not None and not self.board_listed and self._shown() and (
            board.state != RUNNING
        ):
            self.board_listed = True
            pane.set_fs(self.board_fs, prefix)
        elif self.board_fs is None or not self.board_listed:
            advice = self._advice(board)
            if (pane.fs, pane.prefix, pane.message) != (None, prefix, advice):
                pane.set_fs(None, prefix, advice)

    def _shown(self) -> bool:
        return self.is_mounted and self.region.area > 0

    @staticmethod
    def _advice(board: BoardInfo | None) -> str:
        if board is None:
            return "No board selected: pick one on the left, or add one with a."
        if board.state in (CONNECTING, RECONNECTING):
            return f"{board.name}: connecting…"
        if board.state == ERROR:
            return f"{board.name}: {board.error}. c tries again."
        if board.state == RUNNING:
            return (f"{board.name} is running a program. Ctrl-R lists its files "
                    "(that stops the program).")
        if board.connected:
            return f"{board.name}: …"
        return f"{board.name} is not connected: c connects."

    def on_show(self) -> None:
        self.call_after_refresh(self.show_board, self.board)

    def focus_pane(self) -> None:
        self.active_pane.focus()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, FilePane):
            self._active = event.widget

    # -- transfers ---------------------------------------------------------------------------

    def run_transfer(
        self,
        title: str,
        work: Callable[[ShowProgress], Awaitable[Any]],
        finished: Callable[[Any], str | None],
        reload: tuple[FilePane, ...] = (),
    ) -> Worker | None:
        """Run one piece of file work with the progress bar up (Esc cancels it); `finished`
        gets its result and returns what to tell the user; the panes are listed again."""
        if self.transferring:
            self.app.notify("A transfer is running (Esc cancels it)", severity="warning")
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
            self.transfer = None
            self.transfer_bar.stop()
            for pane in reload:
                pane.reload()
            self.refresh_bindings()

    def action_cancel(self) -> None:
        if self.transfer is not None:
            self.transfer.cancel()

    def _ready(self, *panes: FilePane) -> bool:
        """Both sides can be worked on; says why not."""
        for pane in panes:
            if pane.fs is None or not pane.path:
                what = "the board" if pane is self.board_pane else "this computer's folder"
                self.app.notify(f"Nothing to work on: {what} is not listed "
                                "(c connects a board)", severity="warning")
                return False
        return True

    def _chosen(self, pane: FilePane) -> list[FileInfo]:
        entries = pane.chosen()
        if not entries:
            self.app.notify("Nothing chosen: move to an entry or mark some (Space)",
                            severity="warning")
        return entries

    def action_copy(self) -> None:
        self._to_other_side(move=False)

    def action_move(self) -> None:
        self._to_other_side(move=True)

    def _to_other_side(self, move: bool) -> None:
        src = self.active_pane
        dst = self.other_pane(src)
        if not self._ready(src, dst) or not (entries := self._chosen(src)):
            return
        verb = "Move" if move else "Copy"
        there = {e.name for e in dst.entries}
        replaced = [e.name for e in entries if e.name in there]
        details = ""
        if replaced:
            shown = ", ".join(replaced[:4]) + (", …" if len(replaced) > 4 else "")
            details = f"Replaces what is there: {shown}"
        where = dst.location
        src_fs, dst_fs, dest = src.fs, dst.fs, dst.path

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            engine = move_paths if move else copy_paths

            def done(result) -> str:
                src.clear_marks()
                if result.refused or result.warnings:
                    self.app.notify(refusals_text(result.refused + result.warnings),
                                    title="Not copied",
                                    severity="warning", timeout=15, markup=False)
                same = f"; {result.unchanged} unchanged" if result.unchanged else ""
                return (f"{'Moved' if move else 'Copied'} {result.files} "
                        f"file{'s' if result.files != 1 else ''} "
                        f"({size_text(result.bytes)}) to {where}{same}")

            self.run_transfer(
                "Moving" if move else "Copying",
                lambda progress: engine(src_fs, entries, dst_fs, dest, progress, COPY_OPTIONS),
                done,
                reload=(src, dst),
            )

        self.app.push_screen(
            ConfirmScreen(f"{verb} {describe(entries)} to {where}?", details, title=verb),
            answered,
        )

    def action_delete(self) -> None:
        pane = self.active_pane
        if not self._ready(pane) or not (entries := self._chosen(pane)):
            return
        names = ", ".join(e.name + ("/" if e.is_dir else "") for e in entries[:5])
        more = ", …" if len(entries) > 5 else ""
        folders = any(e.is_dir for e in entries)
        details = names + more + (" (folders with everything in them)" if folders else "")
        paths, fs = [e.path for e in entries], pane.fs

        def answered(yes: bool | None) -> None:
            if not yes:
                return

            def done(_) -> str:
                pane.clear_marks()
                return f"Deleted {describe(entries)} from {pane.location}"

            self.run_transfer("Deleting", lambda _: delete_paths(fs, paths), done, (pane,))

        self.app.push_screen(
            ConfirmScreen(f"Delete {describe(entries)} from {pane.location}?", details,
                          title="Delete"),
            answered,
        )

    def action_mkdir(self) -> None:
        pane = self.active_pane
        if self._ready(pane):
            fs, folder = pane.fs, pane.path
            self._ask_name(pane, f"New folder in {pane.location}:", "", "Making a folder",
                           lambda name: fs.mkdir(fs.join(folder, name)))

    def action_rename(self) -> None:
        pane = self.active_pane
        entry = pane.highlighted_entry
        if self._ready(pane) and entry is not None:
            fs, folder = pane.fs, pane.path
            self._ask_name(pane, f"Rename {entry.name} to:", entry.name, "Renaming",
                           lambda name: fs.rename(entry.path, fs.join(folder, name)))

    def _ask_name(self, pane: FilePane, question: str, value: str, title: str,
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
                              lambda _: pane.show_folder(folder, select=name))

        self.app.push_screen(PromptScreen(question, value), named)

    # -- view and edit -----------------------------------------------------------------------

    def _file_under_cursor(self, pane: FilePane) -> FileInfo | None:
        entry = pane.highlighted_entry
        if not self._ready(pane):
            return None
        if entry is None or entry.is_dir:
            self.app.notify("Move to a file first", severity="warning")
            return None
        return entry

    @on(FilePane.FileChosen)
    def file_chosen(self, message: FilePane.FileChosen) -> None:
        self._view(message.pane, message.info)

    def action_view(self) -> None:
        pane = self.active_pane
        entry = self._file_under_cursor(pane)
        if entry is not None:
            self._view(pane, entry)

    def _view(self, pane: FilePane, entry: FileInfo) -> None:
        fs = pane.fs
        title = pane.location.rstrip("/") + "/" + entry.name

        def show(data: bytes) -> None:
            self.app.push_screen(FileViewScreen(title, entry.name, data))

        self.run_transfer("Reading", lambda progress: read_file(fs, entry, progress), show)

    def action_edit(self) -> None:
        pane = self.active_pane
        entry = self._file_under_cursor(pane)
        if entry is not None:
            fs = pane.fs
            self.run_transfer(
                "Editing" if fs.is_local else "Downloading",
                lambda progress: edit_file(self.app, fs, entry, progress, self.transfer_bar.start),
                lambda message: message,
                reload=(pane,),
            )

    # -- sync and watch ----------------------------------------------------------------------

    def _pair_title(self) -> str:
        return f"{self.local_pane.location} → {self.board_pane.location}"

    def make_syncer(self, delete: bool) -> Syncer:
        local, board = self.local_pane, self.board_pane
        options = SyncOptions(delete=delete, policy=SYNC_POLICY)
        return Syncer(local.fs, local.path, board.fs, board.path, options)

    def action_sync(self) -> None:
        if not self._ready(self.local_pane, self.board_pane):
            return
        if self.transferring:
            self.app.notify("A transfer is running (Esc cancels it)", severity="warning")
            return
        made: dict[int, Syncer] = {}

        async def planner(delete: bool) -> SyncPlan:
            syncer = self.make_syncer(delete)
            plan = await syncer.plan()
            made[id(plan)] = syncer
            return plan

        def chosen(plan: SyncPlan | None) -> None:
            if plan is None:
                return
            self.sync_delete = plan.delete
            syncer = made[id(plan)]
            self.run_transfer(
                "Syncing",
                lambda progress: syncer.apply(plan, progress=progress),
                lambda result: f"Sync: {result.summary()}",
                reload=(self.board_pane,),
            )

        self.app.push_screen(SyncPlanScreen(self._pair_title(), planner, self.sync_delete),
                             chosen)

    def action_watch(self) -> None:
        panel = self.watch_panel
        watching = panel.watching
        panel.stop()
        panel.hide()
        if watching or not self._ready(self.local_pane, self.board_pane):
            return
        title = self._pair_title()
        watched = (self.board.key, self.board_fs.session, self.board_pane.path)

        def chosen(choice: WatchChoice | None) -> None:
            if choice is None:
                return
            self.watch_choice, self._watched = choice, watched
            panel.start(self.make_syncer(choice.delete), watched[1], choice.after, title)

        self.app.push_screen(WatchSetupScreen(title, self.watch_choice), chosen)

    @on(WatchPanel.Changed)
    def board_changed(self, message: WatchPanel.Changed) -> None:
        """Show the watch's change in the board pane, if it shows that board."""
        event, fs = message.event, self.board_fs
        if fs is not None and self._watched and fs.session is self._watched[1]:
            self.board_pane.note_change(fs.join(self._watched[2], event.path.rstrip("/")),
                                        is_dir=event.path.endswith("/"), size=event.size,
                                        gone=event.kind == "deleted")

    @on(WatchPanel.Stopped)
    def watch_stopped(self, message: WatchPanel.Stopped) -> None:
        if message.reason != "stopped":
            self.app.notify(f"Watch stopped: {message.reason}", severity="error", timeout=10)

    # -- the rest ----------------------------------------------------------------------------

    def action_switch_pane(self) -> None:
        self.other_pane(self.active_pane).focus()

    def action_refresh(self) -> None:
        self.local_pane.reload()
        if self.board_fs is not None and not self.board_listed:
            self.board_listed = True
            self.board_pane.set_fs(self.board_fs, self.board_pane.prefix)
        elif self.board_pane.fs is not None:
            self.board_pane.reload()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "cancel":
            return self.transferring
        return True
