"""The OTA tab: the project's release and the boards to push it to (the project's `[ota] boards`,
then the boards the app knows), each with its agent and release versions and its last result.
Mark one or many, press one key: the release goes to all of them in parallel, with each board's
phase, files and bytes on screen, and a result in plain words. Pushes are kept in a history.

The work is done by `services.ota.fleet.OtaFleet` in workers; its change notices are coalesced
into one repaint every REPAINT seconds, however many progress events arrive.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import DataTable

from mptui.errors import MptuiError
from mptui.services.events import BoardInfo
from mptui.services.ota.fleet import OtaFleet, short_name
from mptui.services.ota.history import PushRecord
from mptui.ui.keys import key_help
from mptui.ui.ota_text import plural
from mptui.ui.screens.confirm import ConfirmScreen
from mptui.ui.screens.ota_history import OtaHistoryScreen
from mptui.ui.screens.prompt import PromptScreen
from mptui.ui.tab import TabContent
from mptui.ui.widgets.ota_board_detail import OtaBoardDetail
from mptui.ui.widgets.ota_board_table import OtaBoardTable
from mptui.ui.widgets.ota_empty import OtaEmptyState
from mptui.ui.widgets.ota_project_bar import OtaProjectBar
from mptui.ui.workers import work

REPAINT = 0.1  # seconds between repaints while events come in
NEEDS_BOARDS = ("mark", "mark_all", "push", "push_downgrade", "refresh", "install")


class OtaTab(TabContent, Vertical):
    """Shown in the OTA tab. `show_board()` is called with the board selected in the list,
    `boards_changed()` when the DeviceManager's boards change (the tab protocol)."""

    BINDING_GROUP_TITLE = "OTA"
    DEFAULT_CSS = """
    OtaTab { width: 1fr; height: 1fr; }
    OtaTab > #ota-main { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "mark", "Mark", id="ota.mark",
                tooltip="Mark or unmark the board under the cursor"),
        Binding("asterisk", "mark_all", "Mark all", show=False, id="ota.mark-all",
                tooltip="Mark the fleet ([ota] boards and boards whose agent answered); "
                        "again: unmark all"),
        Binding("p", "push", "Push", id="ota.push",
                tooltip="Push the release to the marked boards (or the one under the cursor) "
                        "in parallel: changed files only"),
        Binding("P", "push(True)", "Full push", show=False, id="ota.push-full",
                tooltip="Push the release, every file (a full push)"),
        Binding("D", "push_downgrade", "Push older", show=False, id="ota.push-downgrade",
                tooltip="Push the release even to boards that run a newer version (asks "
                        "first; the boards refuse an older version otherwise)"),
        Binding("x", "cancel_push", "Cancel push", id="ota.cancel",
                tooltip="Stop the push to the marked boards (or the one under the cursor): a "
                        "transfer is undone on the board, which keeps its release"),
        Binding("i", "install", "Install agent", show=False, id="ota.install",
                tooltip="Install or upgrade the agent on the board under the cursor, through "
                        "its link (USB, virtual, a bridge), with the project's keys for it"),
        Binding("f5", "refresh", "Refresh", id="ota.refresh",
                tooltip="Ask the boards which agent and release they run"),
        Binding("h", "history", "History", id="ota.history", tooltip="The history of pushes"),
        Binding("ctrl+o", "open_project", "Project", show=False, id="ota.project",
                tooltip="Open another OTA project (a folder with an mptui.toml)"),
    ]

    def __init__(self, manager, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.manager = manager
        self.fleet = OtaFleet(manager, on_change=self._changed)
        self.marked: set[str] = set()
        self.board: BoardInfo | None = None
        self._dirty: set[str] | None = set()  # None: the whole list
        self._repaint: Timer | None = None
        self._opened = False
        self._pushing = 0  # boards being pushed, at the last repaint

    def compose(self) -> ComposeResult:
        yield OtaEmptyState(id="ota-empty")
        with Vertical(id="ota-main"):
            yield OtaProjectBar(id="ota-project")
            yield OtaBoardTable(id="ota-table")
            yield OtaBoardDetail(id="ota-detail")

    @property
    def table(self) -> OtaBoardTable:
        return self.query_one(OtaBoardTable)

    @property
    def empty(self) -> OtaEmptyState:
        return self.query_one(OtaEmptyState)

    def on_mount(self) -> None:
        if not (self.query("#ota-main") and self.query(OtaEmptyState)):
            return  # the app quit as the tab was made: its parts never came
        self.query_one("#ota-main").display = False
        self.empty.show_reason("", self._key("ota.project"))

    def on_show(self) -> None:
        if not self._opened:  # the project is read the first time the tab is shown
            self._opened = True
            self.open_project()

    # -- what the main screen calls ---------------------------------------------------------

    def show_board(self, board: BoardInfo | None) -> None:
        """The board selected in the board list: the cursor follows it when it is here (from
        the next selection on: a new list starts at the top, with the project's boards)."""
        self.board = board
        self._follow_board()

    def boards_changed(self, event=None) -> None:
        if self.fleet.sync():
            self._changed(None)

    def focus_tab(self) -> None:
        (self.table if self.fleet.project is not None else self.empty).focus()

    # -- work -------------------------------------------------------------------------------

    @work(group="ota-project", exclusive=True, label="OTA")
    async def open_project(self, path: Path | None = None) -> None:
        """Read the project (None: from the current directory up), then ask the boards."""
        self.marked.clear()
        await self.fleet.open_project(path)
        await self.fleet.refresh()

    @work(group="ota-status", label="OTA")
    async def refresh_boards(self, explicit: bool = False) -> None:
        await self.fleet.refresh(explicit=explicit)

    @work(group="ota-push", label="OTA")
    async def push(self, keys: list[str], full: bool = False,
                   allow_downgrade: bool = False) -> None:
        record = await self.fleet.push(keys, full, allow_downgrade)
        if record is not None:
            self._tell(record)

    @work(group="ota-install", label="agent install")
    async def install(self, key: str) -> None:
        name = self.fleet.boards[key].name
        try:
            result = await self.fleet.install(key)
        except MptuiError as e:
            self.app.notify(f"{name}: the agent was not installed: {e}", severity="error",
                            timeout=10)
            return
        form = ".mpy" if result.mpy else ".py"
        self.app.notify(f"{name}: agent {result.agent_version} installed ({result.files} files "
                        f"as {form}); the board was reset and runs it")
        for service in result.exposed or []:
            self.app.notify(f"{name}: the agent's {service} listens beyond the board",
                            severity="warning", timeout=10)

    def _tell(self, record: PushRecord) -> None:
        count = len(record.results)
        if not record.failed:
            self.app.notify(f"release {record.version}: {plural(count, 'board')} ok")
            return
        first = next(r for r in record.results if not r.ok)
        self.app.notify(f"release {record.version}: {count - record.failed} ok, "
                        f"{record.failed} failed ({short_name(first.board)}: {first.error})",
                        severity="error", timeout=10)

    # -- repaints ---------------------------------------------------------------------------

    def _changed(self, keys: set[str] | None) -> None:
        if keys is None or self._dirty is None:
            self._dirty = None
        else:
            self._dirty |= keys
        if self._repaint is None:
            self._repaint = self.set_timer(REPAINT, self._flush)

    def _flush(self) -> None:
        self._repaint = None
        dirty, self._dirty = self._dirty, set()
        if dirty is None:
            self._show_list()
        else:
            self.table.update_rows([self.fleet.boards[k] for k in dirty if k in self.fleet.boards])
        cursor = self.table.cursor_key
        if dirty is None or cursor in dirty:
            self._show_detail(cursor)
        pushing = sum(board.pushing for board in self.fleet.boards.values())
        if pushing != self._pushing:
            self._pushing = pushing
            self.refresh_bindings()

    def _show_list(self) -> None:
        fleet = self.fleet
        has_project = fleet.project is not None
        empty, main = self.empty, self.query_one("#ota-main")
        moved_focus = (self.table.has_focus and not has_project) or (empty.has_focus and has_project)
        empty.display, main.display = not has_project, has_project
        if not has_project:
            empty.show_reason(fleet.project_error, self._key("ota.project"))
        self.query_one(OtaProjectBar).show_project(fleet, self.table.look)
        self.marked.intersection_update(fleet.boards)
        self.table.show_rows(list(fleet.boards.values()), self.marked)
        if moved_focus:
            self.focus_tab()
        self.refresh_bindings()

    def _show_detail(self, key: str | None) -> None:
        board = self.fleet.boards.get(key) if key else None
        self.query_one(OtaBoardDetail).show_board(board, self.table.look)

    def _follow_board(self) -> None:
        board = self.board
        if board is None:
            return
        for key, row in self.fleet.boards.items():
            if row.manager_key == board.key or (row.via_agent and key in (board.name,
                                                                           board.ota)):
                self.table.move_to(key)
                return

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail(event.row_key.value)

    # -- actions ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        fleet = self.fleet
        if action in NEEDS_BOARDS:
            return fleet.project is not None and bool(fleet.boards)
        pushing = any(board.pushing for board in fleet.boards.values())
        if action == "open_project":
            return not pushing
        if action == "cancel_push":
            return pushing  # shown while a push runs
        return True

    def action_mark(self) -> None:
        key = self.table.cursor_key
        if key is None:
            return
        self.marked.symmetric_difference_update({key})
        self.table.update_rows([self.fleet.boards[key]])
        self.table.action_cursor_down()

    def action_mark_all(self) -> None:
        boards = self.fleet.boards
        fleet = [k for k, b in boards.items() if b.in_project or b.has_agent] or list(boards)
        if self.marked.issuperset(fleet):
            self.marked.clear()
        else:
            self.marked.update(fleet)
        self.table.update_rows(list(boards.values()))

    def _chosen(self) -> list[str]:
        """The marked boards, else the one under the cursor."""
        keys = [k for k in self.fleet.boards if k in self.marked]
        cursor = self.table.cursor_key
        return keys or ([cursor] if cursor is not None else [])

    def action_push(self, full: bool = False) -> None:
        keys = self._chosen()
        busy = [k for k in keys if self.fleet.boards[k].pushing]
        if busy and len(busy) == len(keys):
            self.app.notify("already being pushed", severity="warning")
            return
        self.push(keys, full)

    def action_push_downgrade(self) -> None:
        keys = [k for k in self._chosen() if not self.fleet.boards[k].pushing]
        project = self.fleet.project
        if not keys or project is None:
            return
        boards = f"{len(keys)} boards" if len(keys) > 1 else self.fleet.boards[keys[0]].name

        def answered(yes: bool | None) -> None:
            if yes:
                self.push(keys, False, True)

        self.app.push_screen(ConfirmScreen(
            f"Push release {project.version} to {boards}, even where a newer one runs?",
            "A board refuses an older version unless told so; this push tells it (signed). "
            "Old releases captured on the network stay refused.", title="Downgrade"), answered)

    def action_install(self) -> None:
        key = self.table.cursor_key
        row = self.fleet.boards.get(key) if key else None
        if row is None or row.pushing:
            return
        if not row.manager_key:
            self.app.notify(f"{row.name} is reached only through its agent: the agent is "
                            "installed through a board's own link (USB, virtual, a bridge)",
                            severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.install(key)

        self.app.push_screen(ConfirmScreen(
            f"Install the OTA agent on {row.name}?",
            "Its files go to /mptui_agent with this project's keys for this board, boot.py "
            "gets two lines to start it, and the board is reset so that it runs.",
            title="Install agent"), answered)

    def action_cancel_push(self) -> None:
        if not self.fleet.cancel(self._chosen()):
            self.app.notify("no push to stop on the chosen boards", severity="warning")

    def action_refresh(self) -> None:
        self.refresh_boards(explicit=True)

    def action_history(self) -> None:
        self.app.push_screen(OtaHistoryScreen(list(self.fleet.records),
                                              str(self.fleet.history.path)))

    def action_open_project(self) -> None:
        project = self.fleet.project
        current = str(project.root if project else Path.cwd())

        def chosen(text: str | None) -> None:
            if text:
                self.open_project(Path(text).expanduser())

        self.app.push_screen(
            PromptScreen("OTA project: a folder with an mptui.toml (or the file):", current),
            chosen,
        )

    def _key(self, binding_id: str) -> str:
        """How the key bound to `binding_id` is shown, after the user's keymap."""
        for entry in key_help([("OTA", OtaTab)], getattr(self.app, "keymap", {})):
            if entry.id == binding_id and entry.keys:
                return self.app.get_key_display(entry.binding.with_key(entry.keys[0]))
        return binding_id
