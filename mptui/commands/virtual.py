"""The virtual boards kept running between commands.

A command on `virtual` or `virtual:NAME` starts that board in the background, and later
commands (and the app) find it as the last one left it, as a USB board keeps its state. It
stops after 10 minutes with no client ($MPTUI_VIRTUAL_IDLE: seconds; 0 keeps none, each
command then has a fresh board).

  mptui virtual status          the running ones: name, pid, address, socket, idle time
  mptui virtual stop [NAME...]  stop these (virtual, virtual:NAME or NAME), or all of them
"""

from __future__ import annotations

import sys
import time

HELP = "show or stop the virtual boards kept running between commands"


def add_arguments(parser) -> None:
    parser.add_argument("action", choices=("status", "stop"),
                        help="status: list the running ones; stop: stop them")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="stop: the boards to stop (virtual, virtual:NAME or NAME; "
                        "default: all)")


def run(args) -> int:
    from mptui.virtual import keeper

    if args.action == "status":
        if args.names:
            print("mptui virtual: error: status takes no names (try 'mptui virtual --help')",
                  file=sys.stderr)
            return 2
        return _status(keeper.boards())
    names = [_name(n) for n in args.names]
    if None in names:
        bad = args.names[names.index(None)]
        print(f"mptui virtual: error: not a virtual board: {bad!r} (virtual, virtual:NAME or "
              "NAME)", file=sys.stderr)
        return 2
    if not names:
        stopped = keeper.stop_all()
        print(f"stopped {_listed(stopped)}" if stopped else "no virtual board was running")
        return 0
    for name in names:
        assert name is not None  # (checked above)
        state = keeper.stop(name)
        what = keeper.label(name)
        print(f"stopped {what} (pid {state.get('pid')})" if state else f"{what} was not running")
    return 0


def _status(states: list[dict]) -> int:
    if not states:
        print("no virtual board is running (a command on `virtual` starts one)")
        return 0
    now = time.time()
    for s in states:
        since = s.get("idle_since")
        idle = "in use" if since is None else f"idle {_duration(now - since)}"
        limit = s.get("idle_timeout")
        stops = f", stops after {_duration(limit)} idle" if isinstance(limit, float | int) else ""
        print(f"{s.get('address')}  pid {s.get('pid')}  {idle}{stops}  socket {s.get('socket')}")
    return 0


def _name(text: str) -> str | None:
    from mptui.transports.address import AddressError, parse_address

    text = text.strip()
    if text and ":" not in text and "?" not in text and text != "virtual":
        text = f"virtual:{text}"
    try:
        address = parse_address(text)
    except AddressError:
        return None
    return address.target if address.kind == "virtual" else None


def _listed(states: list[dict]) -> str:
    from mptui.virtual.keeper import label

    return ", ".join(f"{label(s.get('name', '?'))} (pid {s.get('pid')})" for s in states)


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60} s" if seconds < 3600 else \
        f"{seconds // 3600} h {seconds % 3600 // 60} min"
