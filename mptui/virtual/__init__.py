"""The virtual board: the real MicroPython unix port made to behave like a USB board."""

from mptui.virtual.board import VirtualBoard, VirtualBoardError
from mptui.virtual.runtime import RuntimeOptions, RuntimeUnavailable

__all__ = ["RuntimeOptions", "RuntimeUnavailable", "VirtualBoard", "VirtualBoardError"]
