"""A user's program on the board, with its exit status.

At the raw REPL a board drops what a program gives `sys.exit()`: its SystemExit prints nothing
and soft-reboots the board. So a program runs inside a small wrapper that catches SystemExit
and reports its value in the error part of the raw-REPL reply, where no program output goes:

    try:exec(<the source>)
    except SystemExit as e:raise RuntimeError(MARKER,*e.args[:1])

The board prints that as `RuntimeError: ('mptui-exit', 3)` (`RuntimeError: mptui-exit` for a
bare sys.exit()). Any other exception comes back with the wrapper's frame taken out of its
traceback, as if the program had run unwrapped. The wrapper is short (95 bytes): on a
115200-baud UART every 12 bytes of it cost a millisecond of every exec.
"""

from __future__ import annotations

import re

from mptui.board.literal import NotALiteral, parse
from mptui.errors import exit_status

MARKER = "mptui-exit"
_WRAP = ("try:exec({source!r})\n"
         "except SystemExit as _mptui_e:raise RuntimeError({marker!r},*_mptui_e.args[:1])\n")
_EXIT = re.compile(r"^RuntimeError: (?:\('" + MARKER + r"', (.*)\)|" + MARKER + r")\s*$",
                   re.DOTALL)
# the wrapper's own frame, and the program's frames as exec() names them (the program's
# own exec() of a string would be renamed too: a small price)
_OUTER = re.compile(r'^  File "<stdin>", line 1, in <module>\r?$', re.MULTILINE)
_INNER = '  File "<string>"'


def wrap(source: str) -> str:
    """The code to send for a program."""
    return _WRAP.format(source=source, marker=MARKER)


def exit_code(traceback: str) -> int | None:
    """The exit status when the error part says the program called sys.exit(); None for
    any other error. A value that is no plain literal (an object) counts as 1."""
    last = traceback.strip().splitlines()[-1] if traceback.strip() else ""
    m = _EXIT.match(last)
    if m is None:
        return None
    if m.group(1) is None:  # sys.exit()
        return exit_status(None)
    try:
        value = parse(m.group(1))
    except NotALiteral:
        return exit_status(object())
    return exit_status(value)


def exit_message(traceback: str) -> str:
    """What sys.exit("message") asked to print (CPython prints it on stderr); "" otherwise."""
    last = traceback.strip().splitlines()[-1] if traceback.strip() else ""
    m = _EXIT.match(last)
    if m is None or m.group(1) is None:
        return ""
    try:
        value = parse(m.group(1))
    except NotALiteral:
        return m.group(1)
    return value if isinstance(value, str) else ""


def unwrap(traceback: str) -> str:
    """The board's traceback as the unwrapped program would have given it."""
    found = _OUTER.search(traceback)
    if found is None:
        return traceback
    rest = traceback[found.end():].lstrip("\r\n").replace(_INNER, '  File "<stdin>"')
    return traceback[:found.start()] + rest
