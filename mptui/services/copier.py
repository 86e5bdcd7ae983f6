"""The one copy engine: files and folders between two sides (this computer, a board), for
`mptui cp`, the Files tab's copy and move, and (through transfer.copy_file) sync and watch.

    result = await copy_paths(LocalFS(), ["proj"], BoardFSAdapter(session), "/", show)

    copier = Copier(CopyOptions(force=False), progress=show)   # several sources, own targets
    await copier.add(LocalFS(), "proj", board, "/app")
    plan = copier.plan          # files, unchanged, refused, warnings, ignored
    result = await copier.run()

- Unchanged files are skipped by SHA-256 (a board hashes a whole folder in one round trip);
  `force` copies them anyway.
- Writes are atomic on both sides (FileSystem.write): cancelling the task (the way to stop)
  or losing the board leaves the old file or none, never half a new one.
- `progress` gets a TransferProgress per step of each file and for the whole copy.
- Every name a board lists must be ONE path component (`name_problem`): anything else is
  refused with a line naming it, skipped, and nothing is ever written outside the target.
- From this computer to a board, the ignore set (ignore.py) leaves files out (`plan.ignored`
  says by which rule), and mptui's secrets file, private keys and links to files outside the
  folder are left out with a line (`plan.warnings`) unless the UploadPolicy allows them.
- `refused` are errors (the CLI exits 1): a board's name that is not one, a file named on its
  own that may not go; `warnings` are notes on what a folder's copy left out.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mptui.services.filesystem import FileInfo, FileSystem
from mptui.services.ignore import IgnoreRules, UploadPolicy, walk
from mptui.services.transfer import (
    TransferMeter,
    TransferProgress,
    batch_full,
    copy_file,
    leaf_folders,
    write_files,
)

_DRIVE = re.compile(r"[A-Za-z]:")


def name_problem(name: str) -> str | None:
    """Why a name (as a board listed it) is not one path component, or None when it is."""
    if name in ("", ".", ".."):
        return {"": "an empty name", ".": "'.' (this folder)", "..": "'..' (the folder above)"}[name]
    for bad, what in (("/", "holds '/'"), ("\\", "holds '\\'"), ("\x00", "holds NUL")):
        if bad in name:
            return what
    if _DRIVE.match(name):
        return "starts with a drive letter"
    return None


def refused_name(folder: str, name: str, problem: str) -> str:
    return f"{folder}: the board lists {name!r}, not a plain name ({problem}); skipped"


class UnsafeName(OSError):
    """A name from a board that is not one path component (filename: its repr)."""


def check_name(name: str) -> str:
    """name, when it is one path component; else UnsafeName."""
    problem = name_problem(name)
    if problem:
        raise UnsafeName(22, f"not a plain name ({problem})", repr(name))
    return name


@dataclass(frozen=True)
class CopyOptions:
    force: bool = False  # copy files the target already has (same SHA-256)
    policy: UploadPolicy = field(default_factory=UploadPolicy)  # to a board: secrets, links
    ignore: bool = True  # to a board: leave out what the ignore set names


@dataclass(frozen=True)
class CopyStep:
    src: FileSystem
    src_path: str
    dst: FileSystem
    dst_path: str
    size: int
    shown: str = ""  # the source as the user gave it (for messages)

    @property
    def upload(self) -> bool:
        return self.src.is_local and not self.dst.is_local


@dataclass
class CopyPlan:
    files: list[CopyStep] = field(default_factory=list)  # to copy
    unchanged: list[CopyStep] = field(default_factory=list)  # the target has the same bytes
    folders: list[tuple[FileSystem, str]] = field(default_factory=list)  # to make
    refused: list[str] = field(default_factory=list)  # error lines: bad names, named secrets
    warnings: list[str] = field(default_factory=list)  # left out of a folder: secrets, links
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (source path, rule)
    roots: list[tuple[FileSystem, str]] = field(default_factory=list)  # the sources

    @property
    def bytes(self) -> int:
        return sum(s.size for s in self.files)


@dataclass(frozen=True)
class CopyResult:
    files: int  # copied
    folders: int
    bytes: int
    unchanged: int = 0  # skipped: the target had the same content
    refused: tuple[str, ...] = ()  # error lines for what was not copied
    warnings: tuple[str, ...] = ()  # lines for what a folder's copy left out


class Copier:
    def __init__(self, options: CopyOptions = CopyOptions(),
                 progress: Callable[[TransferProgress], None] | None = None) -> None:
        self.options, self.progress = options, progress
        self.plan = CopyPlan()

    # -- planning ---------------------------------------------------------------------------

    async def add(self, src: FileSystem, path: str, dst: FileSystem, target: str,
                  info: FileInfo | None = None) -> None:
        """Plan copying path (a file, or a folder with all it holds) to target."""
        info = info or await src.stat(path)
        self.plan.roots.append((src, path))
        if not info.is_dir:
            if not self._refuse_named(src, path, dst):
                await self._file(CopyStep(src, path, dst, target, info.size, path), None,
                                 named=True)
            return
        if src is dst and _inside(src, target, path):
            raise OSError(22, "cannot copy a folder into itself", path)
        self.plan.folders.append((dst, target))
        existing = {} if self.options.force else await _hashes(dst, target)
        theirs: dict[str, tuple[int, str]] | None = None  # a board source's hashes, fetched once if needed
        for names, is_dir, size in await self._entries(src, path, dst):
            rel = "/".join(names)
            to = _join(dst, target, names)
            if is_dir:
                if existing.get(rel, (0,))[0] != -1:
                    self.plan.folders.append((dst, to))
                continue
            from_path = src.join(path, *names)
            shown = os.path.join(path, *names) if src.is_local else from_path
            step = CopyStep(src, from_path, dst, to, size, shown)
            have = existing.get(rel)
            if have is None or have[0] != size:
                await self._file(step, "")
                continue
            if not src.is_local:
                if theirs is None:
                    theirs = await _hashes(src, path)
                await self._file(step, have[1], theirs.get(rel, (0, None))[1])
            else:
                await self._file(step, have[1])

    async def _file(self, step: CopyStep, have: str | None, mine: str | None = None,
                    named: bool = False) -> None:
        """Plan one file: have is the target's sha256 ("" none; None: ask the target), mine
        the source's (None: read it); named: given on its own (not found in a folder). What
        goes to a board is read here to check it."""
        if step.upload:
            data = await step.src.read(step.src_path)
            if self._refuse_content(step.shown, data, named):
                return
            mine = sha256(data)
        same = False
        if have != "" and not self.options.force:
            try:
                if have is None:
                    have = await step.dst.sha256(step.dst_path)
                if mine is None:
                    mine = await step.src.sha256(step.src_path)
                same = have == mine
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                same = False
        (self.plan.unchanged if same else self.plan.files).append(step)

    async def _entries(self, src: FileSystem, path: str,
                       dst: FileSystem) -> list[tuple[tuple[str, ...], bool, int]]:
        """(names, is_dir, size) of everything under a source folder that may be copied."""
        if src.is_local and not dst.is_local and self.options.ignore:
            return await _upload_entries(path, self.options.policy, self.plan)
        out, reported = [], set()
        for e in await src.walk(path):
            if not src.is_local:
                bad = next(((i, p) for i, n in enumerate(e.names) if (p := name_problem(n))), None)
                if bad is not None:
                    i, problem = bad
                    if e.names[: i + 1] not in reported:
                        reported.add(e.names[: i + 1])
                        self.plan.refused.append(
                            refused_name(src.join(path, *e.names[:i]), e.names[i], problem))
                    continue
            out.append((e.names, e.is_dir, e.size))
        return out

    def _refuse_named(self, src: FileSystem, path: str, dst: FileSystem) -> bool:
        """A file named on its own: mptui's secrets file never goes to a board."""
        if not (src.is_local and not dst.is_local):
            return False
        hit = IgnoreRules(root=src.parent(path)).builtin(src.basename(path))
        if hit is not None:
            self.plan.refused.append(f"{path}: {hit.describe()}: never sent to a board")
        return hit is not None

    def _refuse_content(self, rel: str, data: bytes, named: bool = False) -> bool:
        """Whether data may not go to a board (a line says why: an error for a file named
        on its own, a warning for one in a folder)."""
        warning = self.options.policy.refuse(rel, data)
        if warning:
            (self.plan.refused if named else self.plan.warnings).append(warning)
        return warning is not None

    # -- copying ----------------------------------------------------------------------------

    async def run(self) -> CopyResult:
        """Make the folders, copy the files (in order, atomically), as planned."""
        plan = self.plan
        meter = TransferMeter(plan.bytes, len(plan.files), self.progress)
        for fs in {id(fs): fs for fs, _ in plan.folders}.values():
            for folder in leaf_folders(fs, [f for s, f in plan.folders if s is fs]):
                await fs.mkdir(folder, parents=True)
        done = copied = 0
        batch: list[tuple[CopyStep, bytes]] = []  # uploads to one board, sent as one stream
        for step in plan.files:
            if batch and (step.dst is not batch[0][0].dst or not step.upload
                          or batch_full([d for _, d in batch], step.size)):
                done += await write_files(batch[0][0].dst, [(s.dst_path, d) for s, d in batch], meter)
                copied, batch = copied + len(batch), []
            data = None
            if step.upload:  # the bytes sent are the bytes checked
                data = await step.src.read(step.src_path)
                if self._refuse_content(step.shown, data):
                    continue
                batch.append((step, data))
                continue
            done += len(await copy_file(step.src, step.src_path, step.dst, step.dst_path,
                                        meter, step.size, data))
            copied += 1
        if batch:
            done += await write_files(batch[0][0].dst, [(s.dst_path, d) for s, d in batch], meter)
            copied += len(batch)
        return CopyResult(copied, len({(id(fs), f) for fs, f in plan.folders}), done,
                          len(plan.unchanged), tuple(plan.refused), tuple(plan.warnings))


