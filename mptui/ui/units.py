"""Sizes, rates and errors as the Files tab words them."""

from __future__ import annotations

import os

UNITS = ("K", "M", "G", "T")


def size_text(n: int) -> str:
    """'512 B', '12.3 KiB', '1.5 MiB': for messages."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in UNITS:
        value /= 1024
        if value < 1024 or unit == UNITS[-1]:
            return f"{value:.1f} {unit}iB"
    return f"{n} B"


def short_size(n: int) -> str:
    """At most 6 cells, for a pane's size column: '9999', '12.3K', '123K', '1.5M'."""
    if n < 10_000:
        return str(n)
    value = float(n)
    for unit in UNITS:
        value /= 1024
        if value < 100:
            return f"{value:.1f}{unit}"
        if value < 1000 or unit == UNITS[-1]:
            return f"{value:.0f}{unit}"
    return str(n)


def rate_text(bytes_per_second: float) -> str:
    return size_text(int(bytes_per_second)) + "/s"


def error_text(error: BaseException) -> str:
    """One line: 'lib/x.py: No such file or directory', a board's error as it says it."""
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return where + (error.strerror or str(error) or type(error).__name__)
    return str(error) or type(error).__name__


def home_relative(path: str) -> str:
    """A local path with the home folder as '~'."""
    home = os.path.expanduser("~")
    if home not in ("", "/") and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home) :]
    return path
