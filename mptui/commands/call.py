"""Call a function on a board through its agent's RemoteIO server and print the result as
JSON, e.g. `mptui call -d rio://192.168.1.40 set_led on=true pin=2`. Arguments are KEY=VALUE; a
value is read as a JSON literal when it is one (true, 3, 2.5, null, "text", [1, 2]), else taken
as a string. Built-ins: ping, version, free_mem, uptime_ms, stats. The agent's password comes
from $MPTUI_AGENT_PASSWORD, else the project's secrets file. An error on the board (an unknown
name, a handler that raised) is one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys

HELP = "call a function on a board (RemoteIO) and print the result as JSON"

from mptui.errors import ERROR as BOARD_ERROR
from mptui.errors import OK, USAGE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-d", "--device", dest="target", metavar="ADDRESS",
                        help="the board: rio://HOST[:PORT], ota://HOST or a config name")
    parser.add_argument("name", help="the handler's name")
    parser.add_argument("args", nargs="*", metavar="KEY=VALUE", help="its arguments")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                        help="how long to wait for the result (default 10)")
    parser.add_argument("--traceback", action="store_true",
                        help="when the handler raises, also print the board's traceback")


def run(args) -> int:
    import asyncio

    from mptui.commands.common import die, resolver_for
    from mptui.services.remoteio import RemoteIOError, agent_passwords, call, parse_call_args

    target = args.target or getattr(args, "device", None)
    if not target:
        return die("which board? give -d ADDRESS (rio://HOST[:PORT], ota://HOST, a config name)",
                   USAGE)
    try:
        kwargs = parse_call_args(args.args)
    except ValueError as e:
        return die(str(e), USAGE)
    resolver = resolver_for(args)
    if resolver.resolve(target).rio is None:
        return die(f"{target}: calls go through the board's agent over the network; give "
                   "rio://HOST[:PORT], ota://HOST, or a config board with an ota/rio option",
                   USAGE)
    password, previous = agent_passwords()
    try:
        result = asyncio.run(call(target, args.name, kwargs, password=password,
                                  fallback_password=previous, timeout=args.timeout,
                                  resolver=resolver))
    except RemoteIOError as e:
        if args.traceback and e.traceback:
            sys.stderr.write(e.traceback)
        about_handler = e.kind in ("raised", "result", "args")
        return die(f"{args.name}: {e}" if about_handler else str(e), BOARD_ERROR)
    print(json.dumps(result))
    return OK