async def copy_paths(
    src: FileSystem,
    sources: Sequence[str | FileInfo],
    dst: FileSystem,
    dest_dir: str,
    progress: Callable[[TransferProgress], None] | None = None,
    options: CopyOptions = CopyOptions(),
    copier: Copier | None = None,
) -> CopyResult:
    """Copy files and folders (recursively) into dest_dir on the other side, keeping names.
    A source may be a FileInfo as listed (its name as the board gave it is checked)."""
    copier = copier or Copier(options, progress)
    for source in sources:
        info = source if isinstance(source, FileInfo) else await src.stat(source)
        if not src.is_local and (problem := name_problem(info.name)):
            folder = info.path[: -len(info.name) - 1] if info.path.endswith("/" + info.name) else ""
            copier.plan.refused.append(refused_name(folder or "/", info.name, problem))
            continue
        await copier.add(src, info.path, dst, _join(dst, dest_dir, (info.name,)), info)
    return await copier.run()


async def move_paths(
    src: FileSystem,
    sources: Sequence[str | FileInfo],
    dst: FileSystem,
    dest_dir: str,
    progress: Callable[[TransferProgress], None] | None = None,
    options: CopyOptions = CopyOptions(),
) -> CopyResult:
    """Move entries into dest_dir: a rename on the same side, else a copy and then (only once
    everything is copied) a removal of what arrived; what was not copied (ignored, refused)
    stays where it was, with the folders holding it."""
    paths = [s.path if isinstance(s, FileInfo) else s for s in sources]
    if src is dst:
        for path in paths:
            await src.rename(path, src.join(dest_dir, src.basename(path)))
        return CopyResult(0, 0, 0)
    copier = Copier(options, progress)
    result = await copy_paths(src, sources, dst, dest_dir, progress, options, copier)
    plan = copier.plan
    if not (plan.refused or plan.warnings or plan.ignored):
        await delete_paths(src, [path for fs, path in plan.roots])
        return result
    for step in plan.files + plan.unchanged:
        await src.rm(step.src_path)
    for fs, path in plan.roots:  # the folders left empty, deepest first
        if await fs.exists(path) and (await fs.stat(path)).is_dir:
            for e in sorted(await fs.walk(path), key=lambda e: -len(e.names)):
                if e.is_dir:
                    await _rmdir_if_empty(fs, fs.join(path, *e.names))
            await _rmdir_if_empty(fs, path)
    return result


