"""Several commands in one connection, as with mpremote: `mptui exec "a=6" + eval "a*7" + ls`.

The words after the global options are split at each `+`; each part is one command (or a
macro from the config's [commands], expanded first: mptui/macros.py). Every command is parsed
and checked before the board is touched (a bad one: exit status 2, nothing run), then they run
one after another on one session: the raw REPL is entered once, the board keeps its variables
from one command to the next, and the chain stops at the first command that fails, with its
exit status. `connect ADDRESS` in a chain moves the commands after it to another board. A
chain of only connect, mount and resume ends in a REPL (mpremote's habit: `mptui mount .`).
mpremote's spellings are ours too (`fs ls`, `a0`: mpremote_words).
"""

from __future__ import annotations

import argparse

from mptui.cmdline import NOT_ACTIONS, SEPARATOR, split, split_globals
from mptui.commands import broadcast
from mptui.commands.common import (
    Command,
    Step,
    UsageError,
    capture_output,
    failed,
    plan,
    release_output,
    run_on_link,
    run_steps,
)

# Commands that work on one board's session, so can share it with others in a chain.
CHAINABLE = frozenset({
    "exec", "eval", "run", "soft-reset", "reset", "rtc", "ls", "cat", "cp", "rm", "mkdir",
    "rmdir", "touch", "sha256sum", "df", "repl", "sync", "mount", "umount", "connect",
    "resume", "disconnect", "sleep", "bootloader", "tree",
})



def wants_chain(rest: list[str], builtin) -> bool:
    """Whether the command words need the chain runner: a '+', a macro or a chainable command
    (for one plain command the runner does what run_on_board does)."""
    return SEPARATOR in rest or rest[0] not in builtin or rest[0] in CHAINABLE


def run_chain(parser: argparse.ArgumentParser, global_words: list[str], rest: list[str],
              macros: dict) -> int:
    """Parse, plan and run the commands of a command line (see the module's doc)."""
    segments = commands_of(rest, macros)
    if not segments:
        raise UsageError("nothing to run between the '+'")
    if len(segments) == 1 and segments[0][0] not in CHAINABLE:
        args = parser.parse_args(global_words + segments[0])  # a plain command from a macro
        return args._run(args) or 0
    parsed = parse_segments(parser, global_words, segments)
    if len(parsed) == 1 and broadcast.wanted(parsed[0]) is not None:  # several boards, no chain
        return parsed[0]._run(parsed[0]) or 0
    if all(args.command in NOT_ACTIONS for args in parsed):
        parsed.append(_with_globals(parser.parse_args(["repl"]), parsed[0]))
    steps = [plan(args) for args in parsed]
    return run_steps(steps)


def commands_of(words: list[str], macros: dict) -> list[list[str]]:
    """The commands of a command line: split at '+', macros expanded, mpremote's words ours."""
    segments = split(words)
    if macros:
        from mptui.macros import expand

        segments = expand(segments, macros)
    return mpremote_words(segments)


def mpremote_words(segments: list[list[str]]) -> list[list[str]]:
    """mpremote's ways of writing commands, as ours: `fs ls` is `ls` (any fs command), and a
    shortcut `a0`..`a3`, `u0`..`u3`, `c0`..`c3` is `connect` to that port, with what follows
    it the next command (`mptui a0 ls` is `connect /dev/ttyACM0 + ls`)."""
    from mptui.services.boards import SHORTCUTS

    out = []
    for seg in segments:
        if seg[0] == "fs" and len(seg) > 1:
            seg = seg[1:]
        if seg[0].lower() in SHORTCUTS:
            out.append(["connect", seg[0]])
            seg = seg[1:]
            if not seg:
                continue
        out.append(seg)
    return out


def parse_segments(parser, global_words: list[str], segments: list[list[str]]) -> list:
    """Each command parsed (argparse's own errors: exit status 2), the global options of the
    first given to all, and each one checked to be chainable."""
    parsed: list[argparse.Namespace] = []
    for n, seg in enumerate(segments):
        args = parser.parse_args((global_words if n == 0 else []) + seg)
        if args.command is None:
            raise UsageError(f"not a command: {' '.join(seg)!r}")
        if len(segments) > 1 and args.command not in CHAINABLE:
            raise UsageError(f"{args.command} cannot be part of a chain ('+'); chainable: "
                             + ", ".join(sorted(CHAINABLE)))
        parsed.append(args if n == 0 else _with_globals(args, parsed[0]))
    return parsed


