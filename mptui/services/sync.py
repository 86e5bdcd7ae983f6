"""Sync a local folder to a board folder by content hash.

The board's whole tree is hashed in one round trip; the local files are hashed here. A plan
says, for every file, whether it is new, changed, the same, or only on the board; applying it
copies only what changed (atomically, see filesystem.py) and, with `delete`, removes what is
only on the board. Ignore rules (`ignore.py`) apply to both sides: an ignored file is neither
copied nor deleted. `.py` files matching `mpy` patterns go to the board compiled, as `.mpy`.

    syncer = Syncer(LocalFS(), "proj", BoardFSAdapter(session), "/", SyncOptions(delete=True))
    plan = await syncer.plan()          # show it (plan.items), then
    result = await syncer.apply(plan)   # result.summary(): "3 copied, 0 deleted, 12 unchanged"

The Syncer remembers the board's tree after a plan and keeps it up to date as it applies, so
`plan(only=[...])` (used by watch mode) costs no round trip.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import posixpath
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from mptui.board.fs import board_path
from mptui.services.copier import name_problem
from mptui.services.filesystem import FileSystem
from mptui.services.ignore import (
    TEMP_SUFFIX,
    IgnoreRules,
    link_inside,
    walk,
)
from mptui.services.mpy import MpyCompiler, MpyError, board_mpy
from mptui.services.sync_plan import (
    CHANGED,
    EXTRA,
    NEVER_COMPILED,
    NEW,
    SAME,
    PlanItem,
    SyncOptions,
    SyncPlan,
    SyncResult,
    Tree,
)
from mptui.services.transfer import (
    TransferMeter,
    TransferProgress,
    batch_full,
    leaf_folders,
    write_files,
)


@dataclass(frozen=True)
class _LocalFile:
    source: str
    size: int
    sha: str
    data: bytes | None = None  # kept for files to compile


class Syncer:
    def __init__(
        self,
        local: FileSystem,
        local_root: str | os.PathLike[str],
        remote: FileSystem,
        remote_root: str,
        options: SyncOptions = SyncOptions(),
        compiler: MpyCompiler | None = None,
    ) -> None:
        self.local, self.remote, self.options = local, remote, options
        self.local_root = os.path.abspath(local_root)
        self.remote_root = board_path(remote_root)
        self.compiler = compiler or (MpyCompiler() if options.mpy else None)
        self.remote_tree: Tree | None = None  # the board's tree, as last seen or made
        self.remote_exists = True  # the board folder (else a sync makes it)
        self._mpy_checked = False
        self._compiled: dict[tuple[str, str], bytes] = {}
        self._mpy_rules = IgnoreRules(defaults=())
        self._mpy_rules.add("", list(options.mpy))
        self.reload_rules()

    def reload_rules(self) -> None:
        """Read the `.mptuiignore` files again (they are read as folders are scanned)."""
        self.rules = IgnoreRules(self.options.ignore_defaults, root=self.local_root)

    # -- planning ---------------------------------------------------------------------------

    async def refresh(self) -> Tree:
        """Hash the board's folder (one round trip); an absent folder is an empty tree."""
        try:
            self.remote_tree = await self.remote.hashes(self.remote_root)
            self.remote_exists = True
        except FileNotFoundError:
            self.remote_tree, self.remote_exists = {}, False
        except NotADirectoryError:
            raise NotADirectoryError(20, "not a folder on the board", self.remote_root) from None
        return self.remote_tree

    async def plan(self, only: Iterable[str] | None = None) -> SyncPlan:
        """What a sync would do. `only`: just these local paths (relative; folders with what
        they hold), against the board's tree as last seen (no round trip)."""
        if not await asyncio.to_thread(os.path.isdir, self.local_root):
            raise NotADirectoryError(20, "not a folder", self.local_root)
        await self._check_mpy()
        scope = None if only is None else sorted({p.strip("/") for p in only if p.strip("/")})
        if scope is None or self.remote_tree is None:
            await self.refresh()
        plan = SyncPlan(self.local_root, self.remote_root, self.options.delete)
        files, dirs = await asyncio.to_thread(self._scan_local, scope, plan)
        plan.ignored.sort()
        local = await self._targets(files, plan)
        self._compare(local, dirs, scope, plan)
        return plan

    async def _check_mpy(self) -> None:
        if not self.options.mpy or self._mpy_checked:
            return
        session = getattr(self.remote, "session", None)
        await self._mpy_compiler().check_mpy(await board_mpy(session) if session else None)
        self._mpy_checked = True

    def _mpy_compiler(self) -> MpyCompiler:
        if self.compiler is None:  # (made at the start whenever options.mpy is set)
            self.compiler = MpyCompiler()
        return self.compiler

    def _scan_local(self, scope: list[str] | None, plan: SyncPlan) -> tuple[dict[str, _LocalFile], set[str]]:
        """Local files (hashed) and folders that are not ignored, in scope; what is left out
        goes to the plan's warnings (secrets, links) and ignored (by a rule)."""
        files: dict[str, _LocalFile] = {}
        dirs: set[str] = set()
        warnings = plan.warnings
        root = Path(self.local_root)
        follow = self.options.policy.follow_symlinks
        for start in [""] if scope is None else scope:
            if start:
                self.rules.load_above(start)
                host = root / start
                is_dir = host.is_dir() and not host.is_symlink()
                if not (is_dir or host.is_file()) or self.rules.is_ignored(start, is_dir):
                    continue
                if not is_dir:
                    if host.is_symlink() and not follow and not link_inside(os.path.realpath(root), host):
                        warnings.append(f"{start}: a link to a file outside the folder; skipped "
                                        "(--follow-symlinks sends it)")
                    else:
                        self._add_file(files, start, host, warnings)
                    continue
                dirs.add(start)
            for rel, entry in walk(self.rules, start, warnings, plan.ignored, follow):
                if not _utf8(rel):
                    warnings.append(f"{rel!r}: the name is not UTF-8; skipped")
                elif entry.is_dir(follow_symlinks=False):
                    dirs.add(rel)
                elif entry.is_file():
                    self._add_file(files, rel, Path(entry.path), warnings)
        return files, dirs

    def _add_file(self, files: dict[str, _LocalFile], rel: str, host: Path,
                  warnings: list[str]) -> None:
        try:
            data = host.read_bytes()
        except FileNotFoundError:
            return  # gone while we looked (an editor's temporary file, say)
        except OSError as e:
            warnings.append(f"{rel}: cannot read ({e.strerror})")
            return
        refused = self.options.policy.refuse(rel, data)
        if refused:
            warnings.append(refused)
            return
        keep = data if self._compile_target(rel) else None
        files[rel] = _LocalFile(rel, len(data), hashlib.sha256(data).hexdigest(), keep)

    def _compile_target(self, rel: str) -> str | None:
        """The .mpy name for a .py file to compile, else None."""
        if not rel.endswith(".py") or posixpath.basename(rel) in NEVER_COMPILED:
            return None
        if self.options.mpy and self._mpy_rules.match(rel, False):
            return rel[:-3] + ".mpy"
        return None

    async def _targets(self, files: dict[str, _LocalFile], plan: SyncPlan) -> dict[str, _LocalFile]:
        """Board path -> local file, compiling what should go as .mpy."""
        out: dict[str, _LocalFile] = {}
        for rel, lf in files.items():
            target = self._compile_target(rel)
            if target in files:
                plan.warnings.append(f"{rel}: {target} is here too; copied, not compiled")
                target = None
            if target is None or lf.data is None:  # (the data is kept for a target)
                out[rel] = lf
                continue
            key = (rel, lf.sha)
            if key not in self._compiled:
                self._compiled[key] = await self._mpy_compiler().compile(lf.data, rel)
            data = self._compiled[key]
            plan.compiled[target] = data
            out[target] = _LocalFile(rel, len(data), hashlib.sha256(data).hexdigest())
        return out

    def _compare(self, local: dict[str, _LocalFile], local_dirs: set[str],
                 scope: list[str] | None, plan: SyncPlan) -> None:
        remote = self.remote_tree or {}
        plan.make_root = not self.remote_exists
        for target in local:
            local_dirs.update(_ancestors(target))
        blocked = set()  # folders that cannot be made: the board has a file there
        for d in sorted(local_dirs):
            have = remote.get(d)
            if have is None:
                plan.items.append(PlanItem(NEW, d, is_dir=True))
            elif have[0] != -1:
                if self.options.delete:
                    plan.items.append(PlanItem(CHANGED, d, is_dir=True, replace=True))
                else:
                    blocked.add(d)
                    plan.warnings.append(f"{d}: a file on the board but a folder here; skipped "
                                         "(--delete replaces it)")
        for target, lf in sorted(local.items()):
            if any(a in blocked for a in _ancestors(target)):
                continue
            have = remote.get(target)
            if have is None:
                plan.items.append(PlanItem(NEW, target, size=lf.size, source=lf.source))
            elif have[0] == -1:
                if self.options.delete:
                    plan.items.append(PlanItem(CHANGED, target, size=lf.size, source=lf.source,
                                               replace=True))
                else:
                    plan.warnings.append(f"{target}: a folder on the board but a file here; "
                                         "skipped (--delete replaces it)")
            else:
                kind = SAME if have[1] == lf.sha else CHANGED
                plan.items.append(PlanItem(kind, target, size=lf.size, source=lf.source))
        self._extras(local, local_dirs, scope, plan)

    def _extras(self, local: dict[str, _LocalFile], local_dirs: set[str],
                scope: list[str] | None, plan: SyncPlan) -> None:
        """What is only on the board; a folder holding nothing that stays is one item."""
        remote = self.remote_tree or {}
        in_scope = _scope_filter(scope, self._compile_target)
        replaced = {i.path for i in plan.items if i.replace}
        kept: set[str] = set()  # board folders holding something that stays
        extra: dict[str, tuple[int, str]] = {}
        for rel, have in remote.items():
            is_dir = have[0] == -1
            if not in_scope(rel) or rel in replaced or any(a in replaced for a in _ancestors(rel)):
                continue
            if any(map(name_problem, rel.split("/"))):  # a hostile listing: left alone
                plan.warnings.append(f"{rel!r}: the board lists a name that is not one; left alone")
                continue
            if rel.endswith(TEMP_SUFFIX) and not is_dir:
                if scope is None:
                    plan.leftovers.append(rel)
                continue
            if not is_dir and self.rules.builtin(rel):
                plan.warnings.append(f"{rel}: mptui's OTA secrets file is on the board: remove "
                                     f"it (mptui rm :{self._remote(rel)})")
            if self.rules.is_ignored(rel, is_dir) or (rel in local_dirs if is_dir else rel in local):
                kept.update(_ancestors(rel))
                continue
            extra[rel] = have
        whole = {rel for rel, have in extra.items() if have[0] == -1 and rel not in kept}
        for rel, have in sorted(extra.items()):
            if rel in kept or any(a in whole for a in _ancestors(rel)):
                continue  # a folder that keeps an ignored file stays, and what a whole one holds
            if have[0] == -1:
                count = sum(1 for r, h in extra.items() if h[0] != -1 and r.startswith(rel + "/"))
                plan.items.append(PlanItem(EXTRA, rel, is_dir=True, files=count))
            else:
                plan.items.append(PlanItem(EXTRA, rel, size=have[0]))
        if not self.options.delete:  # (with it, they go as any extra does)
            plan.stale = [t[:-4] + ".py" for t in local
                          if t.endswith(".mpy") and t[:-4] + ".py" in extra and extra[t[:-4] + ".py"][0] != -1]

    # -- applying ---------------------------------------------------------------------------

    async def apply(
        self,
        plan: SyncPlan,
        progress: Callable[[TransferProgress], None] | None = None,
        on_done: Callable[[PlanItem, str], None] | None = None,
    ) -> SyncResult:
        """Carry out a plan: make folders, copy new and changed files, then (with delete)
        remove what is only on the board. on_done(item, "made"|"copied"|"deleted") reports
        each step as it completes."""
        start = time.monotonic()
        tree = self.remote_tree if self.remote_tree is not None else {}
        self.remote_tree = tree
        for rel in plan.leftovers:
            try:
                await self.remote.rm(self._remote(rel))
            except FileNotFoundError:
                pass
            tree.pop(rel, None)
        for item in plan.items:
            if item.replace:
                await self.remote.rm(self._remote(item.path), recursive=True)
                _forget(tree, item.path)
        folders = plan.folders_to_make
        paths = [self._remote(i.path) for i in folders] + ([self.remote_root] if plan.make_root else [])
        for path in leaf_folders(self.remote, paths):
            await self.remote.mkdir(path, parents=True)
        self.remote_exists = True
        for item in folders:
            tree[item.path] = (-1, "")
            if on_done:
                on_done(item, "made")
        to_copy = plan.to_copy
        meter = TransferMeter(plan.copy_bytes, len(to_copy), progress)
        copied = sent = 0
        batch: list[tuple[PlanItem, bytes]] = []  # written in one go (one stream to a board)

        async def write_batch() -> None:
            nonlocal copied, sent
            await write_files(self.remote, [(self._remote(i.path), d) for i, d in batch], meter)
            for item, data in batch:
                tree[item.path] = (len(data), hashlib.sha256(data).hexdigest())
                copied += 1
                sent += len(data)
                if on_done:
                    on_done(item, "copied")
            batch.clear()

        for item in to_copy:
            data = plan.compiled.get(item.path)
            if data is None:
                try:
                    data = await self.local.read(os.path.join(self.local_root, *item.source.split("/")))
                except FileNotFoundError:
                    continue  # gone since the plan (an editor's temporary file, say)
                if self.options.policy.refuse(item.source, data):
                    continue  # became a secret since the plan: the bytes sent are the bytes checked
            if batch and batch_full([d for _, d in batch], len(data)):
                await write_batch()
            batch.append((item, data))
        if batch:
            await write_batch()
        for item in plan.to_delete:
            try:
                await self.remote.rm(self._remote(item.path), recursive=item.is_dir)
            except FileNotFoundError:
                pass
            _forget(tree, item.path)
            if on_done:
                on_done(item, "deleted")
        for rel in plan.stale:  # (its .mpy is on the board now: the .py would shadow it)
            try:
                await self.remote.rm(self._remote(rel))
            except FileNotFoundError:
                pass
            _forget(tree, rel)
        return SyncResult(copied, len(plan.to_delete) + len(plan.stale), len(plan.unchanged), sent,
                          time.monotonic() - start)

    def _remote(self, rel: str) -> str:
        return posixpath.join(self.remote_root, rel) if rel else self.remote_root


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _ancestors(rel: str) -> list[str]:
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: k + 1]) for k in range(len(parts))]


def _forget(tree: Tree, rel: str) -> None:
    tree.pop(rel, None)
    for key in [k for k in tree if k.startswith(rel + "/")]:
        del tree[key]


def _scope_filter(scope: list[str] | None,
                  compile_target: Callable[[str], str | None]) -> Callable[[str], bool]:
    """Whether a board path is within the local paths in scope (a .py in scope covers the
    .mpy it compiles to)."""
    if scope is None:
        return lambda rel: True
    roots = set(scope)
    for rel in scope:
        target = compile_target(rel)
        if target:
            roots.add(target)

    def inside(rel: str) -> bool:
        return rel in roots or any(a in roots for a in _ancestors(rel))

    return inside


__all__ = [
    "CHANGED",
    "EXTRA",
    "NEW",
    "SAME",
    "MpyError",
    "PlanItem",
    "SyncOptions",
    "SyncPlan",
    "SyncResult",
    "Syncer",
]
