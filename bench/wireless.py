"""Wireless links: file write/read throughput and exec round trip, best of N rounds.

    python bench/wireless.py [--rounds 3] [--size-kb 100]

One virtual board (the real MicroPython runtime) behind each link, on this machine:
- socket://            the board over raw TCP (the bridge), the reference;
- ws:// file protocol  WebREPL (the bridge's WebREPL port), files over its binary file
                       protocol (fs.use_file_channel=True);
- ws:// raw REPL       WebREPL, files through the raw-REPL helper, paced as ESP boards need
                       (255 bytes per 10 ms);
- ws:// raw, unpaced   the same with pacing off: what the protocol itself costs;
- ble: MTU 23 / 247    BLE NUS through bleak's real API on Bumble's virtual radio (needs bumble).
Ratios are against socket://. mpremote is not compared: it has no WebREPL or BLE transport.
Loopback and a virtual radio have no air time: these figures are the software's ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _venv  # noqa: F401  (started with another Python: runs again in the .venv)

from mptui.board import Session
from mptui.virtual.board import VirtualBoard
from mptui.virtual.bridge import ANY_PORT, OFF, Bridge

PASSWORD = "bench"


@contextlib.asynccontextmanager
async def socket_link(board: VirtualBoard):
    async with Bridge(board, rfc2217_port=OFF, socket_port=ANY_PORT) as bridge:
        yield {"address": bridge.socket_url}


@contextlib.asynccontextmanager
async def webrepl_link(board: VirtualBoard, **options):
    async with Bridge(
        board, rfc2217_port=OFF, socket_port=OFF, webrepl_port=ANY_PORT, webrepl_password=PASSWORD
    ) as bridge:
        yield {"address": bridge.webrepl_url, "password": PASSWORD, **options}


@contextlib.asynccontextmanager
async def ble_link(board: VirtualBoard, mtu: int | None):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from ble_bumble import NusPeripheral, VirtualRadio

    radio = VirtualRadio()
    peripheral = NusPeripheral(board, radio, "mpy-bnch")
    await peripheral.start()
    scanner, client = radio.bleak_backends(mtu=mtu)
    try:
        yield {"address": "ble:mpy-bnch", "scanner_backend": scanner, "client_backend": client}
    finally:
        await peripheral.stop()


async def measure(
    link, data: bytes, rounds: int, channel: bool | None
) -> tuple[float, float, float]:
    """(write KB/s, read KB/s, exec round trip ms): best rounds, median round trip."""
    options = dict(link)
    session = Session(options.pop("address"), reconnect=False, **options)
    await session.connect()
    session.fs.use_file_channel = channel
    try:
        await session.exec("pass")
        await session.fs.write("/warm.bin", b"x" * 600)  # load the helper outside the timing
        writes, reads = [], []
        for _ in range(rounds):
            t = time.perf_counter()
            await session.fs.write("/bench.bin", data)
            writes.append(time.perf_counter() - t)
            t = time.perf_counter()
            back = await session.fs.read("/bench.bin")
            reads.append(time.perf_counter() - t)
            if back != data:
                raise SystemExit("bench: the file came back different")
        trips = []
        for _ in range(20):
            t = time.perf_counter()
            await session.exec("pass")
            trips.append(time.perf_counter() - t)
    finally:
        await session.close()
    kb = len(data) / 1024
    return kb / min(writes), kb / min(reads), statistics.median(trips) * 1000


async def main(rounds: int, size_kb: int) -> None:
    data = os.urandom(size_kb * 1024)
    have_bumble = sys.version_info >= (3, 11)
    try:
        import bumble  # noqa: F401
    except ImportError:
        have_bumble = False
    cases = [
        ("socket://", lambda b: socket_link(b), None),
        ("ws:// file protocol", lambda b: webrepl_link(b), True),
        ("ws:// raw REPL (paced)", lambda b: webrepl_link(b), False),
        ("ws:// raw REPL (unpaced)", lambda b: webrepl_link(b, write_delay=0), False),
    ]
    if have_bumble:
        cases += [
            ("ble: NUS, MTU 23", lambda b: ble_link(b, None), None),
            ("ble: NUS, MTU 247", lambda b: ble_link(b, 247), None),
        ]
    print(f"{size_kb} KB of random bytes, best of {rounds} rounds; exec: median of 20")
    heads = ("write KB/s", "read KB/s", "exec ms", "w/socket", "r/socket")
    print(f"{'link':26} " + " ".join(f"{h:>10}" for h in heads))
    ref = None
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, make, channel) in enumerate(cases):
            board = VirtualBoard(f"bench{i}", root=Path(tmp) / str(i))
            async with make(board) as link:
                w, r, rtt = await measure(link, data, rounds, channel)
            ref = ref or (w, r)
            print(
                f"{name:26} {w:10.0f} {r:10.0f} {rtt:10.2f} {w / ref[0]:10.2f} {r / ref[1]:10.2f}"
            )
    if not have_bumble:
        print("(BLE skipped: the virtual radio needs bumble on Python 3.11+)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size-kb", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.size_kb))
