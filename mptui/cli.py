"""The `mptui` command line: no command opens the TUI; commands script a board."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable
from types import ModuleType

from mptui.errors import INTERRUPTED, OK

# command name -> module under mptui.commands. A module serves one command (HELP,
# add_arguments, run) or several (a COMMANDS dict of name -> Command).
COMMANDS = {
    "devices": "devices",
    "exec": "code",
    "eval": "code",
    "run": "code",
    "soft-reset": "code",
    "reset": "code",
    "rtc": "code",
    "info": "info",
    "speedtest": "speedtest",
    "store": "store",
    "diff": "diff",
    "ls": "files",
    "cat": "files",
    "cp": "files",
    "rm": "files",
    "mkdir": "files",
    "rmdir": "files",
    "touch": "files",
    "sha256sum": "files",
    "df": "files",
    "edit": "edit",
    "mip": "mip",
    "tree": "tree",
    "repl": "repl",
    "bridge": "bridge",
    "ota": "ota",
    "sync": "sync",
    "config": "config",
    "logs": "logs",
    "call": "call",
    "serve": "serve",
    "mount": "mount",
    "umount": "mount",
    "connect": "chain",
    "resume": "control",
    "disconnect": "control",
    "sleep": "control",
    "bootloader": "control",
    "virtual": "virtual",
}
# Commands that only talk to a board over its link, run from the command line: asyncio is
# imported for them without ssl (see _asyncio_without_ssl).
BOARD_ONLY = frozenset({
    "exec", "eval", "run", "soft-reset", "reset", "rtc", "info", "speedtest", "ls", "cat", "cp",
    "rm", "mkdir", "rmdir", "touch", "sha256sum", "df", "tree",
})


class HelpFormatter(argparse.HelpFormatter):
    """Descriptions as written: a paragraph of prose is filled to the terminal's width, one
    with indented lines (a list of usages) keeps its lines."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        if width is None:  # as argparse does, without importing shutil (and bz2, lzma) for it
            width = _columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        out = []
        for paragraph in textwrap.dedent(text).strip().split("\n\n"):
            lines = paragraph.splitlines()
            if any(line.startswith(" ") for line in lines):
                out.append("\n".join(indent + line for line in lines))
            else:
                out.append(super()._fill_text(paragraph, width, indent))
        return "\n\n".join(out)


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size() gives it ($COLUMNS first, 80 when
    stdout is no terminal)."""
    import os

    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2) that point at the help of the command
    they are about (`mptui ls --help`), and descriptions that keep their lines."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (try '{self.prog} --help')\n")

    def parse_args(self, args=None, namespace=None):
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:  # said by the command they were given to, not by `mptui`
            self._innermost(parsed).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed

    def _innermost(self, parsed) -> Parser:
        """The (sub)command's parser that `parsed` went through last."""
        parser = self
        while True:
            sub = next((a for a in parser._actions
                        if isinstance(a, argparse._SubParsersAction)), None)
            chosen = getattr(parsed, sub.dest, None) if sub is not None else None
            if sub is None or chosen not in sub.choices:
                return parser
            parser = sub.choices[chosen]