async def delete_paths(fs: FileSystem, paths: Sequence[str]) -> None:
    for path in paths:
        await fs.rm(path, recursive=True)


async def _rmdir_if_empty(fs: FileSystem, path: str) -> None:
    if not await fs.list(path):
        await fs.rm(path)


# -- helpers ----------------------------------------------------------------------------------


def _join(fs: FileSystem, base: str, names: Sequence[str]) -> str:
    """base/names..., each name one path component and the result inside base (else
    UnsafeName: nothing is ever written outside the target)."""
    out = fs.join(base, *map(check_name, names))
    if fs.is_local:
        top = os.path.abspath(base)
        if not os.path.abspath(out).startswith(top.rstrip(os.sep) + os.sep):
            raise UnsafeName(22, "outside the target folder", out)
    return out


async def _hashes(fs: FileSystem, folder: str) -> dict[str, tuple[int, str]]:
    """{relative path: (size, sha256)} under a folder; {} when it is not one."""
    try:
        return await fs.hashes(folder)
    except (FileNotFoundError, NotADirectoryError):
        return {}


async def _upload_entries(root: str, policy: UploadPolicy,
                          plan: CopyPlan) -> list[tuple[tuple[str, ...], bool, int]]:
    """What the ignore set lets go from a local folder to a board (each file's size)."""

    def scan() -> list[tuple[tuple[str, ...], bool, int]]:
        out: list[tuple[tuple[str, ...], bool, int]] = []
        warnings: list[str] = []
        ignored: list[tuple[str, str]] = []
        rules = IgnoreRules(root=root)
        for rel, entry in walk(rules, "", warnings, ignored, policy.follow_symlinks):
            names = tuple(rel.split("/"))
            if entry.is_dir(follow_symlinks=False):
                out.append((names, True, 0))
            elif entry.is_file():
                try:
                    out.append((names, False, entry.stat().st_size))
                except OSError:
                    continue
        plan.warnings += [os.path.join(root, line) for line in warnings]
        plan.ignored += [(os.path.join(root, rel), why) for rel, why in sorted(ignored)]
        return out

    return await asyncio.to_thread(scan)



def _inside(fs: FileSystem, path: str, folder: str) -> bool:
    rel = fs.relpath(path, folder)
    return rel == "." or not rel.startswith("..")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
