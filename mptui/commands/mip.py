"""Install MicroPython packages on the board, as mpremote's mip does, fetched by this computer.

    mptui mip install aioble                    # micropython-lib, .mpy for the board, to /lib
    mptui mip install --no-mpy umqtt.simple@1.3.4
    mptui mip install github:org/repo@main      # its package.json (urls, deps)
    mptui mip install --target /app https://example.org/lib/thing.py

Files are fetched here (the board needs no network), checked (names, hashes, sizes), then
copied to the board as `cp` copies: each file atomic, unchanged files skipped by hash.
$MPTUI_MIP_MIRROR (or --mirror) serves github:/gitlab:/codeberg: raw files from a mirror:
`MIRROR/raw.githubusercontent.com/ORG/REPO/BRANCH/PATH`.
"""

from __future__ import annotations

import asyncio
import sys
import threading

from mptui.commands.common import OK, UsageError, run_on_board

HELP = "install packages from micropython-lib, github:, gitlab: or a URL (fetched here)"
DEFAULT_TARGET = "/lib"


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="mip_command", metavar="ACTION", required=True)
    p = sub.add_parser("install", help="install packages and their dependencies",
                       description=__doc__)
    p.add_argument("--target", metavar="DIR", default=DEFAULT_TARGET,
                   help=f"the board folder to install to (default {DEFAULT_TARGET}; made as needed)")
    p.add_argument("--index", metavar="URL", help="the package index (default "
                   "https://micropython.org/pi/v2, as mpremote's)")
    p.add_argument("--no-mpy", dest="mpy", action="store_false",
                   help="install .py source, not .mpy compiled for the board's version")
    p.add_argument("--mirror", metavar="URL", help="fetch github:/gitlab:/codeberg: files "
                   "from this mirror of their raw-file hosts (default: $MPTUI_MIP_MIRROR, "
                   "else the hosts themselves)")
    p.add_argument("packages", nargs="+", metavar="PKG[@VER]",
                   help="a package name, github:ORG/REPO[/PATH][@BRANCH], gitlab:..., or an "
                   "http(s) URL of a .py/.mpy file or a package.json")


def run(args) -> int:
    from mptui.board.fs import board_path
    from mptui.services.mip import INDEX, MipSource, mirror_from_env, resolve, split_spec

    index = args.index or INDEX
    if not index.startswith(("http://", "https://")):
        raise UsageError(f"mip: --index must be an http(s) URL, not {index!r}")
    mirror = mirror_from_env(args.mirror)
    target = board_path(args.target).rstrip("/") or "/"
    specs = [split_spec(spec) for spec in args.packages]

    async def work(session):
        from mptui.commands.files import _Progress
        from mptui.services.boardfs import BoardFSAdapter
        from mptui.services.mip import install

        mpy = "py"
        if args.mpy:
            mpy = str(await session.eval("getattr(__import__('sys').implementation, '_mpy', 0)"
                                         " & 0xFF") or "py")
        source = MipSource(index, mpy, mirror)
        board = BoardFSAdapter(session)
        for spec, version in specs:
            print(f"Installing {spec}{'@' + version if version else ''} to {target}"
                  + (f" (mpy {mpy})" if mpy != "py" else " (source)"), file=sys.stderr)
            stop = threading.Event()
            try:
                found = await asyncio.to_thread(resolve, spec, version, source, stop=stop)
            except asyncio.CancelledError:  # Ctrl-C: no further request
                stop.set()
                raise
            for line in found.packages[1:]:
                print(f"  with {line}", file=sys.stderr)
            result = await install(found.files, board, target, _Progress())
            for rel in sorted(found.files):
                print(f"{target.rstrip('/')}/{rel}")
            for line in result.refused + result.warnings:
                print(f"mptui: mip: {line}", file=sys.stderr)
            print(f"{result.files} copied, {result.unchanged} unchanged", file=sys.stderr)
            if result.refused or result.warnings:
                from mptui.services.mip import MipError

                raise MipError(f"{spec}: not every file was installed")
        return OK

    return run_on_board(args, work)
