"""Stream what boards print, live: one line each, with the time and the board's name.
A board is reached through its agent's RemoteIO server (rio://HOST[:PORT], ota://HOST, a config
board with an ota or rio option); any other board (USB, virtual, a bridge) is watched at its
REPL. -d is repeatable; --all takes every board mptui can find: the config's, the project's
fleet, USB ports, and boards announcing themselves on the network, joining as they are heard.
The agent's password comes from $MPTUI_AGENT_PASSWORD, else the project's secrets file (as for
`mptui ota`). Ctrl-C stops.
"""

from __future__ import annotations

import argparse
import sys

HELP = "stream boards' print() output live (-d ADDRESS ... | --all)"

from mptui.errors import ERROR as BOARD_ERROR
from mptui.errors import OK, USAGE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-d", "--device", dest="targets", action="append", metavar="ADDRESS",
                        help="a board (repeat for several): rio://HOST[:PORT], ota://HOST, a "
                        "config name, or any device address")
    parser.add_argument("--all", action="store_true", help="every board mptui can find")
    parser.add_argument("--grep", metavar="REGEX", help="only lines matching REGEX")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("-n", "--count", type=int, metavar="N",
                        help="stop after N lines of output")
    parser.add_argument("--announce-port", type=int, default=None, metavar="PORT",
                        help="UDP port of the boards' announcements, for --all (default 2020)")
    parser.add_argument("--announce-bind", metavar="ADDRESS",
                        help="where to listen for them (default: [network] announce_bind of the "
                        "config, else 127.0.0.1; 0.0.0.0: the local network)")


def run(args) -> int:
    import asyncio
    import re

    from mptui.commands.common import die

    targets = list(args.targets or [])
    if not targets and getattr(args, "device", None):
        targets = [args.device]
    if args.count is not None and args.count < 1:
        return die("--count must be at least 1", USAGE)
    try:
        pattern = re.compile(args.grep) if args.grep else None
    except re.error as e:
        return die(f"--grep: bad regular expression: {e}", USAGE)
    return asyncio.run(_stream(args, targets, pattern))


def all_targets(config) -> list[str]:
    """The config's boards, the project's fleet, and USB boards, each once."""
    from mptui.services.discovery import usb_boards
    from mptui.services.ota.project import ProjectError, load_project

    found = list(config.boards)
    try:
        found += load_project().boards
    except ProjectError:
        pass
    found += [p.device for p in usb_boards()]
    return list(dict.fromkeys(found))


async def _stream(args, targets: list[str], pattern) -> int:
    import asyncio

    from mptui.commands.common import board_for, resolver_for
    from mptui.services.announce import DEFAULT_PORT, announcements
    from mptui.services.logs import OUT, format_line, json_line
    from mptui.services.remoteio import LogStream, agent_passwords, lines_of, target_of

    password, previous = agent_passwords()
    resolver = resolver_for(args)
    if args.all:
        targets += [t for t in all_targets(resolver.config) if t not in targets]
    # every name resolves before anything starts (a usage error otherwise); no -d: the default
    wanted: list[str | None] = [*targets] if targets else [] if args.all else [None]
    refs = [board_for(resolver, text) for text in wanted]
    stream = LogStream(open_ended=args.all)
    known: set[tuple[str, int] | str] = set()  # one stream a board, however it was named
    for ref in refs:
        target = target_of(ref)
        where = (target.host, target.port) if target.agent else ref.key
        if where in known:
            continue
        known.add(where)
        stream.add(ref.text, lines_of(target, password=password, fallback_password=previous,
                                      resolver=resolver))

    async def discover() -> None:
        try:
            bind = args.announce_bind or resolver.config.network.announce_bind
            async for ann in announcements(args.announce_port or DEFAULT_PORT, bind):
                where = (ann.host, ann.remoteio_port)
                if ann.remoteio_address and where not in known:
                    known.add(where)
                    stream.add(ann.remoteio_address, lines_of(
                        ann.remoteio_address, password=password, fallback_password=previous,
                        resolver=resolver))
        except OSError as e:
            print(f"mptui: not listening for network boards: {e}", file=sys.stderr)

    finder = asyncio.ensure_future(discover()) if args.all else None
    shown = 0
    out = sys.stdout
    try:
        async for line in stream:
            if pattern is not None and line.kind == OUT and not pattern.search(line.text):
                continue
            out.write((json_line(line) if args.json else format_line(line)) + "\n")
            out.flush()
            if line.kind == OUT:
                shown += 1
                if args.count is not None and shown >= args.count:
                    break
    except BrokenPipeError:
        pass
    finally:
        if finder is not None:
            finder.cancel()
        await stream.close()
    return BOARD_ERROR if stream.failures else OK

