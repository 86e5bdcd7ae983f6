"""The Files tab's model, with no widgets: two sides (this computer on the left, the selected
board on the right), each a folder with its entries, marks and cursor (a `PaneModel`); which
side is active and what an action applies to; the board side as the selected board comes and
goes; the one transfer that may run; the watch's pair of folders.

The widgets (FilesTab, FilePane) show it, run its work in workers and ask the user; the work
itself is the engine's (mptui.services: copier, sync, watch).
"""

from __future__ import annotations

from dataclasses import dataclass

from mptui.board.session import CONNECTING, DISCONNECTED, ERROR, RECONNECTING, RUNNING
from mptui.errors import MptuiError
from mptui.services.boardfs import BoardFSAdapter
from mptui.services.copier import CopyOptions, name_problem
from mptui.services.events import BoardInfo
from mptui.services.filesystem import FileInfo, FileSystem
from mptui.services.ignore import UploadPolicy
from mptui.services.sync import Syncer, SyncOptions
from mptui.services.watch import AFTER_NONE, WatchEvent
from mptui.ui.units import error_text, home_relative, short_size, size_text

UP = ".."
FAILURES = (OSError, MptuiError)
# what the Files tab sends to a board: the ignore set, no secrets (the CLI can send them)
COPY_OPTIONS = CopyOptions(policy=UploadPolicy(how="mptui cp --allow-secrets sends it"))
SYNC_POLICY = UploadPolicy(how="mptui sync --allow-secrets sends it")
NOTHING_CHOSEN = "Nothing chosen: move to an entry or mark some (Space)"
TRANSFER_RUNNING = "A transfer is running (Esc cancels it)"


def sort_key(info: FileInfo) -> tuple:
    """Folders first, then files, by name (case folded, then as is)."""
    return (not info.is_dir, info.name.casefold(), info.name)


def valid_name(name: str) -> bool:
    """A single file or folder name (no path): the copier's rule for a board's names."""
    return name_problem(name) is None


def describe(entries: list[FileInfo]) -> str:
    """'main.py', 'lib/' or '3 entries'."""
    if len(entries) == 1:
        return entries[0].name + ("/" if entries[0].is_dir else "")
    return f"{len(entries)} entries"


def refusals_text(lines, shown: int = 4) -> str:
    """What was not copied, a few lines of it."""
    more = len(lines) - shown
    return "\n".join(lines[:shown]) + (f"\n… and {more} more" if more > 0 else "")


def copied_text(result, move: bool, where: str) -> str:
    """What a copy or move did, in a line."""
    same = f"; {result.unchanged} unchanged" if result.unchanged else ""
    return (f"{'Moved' if move else 'Copied'} {result.files} "
            f"file{'s' if result.files != 1 else ''} ({size_text(result.bytes)}) to {where}{same}")


def board_advice(board: BoardInfo | None) -> str:
    """What the board side says when it lists no files."""
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


@dataclass(frozen=True)
class WatchChoice:
    after: str  # mptui.services.watch AFTER_NONE, AFTER_RESET or AFTER_RUN
    delete: bool  # mirror deletes


