"""What the board commands share: picking the board, opening a session, exit codes.

A command's errors reach `failed` (below), the one place that shows them; only what needs
the open session is handled here (Ctrl-C and a reader that went away: the board's program is
stopped first)."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

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


class Step:
    """One command of a chain: its parsed args and its work on the board, or (`on_link`) on
    the chain's link itself: connect, disconnect, sleep, bootloader."""

    def __init__(self, args, work: Callable[[Session], Awaitable[int | None]] | None,
                 on_link: Callable[[Any], Awaitable[int | None]] | None = None) -> None:
        self.args = args
        self.work = work
        self.on_link = on_link

    @property
    def command(self) -> str:
        return getattr(self.args, "command", None) or "the command"


_planned: ContextVar[list[Step] | None] = ContextVar("mptui_planned", default=None)


def planning() -> bool:
    """Whether a chain is being planned (its commands kept, not run yet)."""
    return _planned.get() is not None


def run_on_link(args, on_link: Callable[[BoardLink], Awaitable[int | None]]) -> int:
    """run_on_board for a command that works on the chain's link (see Step)."""
    step = Step(args, None, on_link)
    planned = _planned.get()
    if planned is not None:
        planned.append(step)
        return OK
    return run_steps([step])


def run_on_board(args, work: Callable[[Session], Awaitable[int | None]]) -> int:
    """Connect to the board named by args.device, run `work`, and return its exit code (0
    when it returns None). Ctrl-C stops what the board was doing for us and says in what state
    the board is (130); a reader of our output that went away (`| head`) stops it too (141,
    quietly); other errors go up to the command line's one handler. While a chain is being
    planned (`plan`), the work is kept for the chain instead (see run_steps)."""
    planned = _planned.get()
    if planned is not None:
        planned.append(Step(args, work))
        return OK
    return run_steps([Step(args, work)])


def plan(args) -> Step:
    """The Step of a parsed command line (its checks and local reading done, the board not
    yet touched). UsageError for a command that does not work on one board's session."""
    steps: list[Step] = []
    token = _planned.set(steps)
    try:
        code = args._run(args)
    finally:
        _planned.reset(token)
    if not steps:
        if code:  # it refused its arguments (and said why)
            raise _Refused(code)
        raise UsageError(f"{args.command} cannot be part of a chain ('+')")
    return steps[0]


class _Refused(MptuiError):
    """A command refused its arguments while planned; it said why already."""

    def __init__(self, code: int) -> None:
        super().__init__("")
        self.exit_code = code

    @property
    def report(self) -> str:
        return ""


class BoardLink:
    """The one session of a chain: opened by the first step that needs the board, kept for
    the steps after it, changed by `connect`, closed (a mount undone) at the end."""

    def __init__(self, args) -> None:
        self.resolver = resolver_for(args)
        self.device = getattr(args, "device", None)
        self.session: Session | None = None

    async def open(self) -> Session:
        if self.session is None:
            from mptui.services import rtc

            ref = board_for(self.resolver, self.device)
            session = self.resolver.session(ref)
            await session.connect()
            self.session = session
            notice = getattr(session.transport, "notice", None)
            if notice:  # a kept virtual board that had stopped unexpectedly was started anew
                print(f"mptui: {notice}", file=sys.stderr)
            await rtc.on_connect(ref, session)  # its config may ask for its clock set
        return self.session

    async def switch(self, device: str) -> None:
        await self.close()
        self.device = device
        await self.open()  # a board that cannot be reached stops the chain here

    async def close(self) -> None:
        session, self.session = self.session, None
        if session is None:
            return
        try:
            if "mptui.services.mount" in sys.modules:  # (no mount without it: not imported)
                from mptui.services.mount import unmount

                await unmount(session, quiet=True)
        finally:
            await session.close()

    async def drop(self) -> None:
        """Close the link and nothing else (the board went away: its bootloader)."""
        session, self.session = self.session, None
        if session is not None:
            await session.close(leave_raw=False)


