"""Board files from the command line, with mpremote's habits (`:` marks a board path)."""

from __future__ import annotations

import hashlib
import os
import posixpath
import sys
import time
from pathlib import Path

from mptui.board.errors import BoardOSError
from mptui.board.fs import board_path
from mptui.commands.common import Command, UsageError, is_board_path, run_on_board, write_out


def _paths(p, nargs="+", help="board paths (a leading ':' is optional)"):
    p.add_argument("paths", nargs=nargs, metavar="PATH", help=help)


# -- listing and reading --------------------------------------------------------------------


def _ls(args) -> int:
    async def work(session):
        from mptui.board import BoardOSError

        path = args.path or "/"
        try:
            entries = await session.fs.ls(path, recursive=args.recursive)
        except BoardOSError as e:
            if e.errno != 20:  # ENOTDIR: list the file itself
                raise
            st = await session.fs.stat(path)
            entries = None
            _print_entry(posixpath.basename(board_path(path)), False, st.size, args.long)
        for e in entries or ():
            _print_entry(e.path, e.is_dir, e.size, args.long)

    return run_on_board(args, work)


def _print_entry(name: str, is_dir: bool, size: int, long: bool) -> None:
    name = name + "/" if is_dir else name
    print(f"{'' if is_dir else size:>10}  {name}" if long else name)


def _ls_args(p) -> None:
    p.add_argument("-l", "--long", action="store_true", help="show sizes")
    p.add_argument("-r", "--recursive", action="store_true", help="list sub-folders too")
    p.add_argument("path", nargs="?", metavar="PATH", help="a board folder (default /)")


def _cat(args) -> int:
    async def work(session):
        for path in args.paths:
            write_out(await session.fs.read(path))

    return run_on_board(args, work)


def _sha256sum(args) -> int:
    async def work(session):
        for path in args.paths:
            print(f"{await session.fs.sha256(path)}  {path}")

    return run_on_board(args, work)


def _df(args) -> int:
    async def work(session):
        total, free = await session.fs.df(args.path or "/")
        used = total - free
        pct = 100 * used // total if total else 0
        print(f"{'mount':<10} {'size':>12} {'used':>12} {'avail':>12} {'use%':>5}")
        print(f"{board_path(args.path or '/'):<10} {total:>12} {used:>12} {free:>12} {pct:>4}%")

    return run_on_board(args, work)


# -- changing ---------------------------------------------------------------------------------


def _simple(method: str, **kw):
    def run(args) -> int:
        async def work(session):
            for path in args.paths:
                await getattr(session.fs, method)(path, **{k: getattr(args, k) for k in kw})

        return run_on_board(args, work)

    return run


def _flag(flag: str, dest: str, help: str):
    def add(p):
        p.add_argument(flag, dest=dest, action="store_true", help=help)
        _paths(p)

    return add


# -- cp ---------------------------------------------------------------------------------------


