"""What hostile board output costs the REPL terminal's model and the Logs tab's line handling.

    python bench/hostile_output.py

For each stream, the milliseconds to parse one 2 KB read (the REPL widget parses 2 KB at a time,
fewer bytes when a read costs more than its 12 ms frame budget; plain text, up to 32 KB in one
go), at 80x24 and at 250x70. Plain
text is the reference; nothing should be far above a screenful of newlines (LF). Then the cost
of a 8 KB log line's numbers (the Logs chart reads every line) for the worst shapes, and the
time from F3 to the file on screen for large board files (headless app, 100x30).
"""

from __future__ import annotations

import asyncio
import os
import time

import _venv  # noqa: F401  (started with another Python: runs again in the .venv)

from mptui.services.logs import MAX_LINE, numbers
from mptui.ui.terminal.model import TerminalModel

STREAMS = {
    "plain text": b"x" * 2047 + b"\n",
    "random bytes": os.urandom(2048),
    "LF": b"\n" * 2048,
    "DECALN (ESC#8)": b"\x1b#8" * 683,
    "ED 2 (clear)": b"\x1b[2J" * 512,
    "IL 9999": b"\x1b[9999L" * 292,
    "ICH 999999999": b"\x1b[999999999@" * 157,
    "DCH 9999": b"\x1b[9999P" * 292,
    "CUP huge": b"\x1b[99999999;99999999H" * 97,
    "SGR x6": b"\x1b[1;31;42;38;5;100m" * 100,
    "wide chars": "\u4e2d".encode() * 682,
    "combining marks": "a\u0301\u0301\u0301".encode() * 200,
    "marks on one cell": b"a" + "\u0301".encode() * 1023,
    "OSC never ended": b"\x1b]0;" + b"t" * 2044,
    "digits never ended": b"\x1b[" + b"9" * 2046,
    "RI (ESC M)": b"\x1bM" * 1024,
}


def per_read(stream: bytes, columns: int, lines: int, reads: int = 20) -> float:
    model = TerminalModel(columns, lines)
    model.feed(b"abc\r\n" * lines)
    start = time.perf_counter()
    for _ in range(reads):
        model.feed(stream)
        model.take_changed()
    return (time.perf_counter() - start) / reads


def main() -> None:
    sizes = [(80, 24), (250, 70)]
    print(f"{'stream (2 KB reads)':22}" + "".join(f"{f'{c}x{r}':>12}" for c, r in sizes))
    for name, stream in STREAMS.items():
        cells = [per_read(stream, c, r) * 1000 for c, r in sizes]
        print(f"{name:22}" + "".join(f"{ms:9.2f} ms" for ms in cells))
    print(f"\nnumbers() of a {MAX_LINE}-character log line:")
    for name, line in {"words": "temp=21.5 " * (MAX_LINE // 10), "a-a-a-...": "a-" * (MAX_LINE // 2),
                       "_-_-_-...": "_-" * (MAX_LINE // 2)}.items():
        start = time.perf_counter()
        for _ in range(10):
            numbers(line)
        print(f"  {name:12} {(time.perf_counter() - start) / 10 * 1000:8.2f} ms")


async def viewer() -> None:
    from textual.app import App

    from mptui.ui.screens.file_view import FileViewScreen

    files = {"lines.py (50,000 lines)": ("lines.py", b"print(1)\n" * 50000),
             "mid.py (64 KB)": ("mid.py", b"print('x' * 10)  # comment\n" * 2400),
             "one line (512 KB)": ("long.txt", b"x" * 512 * 1024),
             "marks (200,000)": ("marks.txt", ("a" + "\u0301" * 200000).encode()),
             "binary (1 MB)": ("b.bin", bytes(range(256)) * 4096)}
    print("\nF3 on a large file, until it is on screen:")
    for label, (name, data) in files.items():
        app = App()
        async with app.run_test(size=(100, 30)) as pilot:
            start = time.perf_counter()
            await app.push_screen(FileViewScreen("t", name, data))
            await pilot.pause()
            print(f"  {label:24} {time.perf_counter() - start:6.2f} s")


if __name__ == "__main__":
    main()
    asyncio.run(viewer())
