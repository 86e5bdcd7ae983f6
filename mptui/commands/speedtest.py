"""mptui speedtest: how fast the link is (each way, round trip), what the board offers (raw-paste
window, deflate, free heap, binascii, hashlib), and what mptui uses for transfers on it."""

from __future__ import annotations

import json

from mptui.commands.common import run_on_board

HELP = "measure the link to the board and show what transfers will use"


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="the figures as one JSON object (rates in bytes/s, times in seconds)")


def run(args) -> int:
    from mptui.services.speedtest import speedtest

    async def work(session):
        result = await speedtest(session)
        if args.json:
            print(json.dumps(result.as_dict(), indent=1))
            return
        rows = result.rows()
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            print(f"{label:<{width}}  {value}")

    return run_on_board(args, work)