class _Progress:
    """A one-line progress display on a terminal (stderr); silent otherwise."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.label = ""
        self.start = 0.0

    def begin(self, label: str) -> None:
        self.label, self.start = label, time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        rate = done / max(time.monotonic() - self.start, 1e-6)
        bar = "#" * (30 * done // total)
        sys.stderr.write(f"\r{self.label[-30:]:<30} [{bar:<30}] {100 * done // total:3}% "
                         f"{rate / 1024:8.1f} KiB/s")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _cp(args) -> int:
    *sources, dest = args.paths
    if not sources:
        raise SystemExit("mptui cp: error: give at least one source and a destination")

    async def work(session):
        copier = _Copier(session, force=args.force)
        dest_dir = await copier.is_dir(dest) or dest.endswith("/") or dest == ":"
        if len(sources) > 1 and not dest_dir:
            raise UsageError(f"cp: {dest} is not a folder (needed for several sources)")
        for src in sources:
            if not is_board_path(src) and not is_board_path(dest):
                raise UsageError("cp: one side must be a board path (':' prefix)")
            src_is_dir = await copier.is_dir(src)
            if src_is_dir and not args.recursive:
                raise UsageError(f"cp: {src} is a folder (use -r)")
            name = posixpath.basename(src.lstrip(":").rstrip("/")) or ""
            target = _join(dest, name) if dest_dir else dest
            if src_is_dir:
                await copier.copy_tree(src, target)
            else:
                await copier.copy_file(src, target)
        if copier.skipped or args.recursive:
            print(f"{copier.copied} copied, {copier.skipped} unchanged", file=sys.stderr)

    return run_on_board(args, work)


def _join(base: str, name: str) -> str:
    if is_board_path(base):
        return ":" + posixpath.join(board_path(base), name)
    return os.path.join(base, name)


class _Copier:
    """cp over the two sides of the Files tab (LocalFS and the board's adapter): their
    writes are atomic on both sides and hash a whole tree in one go."""

    def __init__(self, session, force: bool) -> None:
        from mptui.services.boardfs import BoardFSAdapter
        from mptui.services.localfs import LocalFS

        self.board, self.local = BoardFSAdapter(session), LocalFS()
        self.force = force
        self.copied = self.skipped = 0
        self.progress = _Progress()

    def side(self, path: str):
        """(the FileSystem, its path) for a cp argument."""
        return (self.board, path[1:] or "/") if is_board_path(path) else (self.local, path)

    async def is_dir(self, path: str) -> bool:
        fs, p = self.side(path)
        try:
            return (await fs.stat(p)).is_dir
        except FileNotFoundError:
            return False

    async def _hash(self, path: str) -> str:
        """sha256 of a file on either side, "" when it does not exist."""
        fs, p = self.side(path)
        if fs is self.board:
            try:
                return await self.board.fs.sha256(p)
            except (FileNotFoundError, IsADirectoryError, BoardOSError):
                return ""
        try:
            return hashlib.sha256(Path(p).read_bytes()).hexdigest()
        except (FileNotFoundError, IsADirectoryError):
            return ""

    async def copy_file(self, src: str, dst: str, known: str | None = None) -> None:
        (sfs, s), (dfs, d) = self.side(src), self.side(dst)
        self.progress.begin(src)
        data = await sfs.read(s, self.progress if sfs is self.board else None)
        if not self.force:
            have = known if known is not None else await self._hash(dst)
            if have == hashlib.sha256(data).hexdigest():
                self.skipped += 1
                return
        self.progress.begin(dst)
        await dfs.write(d, data, self.progress if dfs is self.board else None)
        self.copied += 1

    async def copy_tree(self, src: str, dst: str) -> None:
        """Copy a folder; files whose content already matches are skipped (the board side's
        hashes come in one round trip)."""
        (sfs, s), (dfs, d) = self.side(src), self.side(dst)
        entries = await sfs.walk(s)
        existing = {}
        if not self.force and await self.is_dir(dst):
            existing = await dfs.hashes(d)
        await dfs.mkdir(d, parents=True)
        for e in entries:
            if e.is_dir and existing.get(e.path, (0,))[0] != -1:
                await dfs.mkdir(dfs.join(d, e.path), parents=True)
        for e in entries:
            if not e.is_dir:
                have = existing.get(e.path)
                await self.copy_file(_join(src, e.path), _join(dst, e.path),
                                     known=have[1] if have else "")


def _cp_args(p) -> None:
    p.add_argument("-r", "--recursive", action="store_true", help="copy folders")
    p.add_argument("-f", "--force", action="store_true", help="copy even unchanged files")
    _paths(p, help="SRC... DST (':' marks a board path)")


COMMANDS = {
    "ls": Command("list a board folder", _ls, _ls_args),
    "cat": Command("print board files", _cat, _paths),
    "cp": Command("copy files between this computer and the board (unchanged files are "
                  "skipped by hash unless -f)", _cp, _cp_args),
    "rm": Command("remove board files", _simple("rm", recursive=True),
                  _flag("-r", "recursive", "remove folders and what they hold")),
    "mkdir": Command("make board folders", _simple("mkdir", parents=True),
                     _flag("-p", "parents", "make parent folders as needed")),
    "rmdir": Command("remove empty board folders", _simple("rmdir"), _paths),
    "touch": Command("create empty board files (existing ones are left as they are)",
                     _simple("touch"), _paths),
    "sha256sum": Command("print the sha256 of board files", _sha256sum, _paths),
    "df": Command("show the board's filesystem size and free space", _df,
                  lambda p: p.add_argument("path", nargs="?", metavar="PATH")),
}
