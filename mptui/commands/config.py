"""Where mptui's config file is, and whether it reads well.

  mptui config path     print the config file's path ($MPTUI_CONFIG overrides it)
  mptui config check    read it: "ok", or the one-line error (exit status 1)
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
    state = "ok" if config.path.exists() else "ok (no file: defaults)"
    print(f"{config.path}: {state}; user themes in {themes_dir()}")
    return 0
