"""exec, eval and run on several boards at once (`-d A -d B`, `--all`).

Every board runs the program in parallel; its output is printed as one group, each line
prefixed by the board's name, in the order the boards were named (a group as soon as its board
and those before it are done); tracebacks go to stderr, prefixed the same way; then one summary
line per board. The exit status is 0 when every board ran the program to a good end, else the
first failing board's (1 for an error or a lost board, N for sys.exit(N))."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

from mptui.commands.common import INTERRUPTED, UsageError, die, planning, resolver_for

if TYPE_CHECKING:
    from mptui.services.boards import BoardRef


def add_arguments(parser) -> None:
    """The options exec, eval and run take to name several boards."""
    parser.add_argument("-d", "--device", dest="boards", action="append", metavar="ADDRESS",
                        default=None,
                        help="a board to run on; give -d several times for several boards")
    parser.add_argument("--all", action="store_true",
                        help="run on every board in the config and every USB board")


def wanted(args) -> list[str] | None:
    """The boards a command line names when it names more than one (or --all); None: one."""
    names = [*(getattr(args, "devices", None) or []), *(getattr(args, "boards", None) or [])]
    if getattr(args, "all", False):
        return names + every_board(args)
    if len(names) == 1:
        args.device = names[0]  # `exec -d A`: one board, as `-d A exec`
    return names if len(names) > 1 else None


def every_board(args) -> list[str]:
    """--all: the boards named in the config, then the USB boards plugged in."""
    from mptui.services.discovery import usb_boards

    resolver = resolver_for(args)
    found = [*resolver.config.boards, *(port.device for port in usb_boards())]
    if not found:
        raise UsageError("--all: no boards in the config and no USB board plugged in "
                         "(name boards with -d, or add them: mptui config)")
    return found


def run(args, names: list[str], source: str) -> int:
    """Run `source` on every board named; print as said above; return the exit status."""
    if planning():
        raise UsageError("a command on several boards (-d twice, --all) cannot be part of a "
                         "chain ('+')")
    from mptui.services.broadcast import ENDED, broadcast, exit_status
    from mptui.services.manager import DeviceManager

    resolver = resolver_for(args)
    refs: dict[str, BoardRef] = {}
    for name in names:  # every name checked before any board is touched
        ref = resolver.resolve(name)
        if ref.agent_only:
            raise UsageError(f"{ref.label} is reached through its agent, not a REPL link")
        refs.setdefault(ref.key, ref)
    manager = DeviceManager(resolver.config, usb=False, ble=False, network=False,
                            virtual=False, password=resolver.password, reconnect_timeout=2.0)
    keys = [manager.add(ref.key, name=ref.label).key for ref in refs.values()]
    ended: dict[str, asyncio.Future] = {}
    seen: dict = {}  # key -> its run, from its first change
    shown: set[str] = set()
    stuck: list[str] = []  # boards whose program could not be stopped after Ctrl-C

    def show(board_run) -> None:
        shown.add(board_run.key)
        _show(board_run)

    async def main():
        loop = asyncio.get_running_loop()
        ended.update((key, loop.create_future()) for key in keys)

        def changed(board_run):
            seen[board_run.key] = board_run
            if board_run.state in ENDED and not ended[board_run.key].done():
                ended[board_run.key].set_result(board_run)

        async def show_in_order():  # a board's group once it and those before it are done
            for key in keys:
                show(await ended[key])

        printer = asyncio.create_task(show_in_order())
        try:
            runs = await broadcast(manager, keys, source, on_change=changed)
            await printer
        finally:
            printer.cancel()
            unfinished = [k for k, run in seen.items() if run.state not in ENDED]
            try:
                stuck.extend(await asyncio.wait_for(_stop_all(manager, unfinished), 10))
            except (asyncio.TimeoutError, asyncio.CancelledError):
                stuck.extend(unfinished)
            await manager.stop()
        for board_run in runs:
            print(f"mptui: {board_run.summary}", file=sys.stderr)
        return exit_status(runs)

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:  # what each board printed so far, then what was stopped
        for key in keys:
            if key in seen and key not in shown:
                show(seen[key])
        if stuck:
            which = ", ".join(seen[k].name for k in stuck if k in seen) or "a board"
            return die(f"interrupted: {which} did not get back to its REPL (a reset brings it "
                       "back); the other boards' programs were stopped", INTERRUPTED)
        return die("interrupted: the boards' programs were stopped; the boards are at their "
                   "REPL", INTERRUPTED)


async def _stop_all(manager, keys) -> list[str]:
    """After Ctrl-C: stop what still runs on these boards (their REPL back); returns those
    that did not answer."""
    async def stop(key) -> str | None:
        session = manager.session(key)
        if session is None:
            return None
        try:
            await session.stop_program()
        except Exception:  # noqa: BLE001 - said in the one line after Ctrl-C
            return key
        return None

    return [key for key in await asyncio.gather(*(stop(key) for key in keys)) if key]


def _show(board_run) -> None:
    """A board's output, then its traceback (stderr), each line prefixed by its name."""
    prefix = f"[{board_run.name}] ".encode("utf-8", "replace")
    out = sys.stdout.buffer
    out.write(_prefixed(prefix, bytes(board_run.output)))
    out.flush()
    if board_run.traceback:
        err = sys.stderr.buffer
        err.write(_prefixed(prefix, board_run.traceback.encode("utf-8", "replace") + b"\n"))
        err.flush()


def _prefixed(prefix: bytes, data: bytes) -> bytes:
    if not data:
        return b""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return b"".join(prefix + line + b"\n" for line in lines)
