# The board-like `machine` module of the virtual board: the unix port's own, plus reset,
# unique_id, freq, reset_cause and an RTC, as boards have them.
import sys
import time
from machine import *  # noqa: F401,F403

HARD_RESET_EXIT = 0x5A  # the host restarts the board as after power-on
PWRON_RESET = 1
SOFT_RESET = 5


def reset():
    # Not sys.exit(): in a thread it ends only the thread, and in boot.py/main.py the port's
    # `-i` carries on to the REPL. A board resets whoever asks and wherever: end the process,
    # which the host restarts as after power-on.
    import os

    os.system("kill -9 $PPID")
    sys.exit(HARD_RESET_EXIT)


def reset_cause():
    return PWRON_RESET


_UID = b""  # set at start from the host: each board name has its own


def unique_id():
    return _UID


def freq(hz=None):
    if hz is None:
        return 160000000


class RTC:
    _offset = 0

    def datetime(self, dt=None):
        if dt is None:
            t = time.localtime(time.time() + RTC._offset)
            # (year, month, day, weekday, hours, minutes, seconds, subseconds)
            return (t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0)
        y, mo, d, _wd, h, mi, s = dt[:7]
        RTC._offset = time.mktime((y, mo, d, h, mi, s, 0, 0)) - time.time()

    def init(self, dt):
        self.datetime(dt)
