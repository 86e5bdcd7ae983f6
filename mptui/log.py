"""mptui's log: a file for bug reports, and stderr under --verbose.

Every module logs to `logging.getLogger(__name__)` (under "mptui"); `setup()` (the command
line calls it once) sends those records to a file, by default `mptui.paths.log_file()`, and
with --verbose to stderr too. An unexpected exception is logged with its traceback; the user
sees one line naming the file (`unexpected()`).

No secret reaches the log: mptui never puts one in a message, and every secret the board
resolver hands out is registered with `hide()` and scrubbed from every line written, as a
second guard.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from mptui.paths import log_file

ROOT = "mptui"
MAX_BYTES = 1 << 20  # a file this big is rotated: the log never grows without bound
BACKUPS = 2
FILE_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
STDERR_FORMAT = "mptui: %(levelname)s %(name)s: %(message)s"
MIN_HIDDEN = 4  # shorter secrets cannot be scrubbed without blanking ordinary words

_hidden: set[str] = set()
_handlers: list[logging.Handler] = []
_path: Path | None = None
_verbosity = 0


def hide(secret: str | None) -> None:
    """Never write `secret` to the log (it is replaced by ***)."""
    if secret and len(secret) >= MIN_HIDDEN:
        _hidden.add(secret)


def scrub(text: str) -> str:
    for secret in _hidden:
        text = text.replace(secret, "***")
    return text


SHOWN = {"shown": True}  # extra= of a record the user was shown already: not again on stderr


class _Scrubbed(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class _File(logging.Handler):
    """The log file, rotated at MAX_BYTES; opened (and logging.handlers imported) at the first
    record: a command that logs nothing pays for neither. A log that cannot be written must
    not get in the way: it is dropped quietly."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._file: logging.Handler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self._file is None:
            from logging.handlers import RotatingFileHandler

            self._file = RotatingFileHandler(self.path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                             encoding="utf-8", delay=True)
            self._file.setFormatter(self.formatter)
            self._file.handleError = self.handleError  # type: ignore[method-assign]
        self._file.emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        for logger in (logging.getLogger(), logging.getLogger(ROOT)):
            logger.removeHandler(self)

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        super().close()


def setup(verbose: int = 0, path: str | Path | None = None, stderr: bool = True) -> Path | None:
    """Log mptui's records (INFO and up; DEBUG with `verbose`) and other libraries' warnings
    to `path` (default: the user's state folder); with `verbose`, to stderr as well (INFO; -vv:
    DEBUG) unless `stderr` is False (the app owns the terminal). Returns the file, or None
    when it cannot be made. Calling it again replaces the earlier set-up."""
    global _path, _verbosity
    root, ours = logging.getLogger(), logging.getLogger(ROOT)
    close()
    ours.setLevel(logging.DEBUG if verbose else logging.INFO)
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)
    _path = Path(path).expanduser() if path else log_file()
    try:
        _path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = _File(_path)
    except OSError:
        _path = None
    else:
        handler.setFormatter(_Scrubbed(FILE_FORMAT))
        _handlers.append(handler)
    _verbosity = verbose if stderr else 0
    if _verbosity:
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.INFO if verbose == 1 else logging.DEBUG)
        handler.setFormatter(_Scrubbed(STDERR_FORMAT))
        handler.addFilter(lambda record: not getattr(record, "shown", False))
        _handlers.append(handler)
    for handler in _handlers:
        root.addHandler(handler)
    return _path


def close() -> None:
    """Undo `setup()` (tests)."""
    global _path, _verbosity
    root = logging.getLogger()
    for handler in _handlers:
        root.removeHandler(handler)
        handler.close()
    _handlers.clear()
    _path, _verbosity = None, 0


def verbosity() -> int:
    """How much the log says on stderr: 0 (nothing), 1 (-v), 2 (-vv)."""
    return _verbosity


def current() -> Path | None:
    """The log file in use (None before `setup()`, or when it could not be made)."""
    return _path


def unexpected(logger: logging.Logger, error: BaseException, what: str = "") -> str:
    """Log an exception mptui did not expect, with its traceback; return the one line to show
    the user, naming the log file."""
    logger.error("unexpected error%s", f" in {what}" if what else "",
                 exc_info=(type(error), error, error.__traceback__))
    where = f"; the details are in {_path}" if _path is not None else ""
    text = scrub(str(error).strip().splitlines()[0] if str(error).strip() else "")
    kind = type(error).__name__
    return f"unexpected error ({kind}{': ' + text if text else ''}){where}"
