"""A board's clock (machine.RTC) set from this computer's, and read back. The code is made
here for one board (a session) and for several (a program broadcast runs), the same both ways.
Boards whose config entry says `set_rtc = true` get the clock set when they connect."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from mptui.errors import MptuiError

if TYPE_CHECKING:
    from mptui.board import Session
    from mptui.services.boards import BoardRef

logger = logging.getLogger(__name__)
_SHOW = ("d = __import__('machine').RTC().datetime()\n"
         "print('%04d-%02d-%02d %02d:%02d:%02d' % (d[0], d[1], d[2], d[4], d[5], d[6]))\n")


def host_datetime(when: float | None = None) -> tuple[int, ...]:
    """This computer's local time as RTC.datetime() takes it: (year, month, day, weekday,
    hours, minutes, seconds, subseconds), Monday 0."""
    t = time.localtime(when)
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_wday, t.tm_hour, t.tm_min, t.tm_sec, 0)


def set_code(when: float | None = None) -> str:
    return f"__import__('machine').RTC().datetime({host_datetime(when)!r})\n"


def program(set_clock: bool, when: float | None = None) -> str:
    """Code that sets the clock (when asked) and prints it as YYYY-MM-DD HH:MM:SS."""
    return (set_code(when) if set_clock else "") + _SHOW


async def set_clock(session: Session, when: float | None = None) -> None:
    await session.exec(set_code(when))


async def read_clock(session: Session) -> str:
    """The board's clock as YYYY-MM-DD HH:MM:SS."""
    out: bytes = await session.exec(_SHOW)
    return out.decode("utf-8", "replace").strip()


async def on_connect(ref: BoardRef, session: Session) -> None:
    """Set the clock of a board whose config asks for it (`set_rtc = true`); a board without
    an RTC is said in the log, not an error."""
    if not getattr(ref, "set_rtc", False):
        return
    try:
        await set_clock(session)
        logger.info("%s: clock set from this computer's", ref.label)
    except MptuiError as e:
        logger.warning("%s: could not set its clock: %s", ref.label, e)
