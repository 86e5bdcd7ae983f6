"""The chain's own commands, as mpremote has them: resume, disconnect, sleep, bootloader.

mptui never soft-resets a board to talk to it, so `resume` (mpremote's "do not soft-reset")
changes nothing here; write `soft-reset` where a chain wants one. `disconnect` closes the
link: the next command of the chain opens it again. `sleep SECONDS` waits between commands.
`bootloader` calls machine.bootloader() and lets the board go."""

from __future__ import annotations

import asyncio
import math

from mptui.commands.common import Command, UsageError, run_on_link

MAX_SLEEP = 24 * 3600


def _resume(args) -> int:
    async def on_link(link) -> None:
        return None

    return run_on_link(args, on_link)


def _disconnect(args) -> int:
    async def on_link(link) -> None:
        await link.close()

    return run_on_link(args, on_link)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= MAX_SLEEP:  # NaN too
        raise UsageError(f"sleep: {text!r} is not a number of seconds (0 to {MAX_SLEEP})")
    return value


def _sleep(args) -> int:
    seconds = _seconds(args.seconds)

    async def on_link(link) -> None:
        await asyncio.sleep(seconds)

    return run_on_link(args, on_link)


BOOTLOADER = "import machine\nmachine.bootloader()"


def _bootloader(args) -> int:
    async def on_link(link) -> None:
        from mptui.errors import MptuiError

        session = await link.open()
        if not await session.eval("hasattr(__import__('machine'), 'bootloader')"):
            raise MptuiError(f"{session.address}: this board has no machine.bootloader()")
        await session.start(BOOTLOADER)
        await link.drop()  # the board is in its bootloader now: its REPL is gone

    return run_on_link(args, on_link)


COMMANDS = {
    "resume": Command("in a chain, as mpremote's: go on without a soft reset (mptui never "
                      "soft-resets: write soft-reset where you want one)", _resume),
    "disconnect": Command("in a chain: close the link (the next command opens it again)",
                          _disconnect),
    "sleep": Command("in a chain: wait SECONDS (a fraction too) before the next command",
                     _sleep, lambda p: p.add_argument("seconds", metavar="SECONDS")),
    "bootloader": Command("put the board in its bootloader (machine.bootloader()) and let "
                          "it go", _bootloader),
}
