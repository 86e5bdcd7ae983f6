"""mptui info: what the board is (firmware, machine, unique id, CPU, heap, filesystem, .mpy,
modules, link and round trip, agent and release), from one round trip on the board."""

from __future__ import annotations

import json
from dataclasses import asdict

from mptui.commands.common import run_on_board

HELP = "show what the board is: firmware, machine, unique id, memory, modules, link"


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="the facts as one JSON object (sizes in bytes, times in seconds)")


def run(args) -> int:
    from mptui.services.info import board_facts

    async def work(session):
        facts = await board_facts(session)
        if args.json:
            print(json.dumps({**asdict(facts), "mpy_version": facts.mpy_version,
                              "mpy_arch": facts.mpy_arch}, indent=1))
            return
        rows = facts.rows()
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            print(f"{label:<{width}}  {value}")

    return run_on_board(args, work)
