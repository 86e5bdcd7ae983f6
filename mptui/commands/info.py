"""mptui info: what the board is (firmware, machine, unique id, CPU, heap, filesystem, .mpy,
modules, link and round trip, agent and release), from one round trip on the board."""

from __future__ import annotations

from dataclasses import asdict

from mptui.commands.common import print_facts, run_on_board

HELP = "show what the board is: firmware, machine, unique id, memory, modules, link"


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="the facts as one JSON object (sizes in bytes, times in seconds)")


def run(args) -> int:
    from mptui.services.info import board_facts

    async def work(session):
        facts = await board_facts(session)
        print_facts(facts.rows(), {**asdict(facts), "mpy_version": facts.mpy_version,
                                   "mpy_arch": facts.mpy_arch} if args.json else None)

    return run_on_board(args, work)
