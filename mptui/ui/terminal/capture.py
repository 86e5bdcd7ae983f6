"""Capture: everything a board sends, appended raw to a file, while it is on. No Textual here."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO


class Capture:
    def __init__(self) -> None:
        self.path: Path | None = None
        self._file: BinaryIO | None = None

    @property
    def active(self) -> bool:
        return self._file is not None

    def start(self, path: Path) -> None:
        """Append to `path` from now on (its folder is made). OSError when it cannot be."""
        self.stop()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("ab")
        self.path = path

    def write(self, data: bytes) -> None:
        if self._file is not None:
            self._file.write(data)

    def stop(self) -> Path | None:
        """Close the file; where it was (None: no capture was on)."""
        if self._file is None:
            return None
        self._file.close()
        self._file, path, self.path = None, self.path, None
        return path
