"""What the board commands share: picking the board, opening a session, exit codes."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

from mptui.board import BoardError, BoardExecError, Session
from mptui.transports import AddressError, TransportError

OK, BOARD_ERROR, USAGE = 0, 1, 2
INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C
PROGRAMS = ("exec", "eval", "run")  # commands whose work is a program of the user's


class UsageError(Exception):
    """Bad input from the user: exit status 2."""


def die(message: str, code: int = BOARD_ERROR) -> int:
    print(f"mptui: {message}", file=sys.stderr)
    return code


def default_device() -> str:
    """The first USB board, else the virtual board; says which on stderr."""
    from mptui.services.discovery import usb_boards

    boards = usb_boards()
    address = boards[0].device if boards else "virtual"
    print(f"mptui: using {address}", file=sys.stderr)
    return address


def session_for(device: str | None, password: str | None = None) -> Session:
    """A Session (not yet connected) for -d ADDRESS, a config name, or the default board.
    A WebREPL password comes from `password` (--password), else the board's config entry,
    else $MPTUI_WEBREPL_PASSWORD (read by the transport)."""
    from mptui.config import SecretError, load_config, resolve_secret
    from mptui.transports import parse_address

    cfg = load_config()
    if cfg.error:
        print(f"mptui: config ignored: {cfg.error}", file=sys.stderr)
    address = device or default_device()
    options: dict = {}
    entry = cfg.boards.get(address) or next(
        (b for b in cfg.boards.values() if b.address == address), None
    )
    if entry is not None:
        options = dict(entry.options)
        if password is None:
            try:
                password = resolve_secret(entry.password)
            except SecretError as e:
                raise UsageError(f"config: board {entry.name!r}: {e}") from None
    if password is not None:
        options["password"] = password
    parsed = parse_address(address, cfg.board_names())
    return Session(parsed, reconnect=False, **options)


def run_on_board(args, work: Callable[[Session], Awaitable[int | None]]) -> int:
    """Connect to the board named by args.device, run `work`, and map errors to exit codes:
    0 ok, 1 board error (one line, plus the board's traceback), 2 usage, 130 Ctrl-C (what was
    stopped and the board's state, in one line)."""
    stopped = ["before the board was reached"]  # what a Ctrl-C stopped, in words

    async def main() -> int:
        session = session_for(getattr(args, "device", None), getattr(args, "password", None))
        await session.connect()
        stopped[0] = "a second Ctrl-C came before the board said in what state it is"
        try:
            return await work(session) or OK
        except asyncio.CancelledError:  # Ctrl-C: asyncio.run cancels us, then raises it
            stopped[0] = await _stop_board(session, getattr(args, "command", None))
            raise
        finally:
            await session.close()

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return die(f"interrupted: {stopped[0]}", INTERRUPTED)
    except UsageError as e:
        return die(str(e), USAGE)
    except AddressError as e:
        return die(str(e), USAGE)
    except BoardExecError as e:
        if e.path is not None:  # a filesystem operation: the one line says it all
            return die(str(e))
        print(e.traceback, file=sys.stderr)
        return BOARD_ERROR
    except (BoardError, TransportError) as e:
        return die(str(e))
    except OSError as e:  # from a filesystem side: a local file, or a board error mapped
        where = f"{e.filename}: " if e.filename else ""
        return die(f"{where}{e.strerror or e}")


async def _stop_board(session: Session, command: str | None) -> str:
    """After Ctrl-C here: stop what the board runs for us and say what state it is in."""
    try:
        program = await session.stop_program()
    except (BoardError, TransportError) as e:
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
