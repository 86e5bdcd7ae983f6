"""Sync speed: `mptui sync` against `mpremote cp -r` of the same tree, on the same link.

A virtual board is served on a loopback TCP port (socket://), by the bridge when it is in the
tree (mptui.virtual.bridge), else by a small server defined here for this bench only. Each
tool runs as a whole process, as a user runs it:

    python bench/sync.py [--files 200] [--bytes 2000000] [--runs 3]

Prints the time of a first copy and of a no-change sync for each tool, and the ratios
(mpremote time / mptui time: above 1 means mptui is faster).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import statistics
import string
import sys
import tempfile
import time
from pathlib import Path

import _venv  # noqa: F401  (started with another Python: runs again in the .venv)

from mptui.virtual.board import VirtualBoard


def make_tree(root: Path, files: int, total: int) -> None:
    rng = random.Random(1)
    alphabet = string.ascii_letters + string.digits + " =()_:.,\n"
    per_file = total // files
    for i in range(files):
        folder = root / f"pkg{i % 10}" / ("sub" if i % 3 == 0 else "")
        folder.mkdir(parents=True, exist_ok=True)
        text = "".join(rng.choice(alphabet) for _ in range(per_file))
        (folder / f"mod{i:03}.py").write_text(text)


def host_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# -- serving the board -------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def served(board: VirtualBoard):
    """(socket:// URL, what serves it) for the board, for as long as the block runs."""
    try:
        from mptui.virtual.bridge import OFF, Bridge
    except ImportError:
        async with _BenchServer(board) as url:
            yield url, "a TCP server in bench/sync.py (the bridge is not in this tree)"
        return
    async with Bridge(board, rfc2217_port=OFF, socket_port=0) as bridge:
        yield bridge.socket_url, "mptui.virtual.bridge"


class _BenchServer:
    """One client at a time, bytes both ways, TCP_NODELAY and TCP_QUICKACK as a bridge sets
    them; the board runs on between clients (its output is dropped then)."""

    def __init__(self, board: VirtualBoard) -> None:
        self.board = board
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> str:
        await self.board.start()
        self.pump = asyncio.create_task(self._from_board())
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return f"socket://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        self.pump.cancel()
        await self.board.stop()

    async def _from_board(self) -> None:
        while data := await self.board.read():
            if self.writer is not None:
                self.writer.write(data)
                await self.writer.drain()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.writer is not None:
            writer.close()
            return
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.writer = writer
        try:
            while data := await reader.read(65536):
                with contextlib.suppress(OSError, AttributeError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                self.board.write(data)
        finally:
            self.writer = None
            writer.close()


# -- running the tools ---------------------------------------------------------------------------


async def timed(argv: list[str], cwd: Path, env: dict) -> tuple[float, str]:
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    seconds = time.perf_counter() - start
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{text}")
    return seconds, text


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--bytes", type=int, default=2_000_000)
    ap.add_argument("--runs", type=int, default=3, help="no-change runs per tool (median shown)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mptui-bench-sync-"))
    tree, board_root = work / "tree", work / "board"
    make_tree(tree, args.files, args.bytes)
    size = sum(len(v) for v in host_tree(tree).values())
    env = {**os.environ, "MPTUI_CONFIG": str(work / "no-config.toml")}

    async with served(VirtualBoard("bench", root=board_root)) as (url, server):
        print(f"link: {url}, served by {server}")
        print(f"tree: {args.files} files, {size / 1e6:.2f} MB")
        mptui = [sys.executable, "-m", "mptui", "-d", url, "sync", str(tree), ":/m/tree"]
        mpremote = [sys.executable, "-m", "mpremote", "connect", url, "cp", "-r", "tree", ":"]

        first_mptui, out = await timed(mptui, work, env)
        print(f"  mptui first sync: {out.strip().splitlines()[-1]}")
        first_mpremote, _ = await timed(mpremote, work, env)
        for target in ("m/tree", "tree"):
            if host_tree(board_root / target) != host_tree(tree):
                raise SystemExit(f"the board's /{target} differs from the local tree")

        again_mptui, again_mpremote = [], []
        for _ in range(args.runs):
            seconds, out = await timed(mptui, work, env)
            if not out.strip().endswith(f"0 copied, 0 deleted, {args.files} unchanged"):
                raise SystemExit(f"mptui copied something on a no-change sync:\n{out}")
            again_mptui.append(seconds)
            again_mpremote.append((await timed(mpremote, work, env))[0])

    no_change_mptui = statistics.median(again_mptui)
    no_change_mpremote = statistics.median(again_mpremote)
    print(f"{'':24}{'mptui sync':>12}{'mpremote cp -r':>16}{'ratio':>8}")
    print(f"{'first copy':24}{first_mptui:>11.2f}s{first_mpremote:>15.2f}s"
          f"{first_mpremote / first_mptui:>7.1f}x")
    print(f"{'no change (median of ' + str(args.runs) + ')':24}{no_change_mptui:>11.2f}s"
          f"{no_change_mpremote:>15.2f}s{no_change_mpremote / no_change_mptui:>7.1f}x")
    print(f"no-change runs: mptui {', '.join(f'{s:.2f}' for s in again_mptui)} s; "
          f"mpremote {', '.join(f'{s:.2f}' for s in again_mpremote)} s")


if __name__ == "__main__":
    asyncio.run(main())
