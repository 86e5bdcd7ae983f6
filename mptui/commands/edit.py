"""Edit board files in your editor ($VISUAL, else $EDITOR, else vi), as mpremote's edit does:
each file is downloaded to a temporary file, the editor runs on it, and it is written back
(atomically) only if it changed; a file that is not on the board is created when it is saved
with something in it. The editor's command line is split as a shell would (`code --wait`)."""

from __future__ import annotations

import sys

from mptui.commands.common import BOARD_ERROR, OK, run_on_board

HELP = "edit board files in $VISUAL/$EDITOR (written back only if changed)"


def add_arguments(parser) -> None:
    parser.add_argument("paths", nargs="+", metavar=":PATH",
                        help="board files (a leading ':' is optional)")


def run(args) -> int:
    from mptui.services.editing import editor_command

    editor_command()  # a variable that is not a command line: a usage error, before connecting

    async def work(session):
        from mptui.board.fs import board_path
        from mptui.services.boardfs import BoardFSAdapter
        from mptui.services.editing import edit_on_host, run_in_terminal

        board, status = BoardFSAdapter(session), OK
        for arg in args.paths:
            path = board_path(arg)
            edited = await edit_on_host(board, path, run_in_terminal)
            print(f"mptui: edit: {edited.describe(path)}", file=sys.stderr)
            if edited.status != 0:
                status = BOARD_ERROR
        return status

    return run_on_board(args, work)
