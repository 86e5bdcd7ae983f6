"""mptui speedtest: how fast the link is (each way, round trip), what the board offers (raw-paste
window, deflate, free heap, binascii, hashlib), and what mptui uses for transfers on it."""

from __future__ import annotations

from mptui.commands.common import print_facts, run_on_board

HELP = "measure the link to the board and show what transfers will use"


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="the figures as one JSON object (rates in bytes/s, times in seconds)")


def run(args) -> int:
    from mptui.services.speedtest import speedtest

    async def work(session):
        result = await speedtest(session)
        print_facts(result.rows(), result.as_dict() if args.json else None)

    return run_on_board(args, work)
