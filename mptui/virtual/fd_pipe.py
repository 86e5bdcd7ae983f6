"""Bytes both ways over one non-blocking file descriptor (a PTY or a serial port), on the loop.

Reading stops while the owner holds HIGH_WATER bytes not yet taken, so the far end blocks as a
board does on USB; writes queue and go out as the descriptor accepts them.
"""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import Callable

HIGH_WATER = 1 << 20  # bytes read but not yet taken by the owner's reader


class FdPipe:
    def __init__(
        self,
        fd: int,
        *,
        on_data: Callable[[bytes], None],
        on_eof: Callable[[], None],
        backlog: Callable[[], int],
        on_write_error: Callable[[], None] | None = None,
        on_written: Callable[[], None] | None = None,
        eof_errnos: tuple[int, ...] = (errno.EIO,),
    ) -> None:
        """on_eof: the other end is gone (read returned nothing or an error in eof_errnos).
        backlog: how many bytes read are still waiting for the owner's reader.
        on_write_error: a write failed (the queue is dropped). on_written: some input went out."""
        self.fd: int | None = fd
        self.pending = bytearray()  # input not yet accepted by the descriptor
        self._on_data = on_data
        self._on_eof = on_eof
        self._backlog = backlog
        self._on_write_error = on_write_error
        self._on_written = on_written
        self._eof_errnos = eof_errnos
        self._loop = asyncio.get_running_loop()
        self._reading = False
        os.set_blocking(fd, False)
        self.resume_reading()

    def resume_reading(self) -> None:
        """Read again once the owner has taken what it held (a no-op when already reading)."""
        if not self._reading and self.fd is not None and self._backlog() < HIGH_WATER:
            self._loop.add_reader(self.fd, self._on_readable)
            self._reading = True

    def send(self, data: bytes) -> None:
        self.pending += data
        self._flush()

    def detach(self) -> int | None:
        """Stop watching the descriptor and drop queued input; returns the descriptor (still
        open: who opened it closes it)."""
        fd, self.fd = self.fd, None
        if fd is not None:
            self._loop.remove_reader(fd)
            self._loop.remove_writer(fd)
        self._reading = False
        self.pending.clear()
        return fd

    def _on_readable(self) -> None:
        fd = self.fd
        if fd is None:
            return  # (detached while a callback was queued)
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError as e:
            if e.errno not in self._eof_errnos:
                raise
            data = b""
        if not data:
            self._loop.remove_reader(fd)
            self._reading = False
            self._on_eof()
            return
        self._on_data(data)
        if self.fd is not None and self._backlog() >= HIGH_WATER:
            self._loop.remove_reader(self.fd)
            self._reading = False

    def _flush(self) -> None:
        while self.pending and self.fd is not None:
            try:
                n = os.write(self.fd, self.pending)
            except BlockingIOError:
                break
            except OSError:
                self.pending.clear()
                if self._on_write_error:
                    self._on_write_error()
                break
            del self.pending[:n]
            if n == 0:
                break
        if self.fd is not None:
            if self.pending:
                self._loop.add_writer(self.fd, self._flush)
            else:
                self._loop.remove_writer(self.fd)
        if self._on_written:
            self._on_written()
