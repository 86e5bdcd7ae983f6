"""Board files from the command line, with mpremote's habits (`:` marks a board path)."""

from __future__ import annotations

import contextlib
import posixpath
import sys

from mptui.board.fs import board_path
from mptui.commands.common import (
    BOARD_ERROR,
    OK,
    Command,
    UsageError,
    echo,
    is_board_path,
    run_on_board,
    upload_policy,
    upload_policy_args,
    write_out,
)


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
        for entry in entries or ():
            _print_entry(entry.path, entry.is_dir, entry.size, args.long)

    return run_on_board(args, work)


def _print_entry(name: str, is_dir: bool, size: int, long: bool) -> None:
    name = name + "/" if is_dir else name
    echo(f"{'' if is_dir else size:>10}  {name}" if long else name)


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
            echo(f"{await session.fs.sha256(path)}  {path}")

    return run_on_board(args, work)


def _df(args) -> int:
    async def work(session):
        total, free = await session.fs.df(args.path or "/")
        used = total - free
        pct = 100 * used // total if total else 0
        echo(f"{'mount':<10} {'size':>12} {'used':>12} {'avail':>12} {'use%':>5}")
        echo(f"{board_path(args.path or '/'):<10} {total:>12} {used:>12} {free:>12} {pct:>4}%")

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
    """A one-line progress display per file on a terminal (stderr); silent otherwise."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()

    def __call__(self, p) -> None:
        if not self.enabled or p.file_size <= 0:
            return
        rate = p.rate
        bar = "#" * (30 * p.file_done // p.file_size)
        sys.stderr.write(f"\r{p.path[-30:]:<30} [{bar:<30}] {100 * p.file_done // p.file_size:3}% "
                         f"{rate / 1024:8.1f} KiB/s")
        if p.file_done >= p.file_size:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _cp(args) -> int:
    *sources, dest = args.paths
    if not sources:
        raise UsageError("cp: give at least one source and a destination")
    if args.explain and not args.dry_run:
        raise UsageError("cp: --explain goes with --dry-run")
    if args.mpy and not is_board_path(dest):
        raise UsageError("cp: --mpy compiles what goes to the board (give a ':' destination)")

    async def work(session):
        await _raw_repl_early(session)
        if not args.mpy:
            return await copy(session, None)
        import tempfile

        with tempfile.TemporaryDirectory(prefix="mptui-cp-") as tmp:
            return await copy(session, await _mpy_stage(session, args, tmp))

    async def copy(session, stage):
        from mptui.board.batch import IntoFolder
        from mptui.services.boardfs import BoardFSAdapter
        from mptui.services.copier import Copier, CopyOptions
        from mptui.services.localfs import LocalFS

        board, local = BoardFSAdapter(session), LocalFS()

        def side(path: str):
            """(the FileSystem, its path) for a cp argument."""
            return (board, path[1:] or "/") if is_board_path(path) else (local, path)

        policy = upload_policy(args)
        copier = Copier(CopyOptions(force=args.force, policy=policy), _Progress())
        dst, d = side(dest)
        into = _into_asked(args, sources, dest, stage)
        dest_dir = dest.endswith("/") or dest == ":" or (not into and await _is_dir(dst, d))
        if len(sources) > 1 and not dest_dir:
            raise UsageError(f"cp: {dest} is not a folder (needed for several sources)")
        for src in sources:
            if not is_board_path(src) and not is_board_path(dest):
                raise UsageError("cp: one side must be a board path (':' prefix)")
            sfs, s = side(src)
            info = await sfs.stat(s)
            if info.is_dir and not args.recursive:
                raise UsageError(f"cp: {src} is a folder (use -r)")
            name = posixpath.basename(src.lstrip(":").rstrip("/")) or ""
            to = dst.join(d, name) if dest_dir else IntoFolder(d, name) if into else d
            if stage is not None and sfs is local:  # the board gets what the stage makes
                staged = await stage.add(s)
                _refusals(staged.warnings)
                s, info = staged.path, await sfs.stat(staged.path)
                if dest_dir:
                    to = dst.join(d, sfs.basename(s))
                elif s in stage.compiled and to.endswith(".py"):
                    to = to[:-3] + ".mpy"
            await copier.add(sfs, s, dst, to, info)
        plan = copier.plan
        _refusals(plan.warnings + plan.refused)
        if args.dry_run:
            _print_plan(plan, args.explain)
            return BOARD_ERROR if plan.refused else OK
        shown = len(plan.warnings), len(plan.refused)
        result = await copier.run()
        _refusals(result.warnings[shown[0]:] + result.refused[shown[1]:])
        if result.files or result.unchanged or not result.refused:  # what was done, always
            echo(f"{result.files} copied, {result.unchanged} unchanged", err=True)
        if stage is not None:
            await _after_mpy(board, stage, plan)
        return BOARD_ERROR if result.refused else OK

    return run_on_board(args, work)


async def _mpy_stage(session, args, tmp: str):
    """cp --mpy: the stage the local sources go through (services/mpy_copy.py), or None: no
    --mpy, or mpy-cross does not make what the board loads (then said, and the .py copied)."""
    if not args.mpy:
        return None
    from mptui.services.mpy import MpyCompiler, MpyError, MpyTransform
    from mptui.services.mpy_copy import MpyStage

    compiler = MpyCompiler()
    try:
        await compiler.for_board(session)
    except MpyError as e:
        print(f"mptui: cp: {e}; copying the .py files as they are", file=sys.stderr)
        return None
    return MpyStage(MpyTransform(compiler), tmp, args.follow_symlinks)


async def _after_mpy(board, stage, plan) -> None:
    """Once the .mpy files are on the board: their stale .py go; say what was compiled."""
    from mptui.services.mpy_copy import remove_stale

    sent = [step.dst_path for step in plan.files + plan.unchanged if step.src_path in stage.compiled]
    for path in await remove_stale(board, sent):
        print(f"removed :{path} (its .mpy replaces it)", file=sys.stderr)
    compiler = stage.transform.compiler
    print(f"{len(stage.compiled)} compiled to .mpy ({compiler.hits} from the cache)",
          file=sys.stderr)


async def _raw_repl_early(session) -> None:
    """Start getting the board to its raw REPL now, in the background: its prompt comes back
    while this side still imports and reads the files, and the first operation need not wait
    for it. A failure shows on that operation (it tries again)."""
    import asyncio

    async def enter() -> None:
        with contextlib.suppress(Exception):
            async with session.operation() as repl:
                await repl.enter_raw()

    _early.add(task := asyncio.ensure_future(enter()))
    task.add_done_callback(_early.discard)
    await asyncio.sleep(0)  # (it sends its bytes before this side goes on)


_early: set = set()  # (the tasks, kept until they end)


def _into_asked(args, sources: list[str], dest: str, stage) -> bool:
    """One file from here to a board target that may be a folder, copied whatever the board
    has (-f): the write itself asks the board whether the target is a folder (and then goes
    into it), not a round trip of its own first."""
    import os

    return (len(sources) == 1 and is_board_path(dest) and not is_board_path(sources[0])
            and args.force and stage is None and not args.dry_run
            and os.path.isfile(sources[0]))


async def _is_dir(fs, path: str) -> bool:
    try:
        return (await fs.stat(path)).is_dir
    except FileNotFoundError:
        return False


def _refusals(lines) -> None:
    for line in lines:
        echo(f"mptui: cp: {line}", err=True)


def _print_plan(plan, explain: bool) -> None:
    """cp --dry-run: what would be copied, what is unchanged (and with --explain: what the
    ignore set leaves out, and by which rule)."""
    for step in plan.files:
        echo(f"copy        {step.shown or step.src_path} -> {step.dst_path} ({step.size} B)")
    for step in plan.unchanged:
        echo(f"same        {step.shown or step.src_path}")
    if explain:
        for path, why in plan.ignored:
            echo(f"ignored     {path} ({why})")
    echo(f"dry run: {len(plan.files)} to copy, {len(plan.unchanged)} unchanged"
          + (f", {len(plan.ignored)} ignored" if plan.ignored else ""))


def _cp_args(p) -> None:
    p.add_argument("-r", "--recursive", action="store_true", help="copy folders")
    p.add_argument("-f", "--force", action="store_true", help="copy even unchanged files")
    p.add_argument("-n", "--dry-run", action="store_true", help="show what would be copied")
    p.add_argument("--explain", action="store_true",
                   help="with --dry-run: say which ignore rule leaves each file out")
    upload_policy_args(p)
    p.add_argument("--mpy", action="store_true",
                   help="compile .py files (not main.py, boot.py) to .mpy for the board with "
                   "mpy-cross, and remove the .py they replace on the board")
    _paths(p, help="SRC... DST (':' marks a board path)")


COMMANDS = {
    "ls": Command("list a board folder", _ls, _ls_args),
    "cat": Command("print board files", _cat, _paths),
    "cp": Command("copy files between this computer and the board (unchanged files are "
                  "skipped by hash unless -f; ignored files and secrets are not sent)",
                  _cp, _cp_args),
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
