"""Plain Python values between this computer and a board, or from board to board.

  mptui store put NAME VALUE       NAME = VALUE in the board's RAM (a global, as if typed at
                                   its REPL); VALUE is a Python literal: 42, 'text', b'\\x00',
                                   [1, 2], {'k': (1.5, None)}; @FILE reads it from a local
                                   file; --text takes VALUE as a string as it is
  mptui store get NAME             print the board's NAME (its repr: `put NAME @FILE` takes it
                                   back)
  mptui store ls                   the board's globals that hold plain values, with their types
  mptui store cp NAME -d A -d B    NAME from board A into board B (and C, ...)

  --file :PATH keeps the value in a board file (its repr as text) instead of RAM.

Values are parsed as literals only, on both sides: nothing given or answered is ever run.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from mptui.commands.common import UsageError, resolver_for, run_on_board

HELP = "put, get and list plain Python values on a board, or copy one board to board"


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="store_command", metavar="ACTION", required=True,
                                parser_class=type(parser))

    def where(p):
        p.add_argument("--file", metavar=":PATH",
                       help="a board file instead of the board's RAM")

    p = sub.add_parser("put", help="a value into the board's RAM (or --file)")
    p.add_argument("name")
    p.add_argument("value", help="a Python literal, or @FILE")
    p.add_argument("--text", action="store_true", help="VALUE is a string as written")
    where(p)
    p = sub.add_parser("get", help="print a value of the board's")
    p.add_argument("name")
    where(p)
    sub.add_parser("ls", help="the board's globals that hold plain values")
    p = sub.add_parser("cp", help="a value from the first -d board into the others")
    p.add_argument("name")
    p.add_argument("-d", "--device", dest="boards", action="append", metavar="ADDRESS",
                   help="the board to copy from, then those to copy to")
    where(p)


def _board_path(text: str | None) -> str | None:
    if text is None:
        return None
    if not text.startswith(":") or len(text) < 2:
        raise UsageError(f"--file {text}: a board path starts with ':' (--file :cal.txt)")
    path = text[1:]
    return path if path.startswith("/") else "/" + path


def run(args) -> int:
    from mptui.services import store

    path = _board_path(getattr(args, "file", None))
    action = args.store_command
    if action == "put":
        store.check_name(args.name)
        value = args.value if args.text else store.parse_value(_read_value(args.value))

        async def work(session):
            await store.put(session, args.name, value, path)
    elif action == "get":
        store.check_name(args.name)

        async def work(session):
            print(repr(await store.get(session, args.name, path)))
    elif action == "ls":
        async def work(session):
            for name, kind in await store.names(session):
                print(f"{name}\t{kind}")
    else:
        return _copy(args, store, path)
    return run_on_board(args, work)


def _read_value(text: str) -> str:
    if not text.startswith("@"):
        return text
    try:
        return Path(text[1:]).read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot read {text[1:]}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise UsageError(f"cannot read {text[1:]}: not UTF-8 text") from None


def _copy(args, store, path: str | None) -> int:
    """Board to board: read from the first -d board, write into each of the others."""
    boards = [*(getattr(args, "devices", None) or []), *(args.boards or [])]
    if len(boards) < 2:
        raise UsageError("store cp: name the board to copy from and one to copy to "
                         "(-d A -d B)")
    store.check_name(args.name)
    resolver = resolver_for(args)
    refs = [resolver.resolve(name) for name in boards]

    async def main():
        source = resolver.session(refs[0])
        async with source:
            value = await store.get(source, args.name, path)
        for ref in refs[1:]:
            async with resolver.session(ref) as target:
                await store.put(target, args.name, value, path)
            print(f"{args.name}: {refs[0].label} -> {ref.label}")

    asyncio.run(main())
    return 0
