"""The virtual board: the real MicroPython unix port made to behave like a USB board.

Its names load on first use (PEP 562): a command on the kept board (keeper.py) needs none of
the runtime's machinery in its own process."""

from __future__ import annotations

import importlib

_WHERE = {"VirtualBoard": "board", "VirtualBoardError": "board", "RuntimeOptions": "runtime",
          "RuntimeUnavailable": "runtime"}
__all__ = ["RuntimeOptions", "RuntimeUnavailable", "VirtualBoard", "VirtualBoardError"]


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"mptui.virtual.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
