"""Serve the virtual board over WebREPL, as an ESP board's `webrepl` module does: a password
prompt, one client at a time, the REPL and the file protocol (files land in the board's /).

Only this machine can connect unless -H says otherwise. The password comes from --password
or $MPTUI_WEBREPL_PASSWORD (1 to 9 characters, as on a board); it is never printed.
"""

from __future__ import annotations

import argparse
import os
import sys

HELP = "serve the virtual board over WebREPL (ws://), for WebREPL clients and tests"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-p", "--port", type=int, default=8266, help="port to listen on (default: 8266; 0: any)"
    )
    p.add_argument(
        "-H",
        "--host",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    p.add_argument(
        "--password",
        metavar="PASSWORD",
        default=argparse.SUPPRESS,  # else it would hide `mptui --password PW webrepl-serve`
        help="the password clients must give, 1 to 9 characters (default: $MPTUI_WEBREPL_PASSWORD)",
    )
    p.add_argument("--name", default="default", help="the virtual board's name (default: default)")
    p.add_argument("--root", metavar="DIR", help="folder to serve as the board's /")
    p.add_argument("-v", "--verbose", action="store_true", help="log clients coming and going")


def run(args: argparse.Namespace) -> int:
    import asyncio

    from mptui.transports.webrepl import ENV_PASSWORD
    from mptui.virtual.runtime import RuntimeUnavailable
    from mptui.virtual.webrepl import WebReplServerError, check_password

    password = getattr(args, "password", None) or os.environ.get(ENV_PASSWORD)
    if not password:
        return _usage(f"a password is needed: --password or ${ENV_PASSWORD}")
    try:
        check_password(password)
    except ValueError as e:
        return _usage(str(e))
    if not 0 <= args.port < 65536:
        return _usage(f"port out of range 0-65535: {args.port}")
    if args.verbose:
        import logging

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        asyncio.run(_serve(args, password))
    except (WebReplServerError, RuntimeUnavailable, OSError) as e:
        print(f"mptui webrepl-serve: error: {e}", file=sys.stderr)
        return 1
    return 0


async def _serve(args: argparse.Namespace, password: str) -> None:
    import asyncio
    import signal

    from mptui.virtual.board import VirtualBoard
    from mptui.virtual.webrepl import WebReplServer

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    board = VirtualBoard(args.name, root=args.root)
    async with WebReplServer(board, args.host, args.port, password) as server:
        print(
            f"mptui webrepl-serve: virtual board {args.name!r} at {server.url}, one client at "
            "a time. Ctrl-C stops it.",
            flush=True,
        )
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(server.wait_closed())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for w in waits:
            w.cancel()


def _usage(message: str) -> int:
    print(
        f"mptui webrepl-serve: error: {message} (try 'mptui webrepl-serve --help')", file=sys.stderr
    )
    return 2
