"""mount / umount: a local folder on the board at /remote, served from here (see
mptui/services/mount.py). `mptui mount DIR` alone opens a REPL in it; in a chain the commands
after it see the folder (`mptui mount . + exec "import main"`); it is unmounted when mptui
leaves."""

from __future__ import annotations

import os

from mptui.commands.common import Command, UsageError, echo, run_on_board


def _mount(args) -> int:
    folder = args.dir
    if not os.path.isdir(folder):
        raise UsageError(f"mount: {folder}: not a local folder")

    async def work(session):
        from mptui.services.mount import Mount

        mount = Mount(session, folder, follow_links=args.unsafe_links,
                      on_note=lambda text: echo(f"mptui: {text}", err=True))
        await mount.start()
        echo(f"mptui: local folder {mount.folder} is mounted at /remote (the board's current "
             "folder)", err=True)

    return run_on_board(args, work)


def _mount_args(p) -> None:
    p.add_argument("-l", "--unsafe-links", action="store_true",
                   help="follow symbolic links that lead out of the folder (as mpremote's -l)")
    p.add_argument("dir", metavar="DIR", help="the local folder")


def _umount(args) -> int:
    async def work(session):
        from mptui.services.mount import unmount

        await unmount(session)

    return run_on_board(args, work)


COMMANDS = {
    "mount": Command("make a local folder the board's /remote, served from here (then a REPL, "
                     "or the commands after it: '+')", _mount, _mount_args),
    "umount": Command("unmount /remote (also one left behind by a tool that went away)",
                      _umount),
}
