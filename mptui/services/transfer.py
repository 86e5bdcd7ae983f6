"""Progress for transfers (TransferProgress, TransferMeter) and the one-file step every copy
is made of (`copy_file`); the copy engine that uses them is copier.py.

`show` gets a TransferProgress (bytes, files, bytes/s) as the copy goes. Cancel the task to
stop: the file in flight is left as it was on both sides (see filesystem.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mptui.services.filesystem import FileSystem, Progress


@dataclass(frozen=True)
class TransferProgress:
    path: str  # the file being copied (its destination)
    file_done: int
    file_size: int
    done: int  # bytes of all files so far
    total: int
    files_done: int
    files_total: int
    elapsed: float  # seconds since the transfer started

    @property
    def rate(self) -> float:
        """Bytes per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


class TransferMeter:
    """Turns per-file (done, total) callbacks into TransferProgress for a whole transfer."""

    def __init__(self, total: int, files: int, callback: Callable[[TransferProgress], None] | None):
        self.total, self.files_total, self.callback = total, files, callback
        self.done = self.files_done = 0
        self.start = time.monotonic()

    def file(self, path: str, size: int, weight: float = 1.0, offset: float = 0.0) -> Progress:
        """A per-file progress callback. weight/offset: the share of the file this step moves
        (reading and writing are each half of a board-to-board copy)."""

        def report(done: int, total: int) -> None:
            frac = min(done / total, 1.0) if total > 0 else 1.0
            self._report(path, int(size * (offset + frac * weight)), size)

        return report

    def finish_file(self, path: str, size: int) -> None:
        self.done += size
        self.files_done += 1
        self._report(path, 0, size, finished=True)

    def _report(self, path: str, file_done: int, size: int, finished: bool = False) -> None:
        if self.callback:
            self.callback(TransferProgress(
                path, size if finished else file_done, size, self.done + file_done, self.total,
                self.files_done, self.files_total, time.monotonic() - self.start,
            ))


async def copy_file(
    src: FileSystem | None, src_path: str, dst: FileSystem, dst_path: str,
    meter: TransferMeter, size: int = 0, data: bytes | None = None,
) -> bytes:
    """Copy one file with progress (or, with src None, write `data` to dst); returns the bytes
    written. Progress follows the slow side: a board's; the write when both are local."""
    read_share = 0.0 if data is not None or src is None or src.is_local else (
        1.0 if dst.is_local else 0.5)
    if data is None:
        if src is None:
            raise ValueError("copy_file: neither a source nor the data")
        data = await src.read(src_path, meter.file(dst_path, size, read_share) if read_share else None)
    write_share = 1.0 - read_share
    await dst.write(dst_path, data, meter.file(dst_path, len(data), write_share, read_share)
                    if write_share else None)
    meter.finish_file(dst_path, len(data))
    return data


BATCH_FILES = 64  # files at most in one pipelined write to a board
BATCH_BYTES = 4 * 1024 * 1024  # and bytes at most (each file is in memory beforehand)


def batch_full(batch: Sequence[bytes], more: int) -> bool:
    """Whether a batch of files to write takes no file of `more` bytes."""
    return len(batch) >= BATCH_FILES or sum(map(len, batch)) + more > BATCH_BYTES


async def write_files(dst: FileSystem, files: Sequence[tuple[str, bytes]],
                      meter: TransferMeter) -> int:
    """Write files in one go (dst.write_many: a board takes them as one pipelined stream);
    returns the bytes written. Progress goes file by file: the stream's reports for a file
    past the one being finished wait (the meter counts finished files first)."""
    finished = [0]  # files finished, in order

    def progress(index: int, path: str, size: int) -> Callable[[int, int], None]:
        shown = meter.file(path, size)

        def report(done: int, total: int) -> None:
            if index != finished[0]:
                return
            shown(done, total)
            if done >= total:
                finished[0] += 1
                meter.finish_file(path, size)
        return report

    await dst.write_many([(p, d, progress(i, p, len(d))) for i, (p, d) in enumerate(files)])
    for path, data in files[finished[0]:]:
        meter.finish_file(path, len(data))
    return sum(len(d) for _, d in files)


def leaf_folders(fs: FileSystem, folders: Sequence[str]) -> list[str]:
    """The folders that hold none of the others (making them with parents makes the rest)."""
    ancestors: set[str] = set()
    for f in folders:
        p = fs.parent(f)
        while p not in ancestors and fs.parent(p) != p:
            ancestors.add(p)
            p = fs.parent(p)
    return sorted(f for f in set(folders) if f not in ancestors)
