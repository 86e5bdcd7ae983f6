"""Run code on a board: exec, eval, run, soft-reset, reset, rtc."""

from __future__ import annotations

import time
from pathlib import Path

from mptui.commands.common import Command, UsageError, echo, run_on_board, write_out
from mptui.errors import MptuiError


def _exec(args) -> int:
    async def work(session):
        if args.no_follow:
            await session.start(args.code)
            return
        await session.run(args.code, on_output=write_out)  # sys.exit(N) gives exit status N

    return run_on_board(args, work)


def _eval(args) -> int:
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
    async def work(session):
        if args.set:
            t = time.localtime()
            dt = (t.tm_year, t.tm_mon, t.tm_mday, t.tm_wday, t.tm_hour, t.tm_min, t.tm_sec, 0)
            await session.exec(f"import machine\nmachine.RTC().datetime({dt!r})")
        value = await session.eval("__import__('machine').RTC().datetime()")
        if not isinstance(value, tuple) or len(value) < 7:
            raise UsageError(f"unexpected RTC value {value!r}")
        y, mo, d, _wd, h, mi, s = value[:7]
        echo(f"{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")

    return run_on_board(args, work)


def _no_follow(p, name: str, help: str) -> None:
    p.add_argument(name, help=help)
    p.add_argument(
        "--no-follow", action="store_true",
        help="send the code and return at once, leaving it running (its output is not read; "
             "the next command stops it)")


COMMANDS = {
    "exec": Command(
        "run Python code on the board, streaming its output",
        _exec,
        lambda p: _no_follow(p, "code", "the code to run"),
    ),
    "eval": Command(
        "evaluate an expression on the board and print the result",
        _eval,
        lambda p: p.add_argument("expr", help="the expression"),
    ),
    "run": Command(
        "run a local file on the board until it ends (Ctrl-C stops it)",
        _run,
        lambda p: _no_follow(p, "file", "a local .py file"),
    ),
    "soft-reset": Command("soft-reset the board (its RAM is cleared, boot.py runs)", _soft_reset),
    "reset": Command("hard-reset the board (machine.reset()) and wait for it", _reset),
    "rtc": Command(
        "show the board's clock; --set sets it from this computer's",
        _rtc,
        lambda p: p.add_argument("--set", action="store_true", help="set the clock first"),
    ),
}
