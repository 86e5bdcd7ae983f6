"""Links opened early: the app starts opening its board's link in a thread while Textual is
imported (~0.1 s), and the transport opened for that board later takes what the thread made
(kept virtual boards and serial ports)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable
from typing import Any

Made = concurrent.futures.Future[tuple[Any, float]]  # (what work() made, time.monotonic() then)
# key -> (what the link is opened with, the thread's work)
_early: dict[str, tuple[Any, Made]] = {}


def start(key: str, tag: Any, work: Callable[[], Any]) -> None:
    """Run `work` (it opens a link, with settings `tag`) in a thread, unless one was started
    for `key` already. One never taken stays open until this process ends."""
    if key in _early:
        return
    future: Made = concurrent.futures.Future()

    def run() -> None:
        try:
            made = work()
        except BaseException as e:  # noqa: BLE001 - the transport opens anew and says why
            future.set_exception(e)
            return
        future.set_result((made, time.monotonic()))

    _early[key] = (tag, future)
    threading.Thread(target=run, name="mptui-open-early", daemon=True).start()


def pending(key: str) -> Made | None:
    """The work started for `key` and not taken yet."""
    early = _early.get(key)
    return early[1] if early else None


async def take(key: str, tag: Any, close: Callable[[Any], None],
               anew: type[BaseException] | tuple[type[BaseException], ...] = Exception,
               ) -> tuple[Any, float] | None:
    """What start() made for `key` and the seconds since. None: nothing was started, it failed
    with `anew` (opening anew says why), or it was opened with another `tag` (it is closed
    first: `close(made)`). Another failure is raised, as opening anew would raise it."""
    early = _early.pop(key, None)
    if early is None:
        return None
    was, future = early
    try:
        if not future.done():  # (done, it is taken at once: no trip through the loop)
            await asyncio.shield(asyncio.wrap_future(future))
        made, since = future.result()
    except asyncio.CancelledError:
        def close_made(f: Made) -> None:
            if f.exception() is None:
                close(f.result()[0])

        future.add_done_callback(close_made)
        raise
    except anew:
        return None
    if was != tag:
        close(made)
        return None
    return made, time.monotonic() - since
