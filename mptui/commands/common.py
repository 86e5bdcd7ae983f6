"""What the board commands share: picking the board, opening a session, exit codes.

A command's errors reach `mptui.cli.failed`, the one place that shows them; only what needs
the open session is handled here (Ctrl-C and a reader that went away: the board's program is
stopped first)."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable

from mptui import log
from mptui.board import Session
from mptui.errors import BROKEN_PIPE, INTERRUPTED, OK, USAGE, MptuiError, UsageError
from mptui.errors import ERROR as BOARD_ERROR

__all__ = ["BOARD_ERROR", "BROKEN_PIPE", "INTERRUPTED", "OK", "USAGE", "UsageError"]

PROGRAMS = ("exec", "eval", "run")  # commands whose work is a program of the user's
logger = logging.getLogger(__name__)
_said: set[str] = set()


def die(message: str, code: int = BOARD_ERROR) -> int:
    print(f"mptui: {message}", file=sys.stderr)
    return code


def resolver_for(args=None):
    """The board resolver for this command line (its --password, the config), made once per
    command (kept on `args`)."""
    from mptui.config import load_config
    from mptui.services.boards import Resolver

    if getattr(args, "_resolver", None) is not None:
        return args._resolver
    config = load_config()
    if config.error:
        print(f"mptui: config ignored: {config.error}", file=sys.stderr)
    resolver = Resolver(config, password=getattr(args, "password", None))
    if args is not None:
        args._resolver = resolver
    return resolver


def board_for(resolver, device: str | None):
    """The BoardRef of -d ADDRESS, or of the default board (the first USB board, else the
    virtual one), which is news to say once: on stderr when it is a terminal (a person reads
    it), always in the log (so -v shows it)."""
    if device:
        return resolver.resolve(device)
    ref = resolver.default()
    logger.info("no -d: using %s", ref.key)
    if ref.key not in _said and sys.stderr.isatty() and not log.verbosity():
        print(f"mptui: using {ref.key} (-d chooses a board)", file=sys.stderr)
    _said.add(ref.key)
    return ref


def default_device() -> str:
    """The default board's address (see board_for)."""
    return board_for(resolver_for(), None).key


def session_for(device: str | None, password: str | None = None, *, resolver=None) -> Session:
    """A Session (not yet connected) for -d ADDRESS, a config name, or the default board;
    options and the WebREPL password by the resolver's order (services/boards.py)."""
    if resolver is None:
        from mptui.services.boards import Resolver

        resolver = resolver_for()
        if password is not None:
            resolver = Resolver(resolver.config, password=password)
    return resolver.session(board_for(resolver, device))


def run_on_board(args, work: Callable[[Session], Awaitable[int | None]]) -> int:
    """Connect to the board named by args.device, run `work`, and return its exit code (0
    when it returns None). Ctrl-C stops what the board was doing for us and says in what state
    the board is (130); a reader of our output that went away (`| head`) stops it too (141,
    quietly); other errors go up to the command line's one handler."""
    stopped = ["before the board was reached"]  # what a Ctrl-C stopped, in words

    async def main() -> int:
        session = session_for(getattr(args, "device", None), resolver=resolver_for(args))
        await session.connect()
        notice = getattr(session.transport, "notice", None)
        if notice:  # a kept virtual board that had stopped unexpectedly was started anew
            print(f"mptui: {notice}", file=sys.stderr)
        stopped[0] = "a second Ctrl-C came before the board said in what state it is"
        try:
            return await work(session) or OK
        except asyncio.CancelledError:  # Ctrl-C: asyncio.run cancels us, then raises it
            stopped[0] = await _stop_board(session, getattr(args, "command", None))
            raise
        except BrokenPipeError:  # our reader left: the board's program must not run on
            logger.info("the reader of the output went away: %s",
                        await _stop_board(session, getattr(args, "command", None)))
            raise
        finally:
            await session.close()

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return die(f"interrupted: {stopped[0]}", INTERRUPTED)


async def _stop_board(session: Session, command: str | None) -> str:
    """After Ctrl-C here: stop what the board runs for us and say what state it is in."""
    try:
        program = await session.stop_program()
    except MptuiError as e:
        return f"{command or 'the command'} was stopped, and the board did not get back to " \
               f"its REPL ({e}); a reset brings it back"
    if command in PROGRAMS:
        what = "the board's program was stopped" + (" (KeyboardInterrupt)" if program else "")
    else:
        what = f"{command} was stopped" + (
            "; files are written whole or not at all" if command in ("cp", "sync") else "")
    return f"{what}; the board is at its REPL"


class Command:
    """One command of a module that serves several."""

    def __init__(self, help: str, run, add_arguments=None, doc: str | None = None) -> None:
        self.HELP = help
        self.__doc__ = doc or help[:1].upper() + help[1:] + "."
        self.run = run
        self.add_arguments = add_arguments or (lambda parser: None)


def write_out(data: bytes) -> None:
    """Board output to our stdout as it comes, bytes as they are."""
    out = sys.stdout.buffer
    out.write(data)
    out.flush()


def is_board_path(arg: str) -> bool:
    return arg.startswith(":")
