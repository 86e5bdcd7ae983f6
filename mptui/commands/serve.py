"""Serve the whole app in a web browser (through textual-serve). Each browser tab runs its own
app, started with this command's -d and --password: `mptui -d virtual serve` gives every tab
the virtual board's REPL, as `mptui -d virtual` would.

Only this machine can connect unless -H says otherwise, and only with the URL printed at
start: it carries a random token (a new one each time), without which every request gets 403
and no app starts. Whoever has the URL gets a REPL on your boards and your files.
"""

from __future__ import annotations

import argparse
import sys

from mptui.commands.bridge import _port as port_number

HELP = "serve the app in a web browser (this machine only unless -H says otherwise)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-H",
        "--host",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 is every "
        "interface, and then anyone who gets the URL, token included, gets a REPL)",
    )
    p.add_argument(
        "-p",
        "--port",
        type=port_number,
        default=8000,
        metavar="PORT",
        help="port to listen on (default: 8000; 0 picks a free one)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        from mptui.ui.browser import TokenServer, serve
    except ImportError as e:  # textual-serve is an optional extra
        missing = (e.name or "textual_serve").split(".")[0]
        print(
            f"mptui serve: error: {missing} is missing; "
            "install it with: pip install 'mptui[serve]'",
            file=sys.stderr,
        )
        return 1
    server = TokenServer(app_command(args), args.host, args.port)
    try:
        return serve(server, lambda addresses: _announce(args, server.token, addresses))
    except OSError as e:
        print(f"mptui serve: error: {e}", file=sys.stderr)
        return 1


def app_command(args: argparse.Namespace) -> str:
    """The shell command each browser tab runs: this mptui with the global options given, and a
    web driver that quits when the server goes (its stdin closes)."""
    import os
    import shlex

    argv = [sys.executable, "-m", "mptui"]
    if args.device:
        argv += ["--device", args.device]
    if args.password is not None:
        argv += ["--password", args.password]
    command = shlex.join(argv)
    if os.name == "posix":
        command = f"TEXTUAL_DRIVER=mptui.ui.web_driver:WebDriver {command}"
    return command


def _announce(args: argparse.Namespace, token: str, addresses: list) -> None:
    import ipaddress
    import socket

    port = addresses[0][1]
    exposed = any(not ipaddress.ip_address(a[0]).is_loopback for a in addresses)
    try:
        ip = ipaddress.ip_address(args.host)
    except ValueError:  # a name, e.g. localhost
        host = args.host
    else:  # 0.0.0.0 or :: is no address to browse to
        host = socket.gethostname() if ip.is_unspecified else f"[{ip}]" if ip.version == 6 else ip
    app = "mptui" + (f" -d {args.device}" if args.device else "")
    print(
        f"mptui serve: open http://{host}:{port}/?token={token}\n"
        f"  (each browser tab runs its own `{app}`; Ctrl-C stops them all)",
        file=sys.stderr,
        flush=True,
    )
    if exposed:
        bar = "!" * 78
        print(
            f"{bar}\n! WARNING: listening on {args.host}, reachable from other machines.\n"
            "! Whoever has the URL gets a REPL on your boards and reads your files, and the\n"
            "! connection is plain HTTP: anyone who can see the traffic can read the token.\n"
            "! Use -H 127.0.0.1 unless you mean it.\n"
            f"{bar}",
            file=sys.stderr,
            flush=True,
        )
