"""The `mptui` command line: no command opens the TUI; commands script a board."""

from __future__ import annotations

import argparse
import importlib
import sys

# command name -> module under mptui.commands (imported only when that command runs)
COMMANDS = {
    "bridge": "bridge",
    "config": "config",
}


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (try '{self.prog} --help')\n")


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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, module in COMMANDS.items():
        try:
            mod = importlib.import_module(f"mptui.commands.{module}")
        except ModuleNotFoundError as e:
            if e.name != f"mptui.commands.{module}":
                raise
            continue  # a command whose module is not in this build (yet)
        p = sub.add_parser(name, help=mod.HELP, description=mod.__doc__)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from mptui.ui.launch import run_app

        return run_app(args)
    try:
        return args._run(args) or 0
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130


def _version() -> str:
    from mptui import __version__

    return __version__
