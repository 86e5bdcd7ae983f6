"""mpremote's commands through the bridge, over socket:// and rfc2217://: medians of N rounds.

    python bench/bridge_mpremote.py [--rounds 5] [--size-kb 100]

Each figure is the wall time of one whole `mpremote connect URL ...` process, as a user sees
it. The bridge serves a fresh virtual board (temporary folder) from this process. For
reference, the last column is mpremote on a local PTY wired to another virtual board: the
path a USB board takes, with no network and no bridge.

Then the bridge's own cost: the median round trip of a tiny raw-REPL exec, straight to a
board and through the bridge's socket port, with a client that never sleeps.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pty
import socket
import statistics
import sys
import tempfile
import time
import tty
from pathlib import Path

import _venv  # noqa: F401  (started with another Python: runs again in the .venv)

from mptui.virtual.board import VirtualBoard
from mptui.virtual.bridge import ANY_PORT, OFF, RFC2217, SOCKET, Bridge

KINDS = (SOCKET, RFC2217)
PTY = "pty"


class PtyPort:
    """A virtual board on a local PTY (/dev/pts/N), as a USB board appears."""

    def __init__(self, board: VirtualBoard) -> None:
        self.board = board
        self._master, self._slave = pty.openpty()  # we keep the slave open between clients
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._pump_task: asyncio.Task | None = None

    async def __aenter__(self):
        await self.board.start()
        loop = asyncio.get_running_loop()
        loop.add_reader(self._master, self._to_board)
        self._pump_task = loop.create_task(self._from_board())
        return self

    async def __aexit__(self, *exc) -> None:
        asyncio.get_running_loop().remove_reader(self._master)
        self._pump_task.cancel()
        await self.board.stop()
        os.close(self._master)
        os.close(self._slave)

    def _to_board(self) -> None:
        self.board.write(os.read(self._master, 65536))

    async def _from_board(self) -> None:
        while data := await self.board.read():
            os.write(self._master, data)


async def mpremote(url: str, *args: str) -> float:
    """Run mpremote; return its wall time in seconds."""
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mpremote",
        "connect",
        url,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"mpremote {' '.join(args)} failed: {err.decode() or out.decode()}")
    return elapsed


async def one_round(url: str, root: Path, work: Path, size: int) -> dict[str, float]:
    local_up, local_down = work / "up.bin", work / "down.bin"
    local_up.write_bytes(os.urandom(size))
    (root / "up.bin").unlink(missing_ok=True)  # mpremote skips a copy whose hash matches
    (root / "down.bin").write_bytes(os.urandom(size))
    local_down.unlink(missing_ok=True)
    kb = size // 1024
    times = {
        "exec": await mpremote(url, "exec", "print(1)"),
        "eval": await mpremote(url, "eval", "1 + 1"),
        "fs ls": await mpremote(url, "fs", "ls", ":"),
        f"cp {kb} KB up": await mpremote(url, "fs", "cp", str(local_up), ":up.bin"),
        f"cp {kb} KB down": await mpremote(url, "fs", "cp", ":down.bin", str(local_down)),
    }
    assert (root / "up.bin").read_bytes() == local_up.read_bytes()
    assert local_down.read_bytes() == (root / "down.bin").read_bytes()
    return times


async def raw_exec_round_trip(send, receive_until, n: int = 300) -> float:
    """Median seconds for `print(1)` in the raw REPL, from sending it to the final prompt."""
    await send(b"\r\x03\r\x01")
    await receive_until(b"raw REPL; CTRL-B to exit\r\n>")
    times = []
    for _ in range(n):
        start = time.perf_counter()
        await send(b"print(1)\x04")
        await receive_until(b"\x04\x04>")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _until(read):
    buf = bytearray()

    async def receive_until(marker: bytes) -> None:
        while marker not in buf:
            buf.extend(await read())
        del buf[: buf.index(marker) + len(marker)]

    return receive_until


async def bridge_cost(tmp: Path) -> tuple[float, float]:
    """(direct, through the bridge) raw-exec round trips, in seconds."""
    async with VirtualBoard("direct", root=tmp / "direct") as board:

        async def send(data: bytes) -> None:
            board.write(data)

        direct = await raw_exec_round_trip(send, _until(board.read))
    bridge = Bridge(
        VirtualBoard("bridged", root=tmp / "bridged"), rfc2217_port=OFF, socket_port=ANY_PORT
    )
    async with bridge:
        reader, writer = await asyncio.open_connection("127.0.0.1", bridge.socket_port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        async def send_tcp(data: bytes) -> None:
            writer.write(data)

        bridged = await raw_exec_round_trip(send_tcp, _until(lambda: reader.read(65536)))
        writer.close()
    return direct, bridged


async def main(rounds: int, size: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root, work = Path(tmp) / "board", Path(tmp) / "host"
        root.mkdir()
        work.mkdir()
        pty_root = Path(tmp) / "pty-board"
        pty_root.mkdir()
        bridge = Bridge(
            VirtualBoard("bench", root=root), rfc2217_port=ANY_PORT, socket_port=ANY_PORT
        )
        pty_port = PtyPort(VirtualBoard("bench-pty", root=pty_root))
        results: dict[str, dict[str, list[float]]] = {kind: {} for kind in (*KINDS, PTY)}
        async with bridge, pty_port:
            for _ in range(rounds):
                for kind in (*KINDS, PTY):
                    if kind == PTY:
                        times = await one_round(pty_port.path, pty_root, work, size)
                    else:
                        times = await one_round(bridge.url(kind), root, work, size)
                    for name, seconds in times.items():
                        results[kind].setdefault(name, []).append(seconds)
        direct, bridged = await bridge_cost(Path(tmp))
    import mpremote as mpremote_pkg

    version = getattr(mpremote_pkg, "__version__", "?")
    print(f"mpremote {version} through mptui bridge, median of {rounds} rounds (seconds)")
    print(f"{'command':<18}{'socket://':>12}{'rfc2217://':>12}{'local PTY':>12}")
    for name in results[SOCKET]:
        medians = [statistics.median(results[kind][name]) for kind in (*KINDS, PTY)]
        print(f"{name:<18}" + "".join(f"{m:>12.3f}" for m in medians))
    print(
        f"\nraw-REPL exec round trip (median of 300): direct {direct * 1e6:.0f} us, "
        f"through the bridge {bridged * 1e6:.0f} us (+{(bridged - direct) * 1e6:.0f} us)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size-kb", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.size_kb * 1024))
