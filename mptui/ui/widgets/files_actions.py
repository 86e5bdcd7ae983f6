"""The Files tab's actions on a file or the pair of folders: view and edit (here or in
$EDITOR), sync with a plan, watch mode, mount. A mixin of FilesTab (ui/widgets/files_tab.py):
each asks, then runs its work as the tab's one transfer (run_transfer) or in a worker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from textual.worker import Worker

from mptui.services.filesystem import FileInfo
from mptui.services.mount import Mount, mounted
from mptui.services.sync import Syncer, SyncPlan
from mptui.ui.file_content import ShowProgress, edit_file, read_file
from mptui.ui.models.files import TRANSFER_RUNNING, FilesModel, PaneModel, WatchChoice
from mptui.ui.safe_text import printable
from mptui.ui.screens.file_edit import FileEditScreen, not_editable
from mptui.ui.screens.file_view import FileViewScreen
from mptui.ui.screens.sync_plan import SyncPlanScreen
from mptui.ui.screens.watch_setup import WatchSetupScreen
from mptui.ui.units import home_relative
from mptui.ui.workers import work

if TYPE_CHECKING:
    from textual.widget import Widget as _Widget

    from mptui.ui.widgets.file_pane import FilePane
    from mptui.ui.widgets.transfer_bar import TransferBar
    from mptui.ui.widgets.watch_panel import WatchPanel
else:
    _Widget = object  # a mixin: FilesTab is the widget


class FilesActions(_Widget):
    manager: Any
    model: FilesModel

    if TYPE_CHECKING:  # FilesTab's
        @property
        def transfer_bar(self) -> TransferBar: ...
        @property
        def watch_panel(self) -> WatchPanel: ...
        def pane(self, model: PaneModel) -> FilePane: ...
        def _warn(self, why: str) -> None: ...
        def run_transfer(self, title: str, work: Callable[[ShowProgress], Awaitable[Any]],
                         finished: Callable[[Any], str | None],
                         reload: tuple[PaneModel, ...] = ()) -> Worker | None: ...

    # -- view and edit -----------------------------------------------------------------------

    def _file(self) -> FileInfo | None:
        """The file under the active pane's cursor (else None, and a line says why)."""
        entry = self.model.file_under_cursor()
        if isinstance(entry, FileInfo):
            return entry
        self._warn(entry)
        return None

    def action_view(self) -> None:
        if entry := self._file():
            self._view(self.model.active, entry)

    def _view(self, pane: PaneModel, entry: FileInfo) -> None:
        fs = pane.ready_fs
        title = pane.location.rstrip("/") + "/" + entry.name

        def show(data: bytes) -> None:
            self.app.push_screen(FileViewScreen(title, entry.name, data))

        self.run_transfer("Reading", lambda progress: read_file(fs, entry, progress), show)

    def action_edit(self) -> None:
        """The app's own editor (F4)."""
        if not (entry := self._file()):
            return
        pane = self.model.active
        fs, title = pane.ready_fs, pane.location.rstrip("/") + "/" + entry.name

        def opened(data: bytes) -> str | None:
            why = not_editable(data)
            if why:
                return f"{entry.name}: {why}"
            where = "this computer" if fs.is_local else "the board"
            def closed(saved: bool | None) -> None:
                if saved:
                    self.pane(pane).reload()

            self.app.push_screen(FileEditScreen(fs, entry, data, title, where), closed)
            return None

        self.run_transfer("Reading", lambda progress: read_file(fs, entry, progress, named=True),
                          opened)

    def action_edit_outside(self) -> None:
        """$VISUAL/$EDITOR (Shift-F4)."""
        if not (entry := self._file()):
            return
        pane = self.model.active
        fs = pane.ready_fs
        self.run_transfer(
            "Editing" if fs.is_local else "Downloading",
            lambda progress: edit_file(self.app, fs, entry, progress, self.transfer_bar.start),
            lambda message: message,
            reload=(pane,),
        )

    # -- sync and watch ----------------------------------------------------------------------

    def action_sync(self) -> None:
        model = self.model
        why = model.not_ready(model.local, model.board) or (model.transfer and TRANSFER_RUNNING)
        if why:
            self._warn(why)
            return
        made: dict[int, Syncer] = {}

        async def planner(delete: bool) -> SyncPlan:
            syncer = model.make_syncer(delete)
            plan = await syncer.plan()
            made[id(plan)] = syncer
            return plan

        def chosen(plan: SyncPlan | None) -> None:
            if plan is None:
                return
            model.sync_delete = plan.delete
            syncer = made[id(plan)]
            self.run_transfer(
                "Syncing",
                lambda progress: syncer.apply(plan, progress=progress),
                lambda result: f"Sync: {result.summary()}",
                reload=(model.board,),
            )

        async def differ(plan: SyncPlan, item):
            from mptui.services.rdiff import plan_item_diff

            return await plan_item_diff(made[id(plan)], plan, item)

        self.app.push_screen(SyncPlanScreen(model.pair_title, planner, model.sync_delete,
                                            differ), chosen)

    def action_watch(self) -> None:
        model, panel = self.model, self.watch_panel
        watching = panel.watching
        panel.stop()
        panel.hide()
        if watching:
            return
        why = model.not_ready(model.local, model.board)
        if why:
            self._warn(why)
            return
        title, watched = model.pair_title, model.watch_target()

        def chosen(choice: WatchChoice | None) -> None:
            if choice is None:
                return
            model.watch_choice, model.watched = choice, watched
            console = self.manager.console.board(watched[0])
            panel.start(model.make_syncer(choice.delete), console, choice.after, title)

        self.app.push_screen(WatchSetupScreen(title, model.watch_choice), chosen)

    # -- mount -------------------------------------------------------------------------------

    @work(group="files-mount", exclusive=True)
    async def action_mount(self) -> None:
        model = self.model
        why = model.not_ready(model.local, model.board)
        if why:
            self._warn(why)
            return
        board_fs, info = model.board_fs, model.board_info
        if board_fs is None or info is None:  # (not_ready said so)
            return
        entry, session = model.local.current, board_fs.session
        folder = entry.path if entry is not None and entry.is_dir else model.local.path
        where = f"/remote on {printable(info.name)}"
        old = mounted(session)
        if old is not None:
            await old.stop()
            self.app.notify(f"{printable(home_relative(old.folder))} unmounted from {where}")
            if PurePath(old.folder) == PurePath(folder):  # the one mounted: m undoes it
                return
        mount = Mount(session, folder, on_note=self.app.notify)
        await mount.start()
        self.app.notify(f"{printable(home_relative(mount.folder))} is mounted at {where} "
                        "(m again: unmount)")