def _with_globals(args, first):
    """args with the first command's global options (the board, the password, logging) and
    its resolver (the config read once)."""
    for name in ("device", "password", "log_verbose", "log_file"):
        setattr(args, name, getattr(first, name, None))
    if getattr(first, "_resolver", None) is not None:
        args._resolver = first._resolver
    return args


# -- checking the config's macros ---------------------------------------------------------------


def check_macros(parser, macros: dict, builtin) -> list[tuple[str, str]]:
    """(macro name, problem) for each macro that cannot run as written: a built-in command's
    name, a use of itself, a command that does not parse, or a chain with a command that
    cannot be chained. Parameters are tried with their defaults, else "0"."""
    from mptui.macros import MacroError

    problems = []
    for name, macro in sorted(macros.items()):
        if name in builtin:
            problems.append((name, f"{name!r} is a built-in command (the built-in one runs)"))
            continue
        words = [name] + [f"{p}={macro.defaults.get(p, '0')}" for p in macro.params]
        try:
            segments = commands_of(words, {n: m for n, m in macros.items() if n not in builtin})
        except MacroError as e:
            problems.append((name, str(e)))
            continue
        try:
            _parse_quietly(parser, segments)
        except UsageError as e:
            problems.append((name, e.message))
    return problems


# -- macros in the app -------------------------------------------------------------------------

# the app has its REPL and its boards' links
IN_THE_APP = CHAINABLE - {"repl", "connect", "mount", "umount", "disconnect", "bootloader"}


def app_runner(make_parser, builtin):
    """For the app's palette: `run(words, macros, session, sink) -> exit status`, running a
    macro's commands on the app's session of the selected board, their output to `sink`.
    Errors are one line to `sink`; a command the app does itself (repl, connect, mount) is
    refused before anything runs."""

    async def run(words: list[str], macros: dict, session, sink) -> int:
        import contextlib
        import io

        token = capture_output(sink)
        step = None
        try:
            usable = {n: m for n, m in macros.items() if n not in builtin}
            segments = commands_of(words, usable)
            parsed = _parse_quietly(make_parser(), segments)
            for args in parsed:
                if args.command not in IN_THE_APP:
                    raise UsageError(f"{args.command} is not run from the palette (in the app: "
                                     "the REPL tab, the board list)")
            said = io.StringIO()  # what a command says while it reads its arguments
            try:
                with contextlib.redirect_stderr(said):
                    steps = [plan(args) for args in parsed]
            finally:
                sink(said.getvalue().encode("utf-8", "replace"))
            for step in steps:
                if step.on_link is not None:  # sleep, resume
                    code = await step.on_link(_AppLink(session)) or 0
                else:
                    assert step.work is not None  # a step has one or the other
                    code = await step.work(session) or 0
                if code:
                    return code
            return 0
        except Exception as e:  # noqa: BLE001 - shown in the output, as the CLI shows it
            return _said_to(sink, failed, e, step.command if step else None)
        finally:
            release_output(token)

    return run


class _AppLink:
    """The app's link to the board, as a chain's command sees it (it stays open)."""

    def __init__(self, session) -> None:
        self.session = session

    async def open(self):
        return self.session


def _parse_quietly(parser, segments):
    """parse_segments, argparse's message as a UsageError (it would print and exit)."""
    import contextlib
    import io

    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            return parse_segments(parser, [], segments)
    except SystemExit:
        lines = [x for x in said.getvalue().splitlines() if "error:" in x]
        why = lines[-1].split("error:", 1)[1].strip() if lines else "does not parse"
        raise UsageError(why.split(" (try ")[0]) from None


def _said_to(sink, failed, error, command) -> int:
    """The CLI's one handler (failed), what it prints to stderr going to `sink`."""
    import contextlib
    import io

    said = io.StringIO()
    with contextlib.redirect_stderr(said):
        code = failed(error, command)
    sink(said.getvalue().encode("utf-8", "replace"))
    return code


# -- connect ----------------------------------------------------------------------------------


def _connect(args) -> int:
    async def on_link(link) -> None:
        await link.switch(args.address)  # a board that cannot be reached stops the chain here

    return run_on_link(args, on_link)


def _connect_args(p) -> None:
    p.add_argument("address", metavar="ADDRESS",
                   help="the board for the commands after it (as -d takes it)")


COMMANDS = {
    "connect": Command("in a chain: run the commands after it on another board (as -d)",
                       _connect, _connect_args),
}

__all__ = ["COMMANDS", "Step", "run_chain", "split_globals", "wants_chain"]
