"""mptui diff LOCAL :BOARD: what differs between a local file and the board's, as a unified
diff (what copying LOCAL to the board would change); binary files are only said to differ.
Exit status as diff(1)'s: 0 the same, 1 they differ."""

from __future__ import annotations

import sys

from mptui.commands.common import UsageError, is_board_path, run_on_board

HELP = "show how a local file differs from the board's (unified diff)"
DIFFER = 1  # as diff(1)


def add_arguments(parser) -> None:
    parser.add_argument("local", help="a local file")
    parser.add_argument("board", help="the board's file (:PATH)")
    parser.add_argument("-U", "--unified", type=int, default=3, metavar="N",
                        help="lines of context (3)")


def run(args) -> int:
    from mptui.services.boardfs import BoardFSAdapter
    from mptui.services.localfs import LocalFS
    from mptui.services.rdiff import file_diff

    if is_board_path(args.local) or not is_board_path(args.board):
        raise UsageError("diff LOCAL :BOARD: the second file is the board's (a ':' path)")
    path = args.board[1:] or "/"
    path = path if path.startswith("/") else "/" + path

    async def work(session):
        diff = await file_diff(LocalFS(), args.local, BoardFSAdapter(session), path,
                               local_name=args.local, board_name=args.board,
                               context=max(0, args.unified))
        if diff.same:
            return 0
        if diff.binary:
            print(f"Binary files {args.local} and {args.board} differ")
        else:
            sys.stdout.write(diff.text)
        return DIFFER

    return run_on_board(args, work)