class PaneModel:
    """One side: a folder of a FileSystem (or, with none, a message), its entries (sorted,
    without '..'), marked paths, and the cursor (an index into `rows`, '..' first)."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix  # before the path in the title: 'virtual:' for a board
        self.fs: FileSystem | None = None
        self.message = ""  # shown instead of a listing (no filesystem)
        self.path = ""
        self.entries: list[FileInfo] = []
        self.marked: set[str] = set()  # paths
        self.free: tuple[int, int] | None = None  # (total, free) bytes
        self.loading = False
        self.error = ""  # why the last listing failed
        self.cursor: int | None = None

    def set_fs(self, fs: FileSystem | None, prefix: str = "", message: str = "") -> None:
        """Show a side (listed from its home by `load`), or, with fs None, a message."""
        self.fs, self.prefix, self.message = fs, prefix, message
        self.entries, self.marked, self.free, self.path, self.error = [], set(), None, "", ""
        self.cursor = None

    async def load(self, path: str, select: str | None = None) -> str:
        """List a folder and its free space; the cursor goes to `select` if it is there, else
        stays at its row. Returns why the listing failed ('' when it did not, or when the side
        changed meanwhile: that answer is dropped)."""
        fs = self.fs
        if fs is None:
            return ""
        self.loading = True
        try:
            entries = await fs.list(path)
        except (OSError, MptuiError) as e:
            if fs is not self.fs:
                return ""
            self.loading, self.error = False, error_text(e)
            return self.error
        try:
            free = await fs.df(path)
        except (OSError, MptuiError):
            free = None
        if fs is not self.fs:
            return ""
        if path != self.path:
            self.marked.clear()
        self.path, self.free, self.error, self.loading = path, free, "", False
        self._set_entries(entries, select)
        return ""

    def _set_entries(self, entries: list[FileInfo], select: str | None = None) -> None:
        self.entries = sorted(entries, key=sort_key)
        self.marked &= {e.path for e in self.entries}
        names = [e.name if e else UP for e in self.rows]
        if select in names:
            self.cursor = names.index(select)
        elif names:
            self.cursor = min(self.cursor or 0, len(names) - 1)
        else:
            self.cursor = None

    @property
    def at_root(self) -> bool:
        return self.fs is None or not self.path or self.fs.parent(self.path) == self.path

    @property
    def rows(self) -> list[FileInfo | None]:
        """What each line shows: None for '..'."""
        return ([] if self.at_root else [None]) + list(self.entries)

    @property
    def current(self) -> FileInfo | None:
        """The entry under the cursor (None: '..', or nothing)."""
        rows = self.rows
        if self.fs is None or self.cursor is None or self.cursor >= len(rows):
            return None
        return rows[self.cursor]

    @property
    def ready_fs(self) -> FileSystem:
        """Its filesystem, where `FilesModel.not_ready` has said there is one."""
        if self.fs is None:
            raise RuntimeError("this side lists no filesystem")
        return self.fs

    @property
    def location(self) -> str:
        """Where the pane is, as the user reads it: '~/proj', 'virtual:/lib'."""
        if self.fs is None or not self.path:
            return self.prefix
        return self.prefix + (home_relative(self.path) if self.fs.is_local else self.path)

    def chosen(self) -> list[FileInfo]:
        """What an action takes: the marked entries, else the one under the cursor."""
        if self.marked:
            return [e for e in self.entries if e.path in self.marked]
        entry = self.current
        return [entry] if entry else []

    def toggle_mark(self) -> None:
        entry = self.current
        if entry is not None:
            self.marked ^= {entry.path}

    def invert_marks(self) -> None:
        self.marked = {e.path for e in self.entries} - self.marked

    def clear_marks(self) -> bool:
        """True if there were some."""
        had = bool(self.marked)
        self.marked.clear()
        return had

    def up(self) -> tuple[str, str] | None:
        """(parent folder, this folder's name to put the cursor on), None at the root."""
        if self.fs is None or self.at_root:
            return None
        return self.fs.parent(self.path), self.fs.basename(self.path)

    def note_change(self, path: str, is_dir: bool = False, size: int = 0,
                    gone: bool = False) -> bool:
        """A change made elsewhere (a watch upload), shown without listing the folder again (a
        round trip would stop the program the upload may have started). True if it is in
        this folder."""
        if self.fs is None or not self.path or self.fs.parent(path) != self.path:
            return False
        name = self.fs.basename(path)
        entries = [e for e in self.entries if e.name != name]
        if not gone:
            entries.append(FileInfo(name, path, is_dir, 0 if is_dir else size))
        current = self.current
        self._set_entries(entries, current.name if current else None)
        return True

    def marks_text(self) -> str:
        """'2 marked, 1.5K' (sizes of the marked files), '' when none are."""
        if not self.marked:
            return ""
        total = sum(e.size for e in self.entries if e.path in self.marked and not e.is_dir)
        return f"{len(self.marked)} marked, {short_size(total)}"


@dataclass(frozen=True)
class Copy:
    """A copy or move as asked: from `src` to `dst`'s folder."""

    src: PaneModel
    dst: PaneModel
    entries: list[FileInfo]
    move: bool
    question: str
    details: str


@dataclass(frozen=True)
class Delete:
    pane: PaneModel
    entries: list[FileInfo]
    question: str
    details: str


class FilesModel:
    def __init__(self, manager=None) -> None:
        self.manager = manager
        self.local = PaneModel()
        self.board = PaneModel()
        self.active = self.local  # the side the user works in
        self.board_info: BoardInfo | None = None  # the board selected in the list
        self.board_fs: BoardFSAdapter | None = None
        self.board_listed = False  # the board side lists board_fs (else it waits to be shown)
        self.transfer = ""  # the title of the transfer under way
        self.watch_choice = WatchChoice(AFTER_NONE, False)  # as last chosen
        self.watched: tuple | None = None  # (board key, session, board folder) of the watch
        self.sync_delete = False  # as last chosen

    def other(self, pane: PaneModel) -> PaneModel:
        return self.board if pane is self.local else self.local

    # -- the board side ---------------------------------------------------------------------

    def show_board(self, board: BoardInfo | None, shown: bool) -> tuple | None:
        """The selected board, or what became of it. Returns what the board side shows now,
        as (filesystem, prefix, message) for `PaneModel.set_fs`: its files once it is
        connected and the tab is `shown` (not while it runs a program: listing would stop
        it), else the advice; None when that does not change."""
        self.board_info = board
        session = self.manager.session(board.key) if board and self.manager else None
        usable = session is not None and board is not None and board.connected
        if self.board_fs is not None and (not usable or self.board_fs.session is not session):
            self.board_fs = None
        if usable and self.board_fs is None and session is not None:
            self.board_fs, self.board_listed = BoardFSAdapter(session), False
        prefix = f"{board.name}:" if board else ""
        if self.board_fs is not None and not self.board_listed and shown and (
            board is not None and board.state != RUNNING
        ):
            self.board_listed = True
            return self.board_fs, prefix, ""
        if self.board_fs is None or not self.board_listed:
            advice = board_advice(board)
            if (self.board.fs, self.board.prefix, self.board.message) != (None, prefix, advice):
                return None, prefix, advice
        return None

    def list_board_now(self) -> bool:
        """Ctrl-R: list the board side even though its program runs. True if it was not
        listed (it is to be listed from its home), False to list its folder again."""
        if self.board_fs is not None and not self.board_listed:
            self.board_listed = True
            return True
        return False

    def watch_lost(self, board: BoardInfo | None) -> bool:
        """The watched board went away (the watch stops)."""
        return board is not None and self.watched is not None and (
            board.key == self.watched[0]) and board.state in (DISCONNECTED, ERROR)

    # -- what an action applies to ----------------------------------------------------------

    def not_ready(self, *panes: PaneModel) -> str:
        """Why these sides cannot be worked on ('' when they can)."""
        for pane in panes:
            if pane.fs is None or not pane.path:
                what = "the board" if pane is self.board else "this computer's folder"
                return f"Nothing to work on: {what} is not listed (c connects a board)"
        return ""

    def begin_transfer(self, title: str) -> bool:
        """One transfer at a time: False if one runs."""
        if self.transfer:
            return False
        self.transfer = title
        return True

    def end_transfer(self) -> None:
        self.transfer = ""

    def copy(self, move: bool) -> Copy | str:
        """The active side's chosen entries to the other side's folder, or why not."""
        src = self.active
        dst = self.other(src)
        why = self.not_ready(src, dst)
        entries = [] if why else src.chosen()
        if why or not entries:
            return why or NOTHING_CHOSEN
        there = {e.name for e in dst.entries}
        replaced = [e.name for e in entries if e.name in there]
        details = ""
        if replaced:
            shown = ", ".join(replaced[:4]) + (", …" if len(replaced) > 4 else "")
            details = f"Replaces what is there: {shown}"
        verb = "Move" if move else "Copy"
        return Copy(src, dst, entries, move, f"{verb} {describe(entries)} to {dst.location}?",
                    details)

    def delete(self) -> Delete | str:
        """The active side's chosen entries, to delete, or why not."""
        pane = self.active
        why = self.not_ready(pane)
        entries = [] if why else pane.chosen()
        if why or not entries:
            return why or NOTHING_CHOSEN
        names = ", ".join(e.name + ("/" if e.is_dir else "") for e in entries[:5])
        more = ", …" if len(entries) > 5 else ""
        folders = any(e.is_dir for e in entries)
        details = names + more + (" (folders with everything in them)" if folders else "")
        return Delete(pane, entries, f"Delete {describe(entries)} from {pane.location}?",
                      details)

    def file_under_cursor(self) -> FileInfo | str:
        """The active side's file under the cursor (to view or edit), or why not."""
        pane = self.active
        why = self.not_ready(pane)
        entry = pane.current
        if why or entry is None or entry.is_dir:
            return why or "Move to a file first"
        return entry

    # -- sync and watch ---------------------------------------------------------------------

    @property
    def pair_title(self) -> str:
        return f"{self.local.location} → {self.board.location}"

    def make_syncer(self, delete: bool) -> Syncer:
        options = SyncOptions(delete=delete, policy=SYNC_POLICY)
        return Syncer(self.local.ready_fs, self.local.path, self.board.ready_fs, self.board.path,
                      options)

    def watch_target(self) -> tuple:
        """(board key, session, board folder) of a watch started now."""
        if self.board_info is None or self.board_fs is None:
            raise RuntimeError("no board listed to watch")
        return self.board_info.key, self.board_fs.session, self.board.path

    def watched_change(self, event: WatchEvent) -> bool:
        """Show a watch's upload or delete in the board side, if it shows that board. True
        if the side changed."""
        fs = self.board_fs
        if fs is None or self.watched is None or fs.session is not self.watched[1]:
            return False
        return self.board.note_change(fs.join(self.watched[2], event.path.rstrip("/")),
                                      is_dir=event.path.endswith("/"), size=event.size,
                                      gone=event.kind == "deleted")