class DeviceOption(argparse.Action):
    """-d: the last one is the board (`args.device`); all of them, in order, are
    `args.devices` (exec, eval and run run on each)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        namespace.device = values
        namespace.devices = [*(getattr(namespace, "devices", None) or []), values]


def build_parser(commands: Iterable[str] | None = None) -> Parser:
    """The parser, with the subcommands `commands` names (default: all); only their modules
    are imported."""
    parser = Parser(
        prog="mptui",
        description="A fast, keyboard-driven terminal UI for MicroPython boards. "
        "With no command it opens the full-screen app.",
        epilog="Commands joined by '+' run one after another in one connection, as with "
        "mpremote: mptui exec \"a=6\" + eval \"a*7\". The config's [commands] adds your own "
        "(listed above when there are some).",
    )
    parser.add_argument("--version", action="version", version=f"mptui {_version()}")
    parser.add_argument(
        "-d",
        "--device",
        metavar="ADDRESS",
        action=DeviceOption,
        help="the board: /dev/ttyACM0, socket://HOST:PORT, rfc2217://HOST:PORT, ws://HOST, "
        "ble:NAME, virtual[:NAME] or a name from the config (exec, eval, run: give it "
        "several times for several boards)",
    )
    parser.add_argument(
        "--password",
        metavar="PASSWORD",
        help="WebREPL password for a ws:// board (other users can see command lines: prefer "
        "$MPTUI_WEBREPL_PASSWORD or password = \"env:VAR\" in the board's config entry)",
    )
    # dest names of their own: commands have a -v of their own (bridge, sync)
    parser.add_argument(
        "-v", "--verbose", dest="log_verbose", action="count", default=0,
        help="say more on stderr (what is logged; -vv: and the details)",
    )
    parser.add_argument(
        "--log-file", dest="log_file", metavar="PATH",
        help="where to log (default: mptui.log in your state folder, "
        "~/.local/state/mptui/log on Linux)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, module in COMMANDS.items():
        if commands is not None and name not in commands:
            continue
        mod = importlib.import_module(f"mptui.commands.{module}")
        cmd = mod.COMMANDS[name] if hasattr(mod, "COMMANDS") else mod
        p = sub.add_parser(name, help=cmd.HELP, description=cmd.__doc__)
        cmd.add_arguments(p)
        p.set_defaults(_run=cmd.run)
    # what a command that reads command lines itself (config check) parses them with
    parser.set_defaults(_make_parser=build_parser, _builtin=COMMANDS)
    return parser


def named_commands(argv: list[str],
                   split: tuple[list[str], list[str]] | None) -> set[str] | None:
    """The commands a command line runs, so that `mptui exec ...` imports the modules of
    `exec` and not those of every command (nor a TUI launch any): None (all) for help, a
    macro, mpremote's words or a word that is no command (an error that lists them).
    A command word after a `+` counts as a head, not one in an argument.
    `split`: cmdline.split_globals(argv)."""
    from mptui.cmdline import NOT_ACTIONS
    from mptui.cmdline import split as segments_of

    if "-h" in argv or "--help" in argv:
        return None
    if split is None:  # no command (the app, --version), or an option argparse refuses
        return set()
    heads = {seg[0] for seg in segments_of(split[1]) if seg}
    if not heads <= set(COMMANDS):
        return None
    return heads | {"repl"} if heads <= NOT_ACTIONS else heads  # (such a chain ends in a REPL)


def main(argv: list[str] | None = None) -> int:
    """The `mptui` program: `argv` are its words (default: the command line's, and the
    process ends when this returns)."""
    import gc

    if argv is None and gc.isenabled():
        # Start-up (imports, the parser) makes objects and frees few: the cycle collector
        # only slows it (~2 ms of an exec). It is back on before the command runs.
        gc.disable()
        _paused.append(True)
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    finally:
        if argv is None:
            _resume_collector()
            # The process ends next: its objects are left to the interpreter's teardown
            # without the collector passing over them all again, four full passes that cost
            # about a tenth of a short command. They are still freed (Python never promised
            # to finalise those alive at exit; logging's files are closed by its atexit).
            gc.freeze()


_paused: list[bool] = []  # main() paused the cycle collector for the start-up


def _resume_collector() -> None:
    """The cycle collector on again (if main() paused it), before a command runs."""
    if _paused:
        import gc

        _paused.clear()
        gc.enable()


def _main(argv: list[str]) -> int:
    from mptui.cmdline import split_globals

    split = split_globals(argv)
    commands = named_commands(argv, split)
    if commands and commands <= BOARD_ONLY:
        _asyncio_without_ssl()
    parser = build_parser(commands)
    if split is None or not split[1] or not _chain().wants_chain(split[1], COMMANDS):
        if split is None and ("-h" in argv or "--help" in argv):
            _add_macros(parser, _macros())
        args = parser.parse_args(argv)
        run = args._run if args.command is not None else None
    else:  # commands joined by '+', a macro, or a command that may be chained
        global_words, rest = split
        args = parser.parse_args(global_words)
        args.command = rest[0]
        chain = _chain()
        heads = {seg[0] for seg in chain.split(rest)}
        macros = _macros() if heads - set(COMMANDS) else {}

        def run(args):
            return chain.run_chain(parser, global_words, rest, macros)

    from mptui import log

    log.setup(args.log_verbose, args.log_file, stderr=args.command is not None)
    _resume_collector()
    if args.command is None:
        _asyncio_without_ssl()  # (the app's links are boards' too)
        from mptui.ui.launch import run_app

        return run_app(args, run_macro=_chain().app_runner(build_parser, COMMANDS))
    assert run is not None  # a command was named
    try:
        return run(args) or OK
    except KeyboardInterrupt:  # commands that know more say what was stopped themselves
        print(f"mptui: interrupted ({args.command} stopped)", file=sys.stderr)
        return INTERRUPTED
    except Exception as e:  # noqa: BLE001 - the one place a command's failure is shown
        from mptui.commands.common import failed

        return failed(e, args.command)


def _asyncio_without_ssl() -> None:
    """Import asyncio as it is on a Python built without ssl: asyncio imports ssl (and
    OpenSSL) at once, ~5 ms of a command's start-up, for TLS that no board link uses (no
    address form is TLS: transports/address.py). Only for BOARD_ONLY commands and the app,
    where nothing else in the process could want TLS from asyncio (the app's mip fetches with
    urllib, which imports ssl itself); the ssl module itself stays importable (a later `import
    ssl` loads it as usual), only asyncio does without it."""
    if "asyncio" in sys.modules or "ssl" in sys.modules:
        return
    sys.modules["ssl"] = None  # type: ignore[assignment]  # (then `import ssl`: ImportError)
    try:
        import asyncio  # noqa: F401
    finally:
        del sys.modules["ssl"]


def _chain() -> ModuleType:
    """The chain runner (imported only for a command line that needs it)."""
    from mptui.commands import chain

    return chain


def _macros() -> dict:
    """The config's [commands] (macros named as a built-in command are left out: those win)."""
    from mptui.config import load_config

    config = load_config()
    return {name: m for name, m in config.commands.items() if name not in COMMANDS}


def _add_macros(parser: Parser, macros: dict) -> None:
    """List the config's macros among the commands in --help."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, macro in sorted(macros.items()):
        usage = f" (mptui {macro.signature})" if macro.params else ""
        sub.add_parser(name, help=f"[commands] {macro.summary}{usage}", add_help=False)


def _version() -> str:
    from mptui import __version__

    return __version__
