"""List the boards on USB serial ports: port, serial number, VID:PID, description.
--webrepl adds the WebREPL boards from the config; --ble scans for Bluetooth LE boards;
--network listens for boards whose agent announces itself on the local network."""

from __future__ import annotations

HELP = "list USB serial boards (--webrepl: configured WebREPL boards, --ble: a BLE scan, " \
       "--network: announced boards)"


def add_arguments(parser) -> None:
    parser.add_argument(
        "--webrepl", action="store_true", help="also list the WebREPL (ws://) boards in the config"
    )
    parser.add_argument(
        "--ble",
        nargs="?",
        type=float,
        const=5.0,
        metavar="SECONDS",
        help="also scan for Bluetooth LE boards (Nordic UART Service) for SECONDS (default 5)",
    )
    parser.add_argument(
        "--network",
        nargs="?",
        type=float,
        const=6.0,
        metavar="SECONDS",
        help="also list boards announcing themselves on the local network, heard within "
        "SECONDS (default 6; boards announce every 5)",
    )
    parser.add_argument(
        "--announce-port",
        type=int,
        default=None,
        metavar="PORT",
        help="UDP port the announcements come to (default 2020)",
    )
    parser.add_argument(
        "--announce-bind",
        metavar="ADDRESS",
        help="where to listen for them (default: [network] announce_bind of the config, else "
        "127.0.0.1, boards on this computer; 0.0.0.0: the local network)",
    )


def run(args) -> int:
    import sys

    from mptui.services.discovery import usb_boards, webrepl_boards

    usb = usb_boards()
    for b in usb:
        print(f"{b.device} {b.serial_number or '-'} {b.vid_pid} {b.description}")
    looked, found = ["on USB ports"], len(usb)  # for one line when nothing is found at all
    if getattr(args, "webrepl", False):
        from mptui.config import load_config

        config = load_config()
        if config.error:
            print(f"mptui: config ignored: {config.error}", file=sys.stderr)
        webrepl = webrepl_boards(config)
        for w in webrepl:
            print(f"{w.address} {w.name} webrepl{'' if w.has_password else ' (no password set)'}")
        looked.append("in the config (WebREPL)")
        found += len(webrepl)
    if getattr(args, "ble", None) is not None:
        import asyncio

        from mptui.commands.common import die
        from mptui.services.discovery import ble_boards
        from mptui.transports import TransportError

        try:
            boards = asyncio.run(ble_boards(args.ble))
        except TransportError as e:
            return die(str(e))
        for b in boards:
            print(b.describe())
        looked.append(f"over Bluetooth LE ({args.ble:g} s)")
        found += len(boards)
    if getattr(args, "network", None) is not None:
        import asyncio

        from mptui.commands.common import die
        from mptui.config import load_config
        from mptui.services.announce import DEFAULT_PORT, network_boards

        port = args.announce_port or DEFAULT_PORT
        bind = args.announce_bind or load_config().network.announce_bind
        try:
            heard = asyncio.run(network_boards(args.network, port, bind))
        except OSError as e:
            return die(f"cannot listen for announcements on UDP port {port}: {e}")
        for a in heard:
            print(a.describe())
        looked.append(f"announcing itself ({args.network:g} s, UDP port {port} on {bind})")
        found += len(heard)
    if not found:
        hint = "" if len(looked) > 1 else " (--webrepl, --ble and --network look further)"
        print(f"mptui: no board found {', '.join(looked)}{hint}; `mptui -d virtual` needs no "
              "hardware", file=sys.stderr)
    return 0
