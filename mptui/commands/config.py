"""Where mptui's config file is, and whether it reads well.

  mptui config path     print the config file's path ($MPTUI_CONFIG overrides it)
  mptui config check    read it with the code that uses it: the board resolver for [boards],
                        the app's key map for [keys], the theme loader for `theme`. Each problem
                        is one line naming the file and line (exit status 1); a password written
                        in clear is a warning that names the env:/file: forms
"""

from __future__ import annotations

import sys

HELP = "show where the config file is, or check it"


def add_arguments(parser) -> None:
    parser.add_argument(
        "action", choices=("path", "check"), help="path: print where; check: read it"
    )


def run(args) -> int:
    from mptui.config import config_path, load_config, themes_dir

    if args.action == "path":
        print(config_path())
        return 0
    config = load_config()
    if config.error:
        print(f"mptui: {config.error}", file=sys.stderr)
        return 1
    problems, warnings = check(config, args._make_parser, args._builtin)
    for line in problems:
        print(f"mptui: {line}", file=sys.stderr)
    for line in warnings:
        print(f"mptui: warning: {line}", file=sys.stderr)
    if problems:
        return 1
    state = "ok" if config.path.exists() else "ok (no file: defaults)"
    print(f"{config.path}: {state}; user themes in {themes_dir()}")
    return 0


def check(config, make_parser, builtin) -> tuple[list[str], list[str]]:
    """(problems, warnings) of a config that reads as TOML, each one line with its place;
    its macros are parsed with `make_parser()`, the command line's parser (`builtin`: its
    command names)."""
    from mptui.config import key_line, unknown_top_level
    from mptui.errors import UsageError
    from mptui.services.boards import Resolver
    from mptui.ui.app import MptuiApp
    from mptui.ui.themes import all_themes, theme_problem

    try:
        text = config.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""

    def at(message: str, key: str | None = None, table: str | None = None) -> str:
        line = (key and key_line(text, key)) or (table and key_line(text, table=table))
        return f"{config.path}{f', line {line}' if line else ''}: {message}"

    problems, warnings = [], []
    for key in unknown_top_level(config):
        problems.append(at(f"unknown setting {key!r} (known: theme, [boards], [keys], [repl], "
                           "[logs], [network], [commands])", key=key, table=key))
    resolver = Resolver(config)
    for name, board in config.boards.items():
        try:
            resolver.resolve(name)
        except UsageError as e:
            problems.append(at(str(e), table=f"boards.{name}"))
        if board.password and not board.password.startswith(("env:", "file:")):
            warnings.append(at(f"board {name!r}: the password is written in clear here; write "
                               'password = "env:VAR" (an environment variable) or '
                               'password = "file:PATH" (a file only you can read) instead',
                               table=f"boards.{name}"))
    for binding in MptuiApp.unknown_key_ids(config.keys):
        problems.append(at(f"[keys]: unknown binding id {binding!r} (F1 in the app lists them)",
                           key=binding))
    from mptui.commands.chain import check_macros

    for name, macro_problem in check_macros(make_parser(), config.commands, builtin):
        problems.append(at(f"[commands] {name!r}: {macro_problem}", key=name,
                           table=f"commands.{name}"))
    themes, theme_errors = all_themes()
    problem = theme_problem(config.theme, themes)
    if problem:
        problems.append(at(f"{problem} (F9 in the app lists the themes)", key="theme"))
    warnings += [f"theme skipped: {error}" for error in theme_errors]
    return problems, warnings
