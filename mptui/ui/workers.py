"""The app's workers: Textual's @work, with every failure shown by one handler, never fatal.

    @work(group="connect")
    async def open_board(self, key: str) -> None: ...

An exception a worker does not handle goes to `MptuiApp.worker_failed`: an MptuiError is
its one line in a notification (and the board's state, when the work was for a board: the
argument called `key`, or the one `board=` names); anything else is a bug: one line naming
the log file, whose record has the traceback. The app keeps running either way.
"""

from __future__ import annotations

import inspect
from functools import wraps

from textual import work as textual_work


def work(method=None, *, board: str = "key", label: str = "", **options):
    """Textual's `work` decorator (same options; `exit_on_error` is always False). `board`:
    the argument holding the board's key; `label`: what the notification starts with when
    no board is concerned (e.g. "OTA")."""

    def decorate(fn):
        signature = inspect.signature(fn)

        def which(self, args, kwargs) -> str | None:
            try:
                bound = signature.bind(self, *args, **kwargs)
            except TypeError:
                return None
            value = bound.arguments.get(board)
            return value if isinstance(value, str) else None

        if inspect.iscoroutinefunction(fn):
            @wraps(fn)
            async def guarded(self, *args, **kwargs):
                try:
                    return await fn(self, *args, **kwargs)
                except Exception as error:  # noqa: BLE001 - the boundary: shown, never fatal
                    self.app.worker_failed(error, which(self, args, kwargs), label, fn.__name__)
                    return None
        else:
            @wraps(fn)
            def guarded(self, *args, **kwargs):
                try:
                    return fn(self, *args, **kwargs)
                except Exception as error:  # noqa: BLE001 - the boundary: shown, never fatal
                    self.app.call_from_thread(self.app.worker_failed, error,
                                              which(self, args, kwargs), label, fn.__name__)
                    return None

        return textual_work(guarded, exit_on_error=False, **options)

    return decorate(method) if method is not None else decorate
