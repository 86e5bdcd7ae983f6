"""mptui: a fast, keyboard-driven terminal UI for MicroPython boards."""

__version__ = "0.1.0"