def run_steps(steps: list[Step]) -> int:
    """Run the steps one after another in one connection (one session, the raw REPL entered
    once) and return the first failing step's exit code, or 0. Errors are shown by the
    command line's one handler, naming the step that failed."""
    stopped = ["before the board was reached"]  # what a Ctrl-C stopped, in words
    current = [steps[0]]

    async def main() -> int:
        link = BoardLink(steps[0].args)
        try:
            for step in steps:
                current[0] = step
                if step.on_link is not None:
                    code = await step.on_link(link) or OK
                    if code:
                        return code
                    continue
                assert step.work is not None  # a step has one or the other
                session = await link.open()
                stopped[0] = "a second Ctrl-C came before the board said in what state it is"
                try:
                    code = await step.work(session) or OK
                except asyncio.CancelledError:  # Ctrl-C: asyncio.run cancels us, then raises it
                    stopped[0] = await _stop_board(session, step.command)
                    raise
                except BrokenPipeError:  # our reader left: the board's program must not run on
                    logger.info("the reader of the output went away: %s",
                                await _stop_board(session, step.command))
                    raise
                if code:
                    return code
            return OK
        finally:
            await link.close()

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return die(f"interrupted: {stopped[0]}", INTERRUPTED)
    except Exception as e:  # shown by the one handler, naming the step that failed
        if len(steps) == 1:
            raise
        return failed(e, current[0].args.command)


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
            "; files are written whole or not at all" if command in ("cp", "sync", "mip", "edit") else "")
    return f"{what}; the board is at its REPL"


class Command:
    """One command of a module that serves several."""

    def __init__(self, help: str, run, add_arguments=None, doc: str | None = None) -> None:
        self.HELP = help
        self.__doc__ = doc or help[:1].upper() + help[1:] + "."
        self.run = run
        self.add_arguments = add_arguments or (lambda parser: None)


_output: ContextVar[Callable[[bytes], None] | None] = ContextVar("mptui_output", default=None)


def write_out(data: bytes) -> None:
    """Board output to our stdout as it comes, bytes as they are (or to the sink the app
    gave: `capture_output`)."""
    sink = _output.get()
    if sink is not None:
        sink(data)
        return
    out = sys.stdout.buffer
    out.write(data)
    out.flush()


def echo(text: str = "", err: bool = False) -> None:
    """One line of a command's own output: stdout (stderr for `err`), or the app's sink."""
    sink = _output.get()
    if sink is not None:
        sink((text + "\n").encode("utf-8", "replace"))
        return
    print(text, file=sys.stderr if err else sys.stdout)


def capture_output(sink: Callable[[bytes], None] | None):
    """Send what commands print (write_out, echo) to `sink` from here on in this context;
    returns the token to undo it (`_output.reset(token)`)."""
    return _output.set(sink)


def release_output(token) -> None:
    """Undo a capture_output."""
    _output.reset(token)


def print_facts(rows: list[tuple[str, str]], as_json: dict[str, Any] | None = None) -> None:
    """What a command found out (info, speedtest): `as_json` as one JSON object where given
    (--json), else the rows, their labels aligned."""
    if as_json is not None:
        import json

        print(json.dumps(as_json, indent=1))
        return
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


def upload_policy_args(p) -> None:
    """The options that let more leave this computer (cp, sync): see upload_policy."""
    p.add_argument("--allow-secrets", action="store_true",
                   help="send files that hold a private key (never mptui's OTA secrets file)")
    p.add_argument("--follow-symlinks", action="store_true",
                   help="send the content of links to files outside the folder")


def upload_policy(args):
    """What may be sent, as upload_policy_args' options say (services/ignore.py)."""
    from mptui.services.ignore import UploadPolicy

    return UploadPolicy(allow_secrets=args.allow_secrets, follow_symlinks=args.follow_symlinks)


def is_board_path(arg: str) -> bool:
    return arg.startswith(":")


def failed(error: Exception, command: str | None = None) -> int:
    """Show a command's failure on stderr and return its exit code: the one line of an
    MptuiError, a local file's error, quiet for a reader that went away (as `cat` is), and for
    anything else one line naming the log file, which has the traceback."""
    if isinstance(error, BrokenPipeError):
        _quiet_stdout()
        return BROKEN_PIPE
    if isinstance(error, MptuiError):
        logger.info("%s: %s", command, error.message, extra=log.SHOWN)
        if error.report:
            print(error.report, file=sys.stderr)
        return error.exit_code
    if isinstance(error, OSError):  # a local file, or a board error mapped to one
        where = f"{error.filename}: " if error.filename else ""
        logger.info("%s: %s", command, error, extra=log.SHOWN)
        print(f"mptui: {where}{error.strerror or error}", file=sys.stderr)
        return BOARD_ERROR
    print(f"mptui: {log.unexpected(logger, error, command or '')}", file=sys.stderr)
    return BOARD_ERROR


def _quiet_stdout() -> None:
    """Our reader is gone: what is still buffered for stdout goes nowhere, quietly (else
    Python complains about it at exit)."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
