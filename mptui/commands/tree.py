"""`mptui tree [-s|-h] [PATH]` (also `fs tree`): a board folder as a tree, as mpremote draws
it, from one listing of the whole folder (one round trip with the helper)."""

from __future__ import annotations

from mptui.commands.common import Command, echo, run_on_board

_CONTROL = dict.fromkeys([*range(32), *range(127, 160)])


def human_size(size: int) -> str:
    """mpremote's: 512, 1.5K, 3.0M."""
    value = float(size)
    for unit in "BKMGT":
        if value < 1024 or unit == "T":
            break
        value /= 1024
    return str(size) if unit == "B" else f"{value:.1f}{unit}"


def shown(name: str) -> str:
    """A name from the board, its control characters as \\xNN (no escape reaches the
    terminal)."""
    if name.isprintable():
        return name
    return "".join(f"\\x{ord(c):02x}" if ord(c) in _CONTROL else c for c in name)


def draw(entries, size: bool = False, human: bool = False) -> list[str]:
    """The tree's lines (without the top line) from a recursive listing: `entries` with
    .names (one per level), .is_dir, .size."""
    children: dict[tuple, list] = {}
    for e in entries:
        children.setdefault(tuple(e.names[:-1]), []).append(e)
    lines: list[str] = []

    def walk(parent: tuple, prefix: str) -> None:
        kids = sorted(children.get(parent, ()), key=lambda e: e.names[-1])
        for i, e in enumerate(kids):
            last = i == len(kids) - 1
            label = ""
            if not e.is_dir or e.size > 0:  # folders have no size on most boards
                if size:
                    label = f"[{e.size:>9}]  "
                elif human:
                    label = f"[{human_size(e.size):>6}]  "
            lines.append(f"{prefix}{'└── ' if last else '├── '}{label}{shown(e.names[-1])}")
            if e.is_dir:
                walk(tuple(e.names), prefix + ("    " if last else "│   "))

    walk((), "")
    return lines


def _tree(args) -> int:
    async def work(session):
        from mptui.board import BoardOSError
        from mptui.errors import MptuiError

        path = args.path or await session.eval("__import__('os').getcwd()")
        try:
            entries = await session.fs.ls(path, recursive=True)
        except BoardOSError as e:
            if e.errno == 20:  # ENOTDIR
                raise MptuiError(f"tree: {path!r} is not a folder") from None
            raise
        echo(f":{shown(path)}")
        for line in draw(entries, args.size, args.human):
            echo(line)

    return run_on_board(args, work)


def _tree_args(p) -> None:
    p.conflict_handler = p._optionals.conflict_handler = "resolve"  # -h: --human (as mpremote)
    sizes = p.add_mutually_exclusive_group()
    sizes.add_argument("-s", "--size", action="store_true", help="show sizes in bytes")
    sizes.add_argument("-h", "--human", action="store_true", help="show sizes as 1.5K, 3.0M")
    p.add_argument("path", nargs="?", metavar="PATH",
                   help="a board folder (default: the board's current folder)")


COMMANDS = {"tree": Command("show a board folder as a tree (-s, -h: with sizes)", _tree,
                            _tree_args)}
