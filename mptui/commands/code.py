"""Run code on a board: exec, eval, run, soft-reset, reset, rtc."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mptui.commands import broadcast
from mptui.commands.common import Command, UsageError, echo, run_on_board, write_out
from mptui.errors import MptuiError


def _exec(args) -> int:
    if (boards := broadcast.wanted(args)) is not None:
        _one_board_only(args)
        return broadcast.run(args, boards, args.code)

    async def work(session):
        if args.no_follow:
            await session.start(args.code)
            return
        await session.run(args.code, on_output=write_out)  # sys.exit(N) gives exit status N

    return run_on_board(args, work)


def _one_board_only(args) -> None:
    if args.no_follow:
        raise UsageError("--no-follow leaves a program running on one board: name one board")


def _eval(args) -> int:
    if (boards := broadcast.wanted(args)) is not None:
        return broadcast.run(args, boards, f"print({args.expr})")

    async def work(session):
        # mpremote prints str() of the value; so do we
        out = await session.exec(f"print({args.expr})")
        write_out(out)

    return run_on_board(args, work)


def _run(args) -> int:
    try:
        source = Path(args.file).read_text(encoding="utf-8")
    except OSError as e:
        raise MptuiError(f"cannot read {args.file}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise MptuiError(f"cannot read {args.file}: not UTF-8 text") from None
    if (boards := broadcast.wanted(args)) is not None:
        _one_board_only(args)
        return broadcast.run(args, boards, source)

    async def work(session):
        if args.no_follow:
            await session.start(source)
            return
        await session.run(source, on_output=write_out)

    return run_on_board(args, work)


def _soft_reset(args) -> int:
    async def work(session):
        write_out(await session.soft_reset())

    return run_on_board(args, work)


def _reset(args) -> int:
    async def work(session):
        await session.hard_reset()

    return run_on_board(args, work)


def _rtc(args) -> int:
    from mptui.services import rtc

    if (boards := broadcast.wanted(args)) is not None:
        return broadcast.run(args, boards, rtc.program(args.set))

    async def work(session):
        if args.set:
            await rtc.set_clock(session)
        shown = await rtc.read_clock(session)
        if not re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", shown):
            raise UsageError(f"unexpected RTC value {shown!r}")
        echo(shown)

    return run_on_board(args, work)


def _with_boards(*args: Any, **kwargs: Any) -> Callable[[argparse.ArgumentParser], None]:
    """The command's own argument, then the options that name several boards."""
    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(*args, **kwargs)
        broadcast.add_arguments(parser)
    return add


def _no_follow(name: str, help: str) -> Callable[[argparse.ArgumentParser], None]:
    """The command's argument, the options that name several boards, and --no-follow."""
    def add(parser: argparse.ArgumentParser) -> None:
        _with_boards(name, help=help)(parser)
        parser.add_argument(
            "--no-follow", action="store_true",
            help="send the code and return at once, leaving it running (its output is not "
                 "read; the next command stops it; one board)")
    return add


COMMANDS = {
    "exec": Command(
        "run Python code on the board, streaming its output",
        _exec,
        _no_follow("code", "the code to run"),
    ),
    "eval": Command(
        "evaluate an expression on the board and print the result",
        _eval,
        _with_boards("expr", help="the expression"),
    ),
    "run": Command(
        "run a local file on the board until it ends (Ctrl-C stops it)",
        _run,
        _no_follow("file", "a local .py file"),
    ),
    "soft-reset": Command("soft-reset the board (its RAM is cleared, boot.py runs)", _soft_reset),
    "reset": Command("hard-reset the board (machine.reset()) and wait for it", _reset),
    "rtc": Command(
        "show the board's clock; --set sets it from this computer's",
        _rtc,
        _with_boards("--set", action="store_true", help="set the clock first"),
    ),
}
