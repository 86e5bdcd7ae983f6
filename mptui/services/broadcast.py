"""One program on several boards at once: each board connects and runs it in parallel, and
reports its own state, output, time and error; one board failing or dropping its link does not
stop the others.

The boards are the DeviceManager's (the app's, or one a command makes for its -d boards):

    runs = await broadcast(manager, keys, "print(6*7)", on_change=show)
    status = exit_status(runs)  # 0 when every board ran it to its end
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mptui.board.errors import BoardDisconnected, BoardExecError, ProgramExit
from mptui.errors import ERROR, OK, MptuiError

if TYPE_CHECKING:
    from mptui.services.manager import DeviceManager

logger = logging.getLogger(__name__)

# a board's run, from first to last
WAITING, CONNECTING, RUNNING, DONE, FAILED, LOST = (
    "waiting", "connecting", "running", "done", "failed", "disconnected")
ENDED = (DONE, FAILED, LOST)


@dataclass
class BoardRun:
    """One board's part in a broadcast, as it goes."""

    key: str
    name: str
    state: str = WAITING
    output: bytearray = field(default_factory=bytearray)
    status: int = OK  # the program's exit status (sys.exit(N)), 1 for an error
    error: str = ""  # one line: why it failed or was lost
    traceback: str = ""  # the board's traceback, when the program raised
    started: float = 0.0
    ended: float = 0.0

    @property
    def elapsed(self) -> float:
        """Seconds from connecting to the end (so far, while it runs)."""
        if not self.started:
            return 0.0
        return (self.ended or time.monotonic()) - self.started

    @property
    def ok(self) -> bool:
        return self.state == DONE and self.status == OK

    @property
    def summary(self) -> str:
        """One line: name, how it ended, time."""
        took = f"{self.elapsed:.2f} s"
        if self.state == DONE and self.status == OK:
            return f"{self.name}: ok ({took})"
        if self.state == DONE:
            return f"{self.name}: exit status {self.status} ({took})"
        if self.state in (FAILED, LOST):
            return f"{self.name}: {self.state}: {self.error} ({took})"
        return f"{self.name}: {self.state}"


Changed = Callable[[BoardRun], None]
Output = Callable[[BoardRun, bytes], None]


async def broadcast(manager: DeviceManager, keys: Iterable[str], source: str, *,
                    on_change: Changed | None = None,
                    on_output: Output | None = None) -> list[BoardRun]:
    """Run `source` as a program (sys.exit() gives its status) on every board in `keys` in
    parallel; returns their runs in the order of `keys`. `on_change(run)` is called at every
    state change, `on_output(run, data)` as output comes."""
    runs = [BoardRun(key, manager.board(key).name) for key in dict.fromkeys(keys)]
    await asyncio.gather(*(_run_one(manager, run, source, on_change, on_output)
                           for run in runs))
    return runs


async def _run_one(manager: DeviceManager, run: BoardRun, source: str,
                   on_change: Changed | None, on_output: Output | None) -> None:
    def moved(state: str) -> None:
        run.state = state
        if state in ENDED:
            run.ended = time.monotonic()
        if on_change is not None:
            on_change(run)

    def output(data: bytes) -> None:
        run.output += data
        if on_output is not None:
            on_output(run, data)

    run.started = time.monotonic()
    moved(CONNECTING)
    try:
        session = await manager.connect(run.key)
        moved(RUNNING)
        await session.run(source, on_output=output)
    except ProgramExit as e:
        run.status, run.error = e.status, e.text
        moved(DONE)
    except BoardExecError as e:
        run.status, run.error, run.traceback = ERROR, e.message, e.traceback
        moved(FAILED)
    except BoardDisconnected as e:
        run.status, run.error = ERROR, _one_line(e)
        moved(LOST)
    except (MptuiError, OSError) as e:  # a link that cannot open, a bad address, ...
        run.status, run.error = ERROR, _one_line(e)
        moved(FAILED)
    except Exception as e:  # one board's bug must not stop the others
        logger.exception("broadcast on %s failed", run.key)
        run.status, run.error = ERROR, _one_line(e) or type(e).__name__
        moved(FAILED)
    else:
        moved(DONE)


def _one_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def exit_status(runs: list[BoardRun]) -> int:
    """0 when every board ran the program to a good end; else the status of the first board
    (in order) that did not."""
    return next((run.status or ERROR for run in runs if not run.ok), OK)
