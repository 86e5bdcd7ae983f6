"""Make a board folder match a local one: only new and changed files are copied (by content
hash; the board's whole tree is hashed in one round trip). Never sent: mptui's OTA secrets
file, files holding a private key (unless --allow-secrets), links to files outside the folder
(unless --follow-symlinks). Ignored: version control, virtualenvs, __pycache__, *.pyc, editor
litter and whatever .mptuiignore files (gitignore syntax) name; --explain says which rule left
each out. With --watch, keep going: every saved file goes to the board at once."""

from __future__ import annotations

import os
import sys
import time

from mptui.commands.common import (
    die,
    is_board_path,
    run_on_board,
    upload_policy,
    upload_policy_args,
    write_out,
)

HELP = "sync a local folder to the board (only what changed), optionally watching it"


def add_arguments(p) -> None:
    p.add_argument("local", metavar="LOCAL", help="a local folder")
    p.add_argument("remote", metavar=":REMOTE", help="a board folder, e.g. :/ or :/app")
    p.add_argument("--delete", action="store_true",
                   help="remove what is only on the board (ignored files are kept)")
    p.add_argument("-n", "--dry-run", action="store_true", help="show the plan, change nothing")
    p.add_argument("-w", "--watch", action="store_true",
                   help="after syncing, upload every saved file until Ctrl-C")
    p.add_argument("--after", choices=("none", "reset", "run"), default="none",
                   help="with --watch, after an upload: nothing (default), soft-reset the "
                   "board (boot.py and main.py run), or run main.py")
    p.add_argument("--mpy", metavar="PATTERN", action="append", default=[],
                   help="compile matching .py files to .mpy with mpy-cross (gitignore syntax, "
                   "e.g. 'lib/**'; may repeat); boot.py and main.py stay .py")
    p.add_argument("-v", "--verbose", action="store_true", help="list unchanged files too")
    p.add_argument("--explain", action="store_true",
                   help="list the files left out, each with the ignore rule that left it out")
    upload_policy_args(p)


def run(args) -> int:
    if not is_board_path(args.remote):
        return die(f"sync: the board folder must start with ':' (got {args.remote!r})", 2)
    if not os.path.isdir(args.local):
        return die(f"sync: {args.local}: not a local folder", 2)
    if args.dry_run and args.watch:
        return die("sync: --dry-run and --watch do not go together", 2)
    if args.after != "none" and not args.watch:
        return die("sync: --after needs --watch", 2)

    return run_on_board(args, lambda session: sync_on(session, args))


async def sync_on(session, args) -> int:
    """The command's work on a connected board (args as parsed)."""
    from mptui.services.boardfs import BoardFSAdapter
    from mptui.services.localfs import LocalFS
    from mptui.services.mpy import MpyError
    from mptui.services.sync import Syncer, SyncOptions

    policy = upload_policy(args)
    options = SyncOptions(delete=args.delete, mpy=tuple(args.mpy), policy=policy)
    syncer = Syncer(LocalFS(), args.local, BoardFSAdapter(session), args.remote[1:], options)
    try:
        if args.watch:
            return await _watch(session, syncer, args)
        return await _sync(syncer, args)
    except MpyError as e:
        return die(f"sync: {e}")
    except OSError as e:
        return die(f"sync: {_os_message(e)}")


async def _sync(syncer, args) -> int:
    plan = await syncer.plan()
    _print_plan(plan, args.verbose, args.explain)
    if args.dry_run:
        print(f"dry run: {len(plan.to_copy)} to copy, {len(plan.to_delete)} to delete, "
              f"{len(plan.unchanged)} unchanged")
        return 0
    if plan.up_to_date:
        print("up to date: nothing to copy")
    progress = _ProgressLine()
    result = await syncer.apply(plan, progress=progress)
    progress.close()
    print(result.summary() + (f" ({_size(result.bytes)} in {result.seconds:.2f} s)"
                              if result.copied else ""))
    return 0


async def _watch(session, syncer, args) -> int:
    from mptui.services.console import ConsoleRouter
    from mptui.services.watch import Watcher

    router = ConsoleRouter(lambda key, state: None)  # the board's console, as the app's
    router.attach("board", session)

    def on_event(event) -> None:
        if event.kind == "watching":
            router.set_sink("board", write_out)  # what the board prints from now on (main.py)
        _print_event(event)

    watcher = Watcher(syncer, console=router.board("board"), after=args.after, on_event=on_event)
    try:
        await watcher.run()
    finally:
        await router.detach("board")
    return 0


def _print_event(event) -> None:
    stamp = time.strftime("%H:%M:%S", time.localtime(event.time))
    text = " ".join(x for x in (event.kind, event.path, event.detail) if x)
    if event.kind == "watching":
        text = f"watching {event.detail} (Ctrl-C stops)"
    elif event.kind == "uploaded":
        text += f" ({_size(event.size)})"
    stream = sys.stderr if event.kind in ("warning", "error") else sys.stdout
    print(f"{stamp} {text}", file=stream, flush=True)


# -- the plan ---------------------------------------------------------------------------------


def _print_plan(plan, verbose: bool, explain: bool = False) -> None:
    from mptui.services.sync import CHANGED, EXTRA, NEW, SAME

    if plan.make_root:
        print(f"new folder  :{plan.remote_root}")
    for item in plan.items:
        name = item.path + ("/" if item.is_dir else "")
        if item.kind == NEW:
            print(f"new         {name}" + ("" if item.is_dir else f" ({_size(item.size)})")
                  + _compiled_from(item))
        elif item.kind == CHANGED:
            what = "replace   " if item.replace else "changed   "
            print(f"{what}  {name} ({_size(item.size)})" + _compiled_from(item))
        elif item.kind == EXTRA:
            held = f" ({item.files} file{'s' if item.files != 1 else ''})" if item.is_dir else ""
            if plan.delete:
                print(f"delete      {name}{held}")
            else:
                print(f"board only  {name}{held} (kept; --delete removes it)")
        elif item.kind == SAME and verbose and not item.is_dir:
            print(f"same        {name}")
    for rel in plan.leftovers:
        print(f"clean up    {rel} (left by an interrupted copy)")
    if explain:
        for rel, why in plan.ignored:
            print(f"ignored     {rel} ({why})")
    for warning in plan.warnings:
        print(f"mptui: warning: {warning}", file=sys.stderr)


def _compiled_from(item) -> str:
    return f" from {item.source}" if item.source and item.source != item.path else ""


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024 or unit == "MiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def _os_message(e: OSError) -> str:
    where = f"{e.filename}: " if e.filename else ""
    return where + (e.strerror or str(e))


class _ProgressLine:
    """One line of progress on stderr when it is a terminal; silent otherwise."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.shown = False

    def __call__(self, p) -> None:
        if not self.enabled or not p.total:
            return
        self.shown = True
        sys.stderr.write(f"\r{p.files_done}/{p.files_total} files  {100 * p.fraction:3.0f}%  "
                         f"{p.rate / 1024:8.1f} KiB/s  {p.path[-40:]:<40}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")

