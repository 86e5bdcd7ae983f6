"""The `mptui` command line: no command opens the TUI; commands script a board."""

from __future__ import annotations

import argparse
import importlib
import sys
import textwrap

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
    "ls": "files",
    "cat": "files",
    "cp": "files",
    "rm": "files",
    "mkdir": "files",
    "rmdir": "files",
    "touch": "files",
    "sha256sum": "files",
    "df": "files",
    "repl": "repl",
    "bridge": "bridge",
    "ota": "ota",
    "sync": "sync",
    "config": "config",
    "logs": "logs",
    "call": "call",
    "serve": "serve",
}


class HelpFormatter(argparse.HelpFormatter):
    """Descriptions as written: a paragraph of prose is filled to the terminal's width, one
    with indented lines (a list of usages) keeps its lines."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out = []
        for paragraph in textwrap.dedent(text).strip().split("\n\n"):
            lines = paragraph.splitlines()
            if any(line.startswith(" ") for line in lines):
                out.append("\n".join(indent + line for line in lines))
            else:
                out.append(super()._fill_text(paragraph, width, indent))
        return "\n\n".join(out)


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
            if chosen not in (sub.choices if sub is not None else {}):
                return parser
            parser = sub.choices[chosen]


def build_parser() -> Parser:
    parser = Parser(
        prog="mptui",
        description="A fast, keyboard-driven terminal UI for MicroPython boards. "
        "With no command it opens the full-screen app.",
    )
    parser.add_argument("--version", action="version", version=f"mptui {_version()}")
    parser.add_argument(
        "-d",
        "--device",
        metavar="ADDRESS",
        help="the board: /dev/ttyACM0, socket://HOST:PORT, rfc2217://HOST:PORT, ws://HOST, "
        "ble:NAME, virtual[:NAME] or a name from the config",
    )
    parser.add_argument(
        "--password",
        metavar="PASSWORD",
        help="WebREPL password for a ws:// board (other users can see command lines: prefer "
        "$MPTUI_WEBREPL_PASSWORD or password = \"env:VAR\" in the board's config entry)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, module in COMMANDS.items():
        mod = importlib.import_module(f"mptui.commands.{module}")
        cmd = mod.COMMANDS[name] if hasattr(mod, "COMMANDS") else mod
        p = sub.add_parser(name, help=cmd.HELP, description=cmd.__doc__)
        cmd.add_arguments(p)
        p.set_defaults(_run=cmd.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from mptui.ui.launch import run_app

        return run_app(args)
    try:
        return args._run(args) or 0
    except KeyboardInterrupt:  # commands that know more say what was stopped themselves
        print(f"mptui: interrupted ({args.command} stopped)", file=sys.stderr)
        return 130


def _version() -> str:
    from mptui import __version__

    return __version__
