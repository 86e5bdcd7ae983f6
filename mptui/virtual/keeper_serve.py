"""The kept virtual board's process (started by keeper.ensure, never by hand):

    python -m mptui.virtual.keeper_serve ADDRESS --name NAME [--link L] [--heap H] [--fs F]
                                         --idle SECONDS --root DIR

serves the board ADDRESS names (virtual:NAME?link=L&heap=H&fs=F) on its unix socket, one
client at a time (the bridge), prints `ready` once it can be reached, and stops after SECONDS
with no client (unless a command holds the board's lock: it is about to connect), on
SIGTERM, or when the runtime gives up (then its state keeps why, for the next command to say).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from dataclasses import replace

from mptui.virtual import keeper

logger = logging.getLogger("mptui.virtual.keeper")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="mptui.virtual.keeper_serve")
    p.add_argument("address")
    p.add_argument("--name", required=True)
    p.add_argument("--link", default="")
    p.add_argument("--heap", default="")
    p.add_argument("--fs", default="")
    p.add_argument("--idle", type=float, required=True)
    p.add_argument("--root", required=True)
    args = p.parse_args(argv)
    from mptui import log
    from mptui.errors import MptuiError

    log.setup(0, stderr=False)
    try:
        alive = keeper.Lock(keeper.Files(args.name).alive)
        if not alive.try_take():
            raise keeper.KeeperError("another process serves this board already")
        return asyncio.run(_serve(args))
    except (MptuiError, OSError, ValueError) as e:
        print(f"error: {getattr(e, 'message', None) or e}", flush=True)
        return 1


async def _serve(args: argparse.Namespace) -> int:
    from mptui.virtual.board import VirtualBoard
    from mptui.virtual.bridge import OFF, Bridge
    from mptui.virtual.link import parse_link, parse_size

    name, address, idle = args.name, args.address, args.idle
    link = parse_link(args.link)
    if args.heap:
        link = replace(link, heap=parse_size(args.heap))
    if args.fs:
        link = replace(link, fs=parse_size(args.fs, "fs"))
    board = VirtualBoard(name, root=args.root, link=link)
    files = keeper.Files(name)
    keeper_ = _Keeper(name, idle)
    bridge = Bridge(board, rfc2217_port=OFF, socket_port=OFF, unix_path=str(files.socket),
                    on_client=keeper_.client)
    state = {"name": name, "address": address, "pid": os.getpid(),
             "socket": str(files.socket), "root": str(board.root), "started": time.time(),
             "idle_timeout": idle, "idle_since": time.time()}
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, keeper_.done.set)
    async with bridge:
        keeper_.state = state
        keeper.write_state(name, state)
        keeper_.arm()
        _ready()
        logger.info("kept virtual board %s serving on %s (pid %d)", address, files.socket,
                    os.getpid())
        closed = asyncio.ensure_future(bridge.wait_closed())
        done = asyncio.ensure_future(keeper_.done.wait())
        await asyncio.wait([closed, done], return_when=asyncio.FIRST_COMPLETED)
        for task in (closed, done):
            task.cancel()
    if bridge.device_lost:
        logger.warning("kept virtual board %s: the runtime gave up", address)
        keeper.write_state(name, {**state, "lost": "its MicroPython runtime gave up"})
        with_socket_gone(files)
        return 1
    keeper.forget(name)
    logger.info("kept virtual board %s stopped (%s)", address, keeper_.why)
    return 0


class _Keeper:
    """Counts the idle time: armed when the last client leaves, disarmed when one comes."""

    def __init__(self, name: str, idle: float) -> None:
        self.name = name
        self.idle = idle
        self.done = asyncio.Event()
        self.state: dict = {}
        self.why = "stopped"
        self._timer: asyncio.TimerHandle | None = None
        self._lock: keeper.Lock | None = None  # taken to stop: held till the process ends

    def client(self, connected: bool) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.state:
            self.state["idle_since"] = None if connected else time.time()
            keeper.write_state(self.name, self.state)
        if not connected:
            self.arm()

    def arm(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(self.idle, self._expired)

    def _expired(self) -> None:
        """Idle long enough: stop, unless a command holds the lock (it is about to connect;
        the lock, held to the end of this process, keeps the next one waiting till we are
        gone)."""
        lock = keeper.Lock(keeper.Files(self.name).lock)
        if not lock.try_take():
            lock.release()
            self.arm()
            return
        self._lock = lock
        self.why = f"idle for {self.idle:g} s"
        self.done.set()


def with_socket_gone(files: keeper.Files) -> None:
    try:
        files.socket.unlink()
    except FileNotFoundError:
        pass


def _ready() -> None:
    """Tell our starter we are ready, in one write, after which stdout and stderr go nowhere
    (it stops reading them: a write there now would fail; the log has what we say)."""
    pipe = os.dup(1)
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    os.write(pipe, f"{keeper.READY}\n".encode())
    os.close(pipe)


if __name__ == "__main__":
    sys.exit(main())
