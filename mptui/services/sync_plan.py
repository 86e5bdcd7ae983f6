"""What a sync plans and does, as plain data: each file's verdict (new, changed, the same,
only on the board), the plan that lists them, the options and the result. The Syncer
(`mptui.services.sync`) makes and applies them; the app's plan screen and `mptui sync` show them."""

from __future__ import annotations

from dataclasses import dataclass, field

from mptui.services.ignore import DEFAULT_PATTERNS, UploadPolicy

NEW, CHANGED, SAME, EXTRA = "new", "changed", "same", "only on board"
NEVER_COMPILED = ("boot.py", "main.py")  # a board runs these by name, never as .mpy

Tree = dict[str, tuple[int, str]]  # relative path -> (size, sha256); folders (-1, "")


@dataclass(frozen=True)
class PlanItem:
    kind: str  # NEW, CHANGED, SAME or EXTRA
    path: str  # relative to the board folder, '/'-separated
    is_dir: bool = False
    size: int = 0  # of the local file (the board's for EXTRA)
    source: str = ""  # the local file, relative (ends in .py when compiled to .mpy)
    files: int = 0  # EXTRA folder: how many files it holds
    replace: bool = False  # the board has a file where a folder goes, or the reverse


@dataclass
class SyncPlan:
    local_root: str
    remote_root: str
    delete: bool
    items: list[PlanItem] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)  # mptui temporary files on the board
    warnings: list[str] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (path, the rule): --explain
    compiled: dict[str, bytes] = field(default_factory=dict)  # board path -> .mpy
    stale: list[str] = field(default_factory=list)  # .py a .mpy replaces: removed after the copies
    make_root: bool = False  # the board folder does not exist yet

    def of(self, kind: str, dirs: bool | None = None) -> list[PlanItem]:
        return [i for i in self.items if i.kind == kind and (dirs is None or i.is_dir == dirs)]

    @property
    def to_copy(self) -> list[PlanItem]:
        return [i for i in self.items if i.kind in (NEW, CHANGED) and not i.is_dir]

    @property
    def to_delete(self) -> list[PlanItem]:
        return self.of(EXTRA) if self.delete else []

    @property
    def unchanged(self) -> list[PlanItem]:
        return self.of(SAME, dirs=False)

    @property
    def folders_to_make(self) -> list[PlanItem]:
        return [i for i in self.items if i.kind in (NEW, CHANGED) and i.is_dir]

    @property
    def up_to_date(self) -> bool:
        return not (self.to_copy or self.to_delete or self.folders_to_make or self.leftovers
                    or self.make_root or self.stale)

    @property
    def copy_bytes(self) -> int:
        return sum(i.size for i in self.to_copy)


@dataclass(frozen=True)
class SyncResult:
    copied: int
    deleted: int
    unchanged: int
    bytes: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return f"{self.copied} copied, {self.deleted} deleted, {self.unchanged} unchanged"


@dataclass(frozen=True)
class SyncOptions:
    delete: bool = False  # remove what is only on the board (ignored files excepted)
    mpy: tuple[str, ...] = ()  # .py files to compile to .mpy (patterns in gitignore syntax)
    ignore_defaults: tuple[str, ...] = DEFAULT_PATTERNS
    policy: UploadPolicy = field(default_factory=UploadPolicy)  # secrets, links out of the folder
