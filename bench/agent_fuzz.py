"""Fuzz soak of the board agent's ports: random, garbage and truncated frames on the OTA and
RemoteIO ports over many connections, against a virtual board running the real agent, while a
good client keeps using both. The agent must keep serving it and never crash (same boot id,
same runtime process throughout; a push at the end still works). Prints the figures.

    python bench/agent_fuzz.py [--seconds 60] [--fuzzers 12]

Strangers (no password, garbage, silent connections) come from many addresses (127.0.0.10 to
127.0.0.250), wrong passwords from 127.0.0.2, logged-in fuzzers (random commands and JSON, two
at a time) from 127.0.0.3, the good client from 127.0.0.1: the agent's per-source back-off and
caps must keep the others from shutting it out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import _venv  # noqa: F401  (started with another Python: runs again in the .venv)

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path[:0] = [str(TESTS / "remoteio"), str(TESTS / "ota"), str(TESTS)]
from agentboards import app_files, make_project
from helpers import runtime_processes
from rioboards import start_rio_board

from mptui.services.ota import push
from mptui.services.ota.keys import auth_response
from mptui.services.ota.links import AgentLink, OtaError
from mptui.services.ota.project import Secrets
from mptui.services.remoteio import RemoteIOError

PASSWORD = "fuzz-pw"
STRANGER, INSIDER = "127.0.0.2", "127.0.0.3"
OTA_WORDS = ["ping", "version", "list", "hashes", "get", "remove", "update", "file", "commit",
             "abort", "good", "auth", "passwd", "bye", "nope", ""]
SAFE_REMOVE = "no/such/file"  # `remove` only ever gets this (the app's files stay)


def garbage(rng: random.Random, n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))


class Fuzzer:
    insiders: asyncio.Semaphore  # logged-in fuzzers at once (the board caps clients at 4)

    def __init__(self, seed: int, ota: int, rio: int, stats: Counter) -> None:
        self.rng = random.Random(seed)
        self.ota, self.rio, self.stats = ota, rio, stats

    async def connect(self, port: int, source: str):
        return await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0)), 10)

    async def run(self, until: float) -> None:
        attacks = [self.garbage, self.truncated, self.long_line, self.wrong_password,
                   self.silent, self.hang_up, self.insider_ota, self.insider_rio]
        while time.monotonic() < until:
            attack = self.rng.choice(attacks)
            port = self.rng.choice((self.ota, self.rio))
            try:
                await asyncio.wait_for(attack(port), 20)
                self.stats[attack.__name__] += 1
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as e:
                self.stats[f"{attack.__name__} (cut off: {type(e).__name__})"] += 1

    def stranger(self) -> str:
        return f"127.0.0.{self.rng.randrange(10, 251)}"

    async def _send_then_drain(self, port: int, data: bytes) -> None:
        r, w = await self.connect(port, self.stranger())
        try:
            await r.readline()  # the greeting (or why not)
            w.write(data)
            await w.drain()
            self.stats["bytes"] += len(data)
            await asyncio.wait_for(r.read(65536), 2)
        except asyncio.TimeoutError:
            pass
        finally:
            w.close()

    async def garbage(self, port: int) -> None:
        await self._send_then_drain(port, garbage(self.rng, self.rng.randrange(1, 8192)))

    async def truncated(self, port: int) -> None:
        frames = [b"auth " + b"ab" * 10, b"update 900 10\n{\"version\":", b'{"t":"auth","mac":"',
                  b"file 5000 main.py\n" + b"x" * 100, b'{"t": "call", "id": 1, "na']
        await self._send_then_drain(port, self.rng.choice(frames))

    async def long_line(self, port: int) -> None:
        await self._send_then_drain(port, b"A" * self.rng.randrange(1000, 70000))

    async def wrong_password(self, port: int) -> None:
        r, w = await self.connect(port, STRANGER)
        try:
            greeting = (await r.readline()).decode(errors="replace")
            nonce = _nonce(greeting)
            if nonce:
                mac = auth_response("guess", nonce[0], nonce[1])
                w.write((f"auth {mac}\n" if port == self.ota else
                         json.dumps({"t": "auth", "mac": mac}) + "\n").encode())
                self.stats[(await r.readline()).decode(errors="replace")[:16].strip()] += 1
        finally:
            w.close()

    async def silent(self, port: int) -> None:
        r, w = await self.connect(port, self.stranger())
        try:
            await asyncio.wait_for(r.read(), 8)  # until the board closes it (deadline, room)
        except asyncio.TimeoutError:
            pass
        finally:
            w.close()

    async def hang_up(self, port: int) -> None:
        _, w = await self.connect(port, self.stranger())
        w.close()

    async def _login(self, port: int):
        r, w = await self.connect(port, INSIDER)
        greeting = (await r.readline()).decode(errors="replace")
        nonce = _nonce(greeting)
        if nonce is None:
            w.close()
            raise ValueError("turned away: " + greeting[:40])
        mac = auth_response(PASSWORD, nonce[0], nonce[1])
        w.write((f"auth {mac}\n" if port == self.ota else
                 json.dumps({"t": "auth", "mac": mac}) + "\n").encode())
        if not (await r.readline()).strip():
            raise ValueError("no answer to a login")
        return r, w

    async def insider_ota(self, port: int) -> None:
        async with self.insiders:
            await self._insider_ota()

    async def _insider_ota(self) -> None:
        r, w = await self._login(self.ota)
        try:
            for _ in range(self.rng.randrange(1, 20)):
                word = self.rng.choice(OTA_WORDS)
                arg = self.rng.choice(["", "/", "..", "main.py", "/config/mptui_agent.json",
                                       str(self.rng.randrange(-5, 99999)),
                                       f"{self.rng.randrange(0, 70000)} {self.rng.randrange(9)}"])
                if word == "remove":
                    arg = SAFE_REMOVE
                if word == "passwd":
                    arg = "zz"  # malformed: refused (a real one would lock the good client out)
                line = f"{word} {arg}\n".encode()
                if word in ("update", "file"):
                    line += garbage(self.rng, self.rng.randrange(0, 3000))
                w.write(line)
                self.stats["ota commands"] += 1
                await asyncio.wait_for(r.read(4096), 1)
        except asyncio.TimeoutError:
            pass
        finally:
            w.close()

    async def insider_rio(self, port: int) -> None:
        async with self.insiders:
            await self._insider_rio()

    async def _insider_rio(self) -> None:
        r, w = await self._login(self.rio)
        values = [None, 1, -1, 1e308, "x" * 300, [], {}, {"a": [1, {"b": None}]}, True]
        try:
            for _ in range(self.rng.randrange(1, 20)):
                msg = {"t": self.rng.choice(["call", "listen", "bye", "auth", "x", 5, None])}
                for key in ("id", "name", "args", "on"):
                    if self.rng.random() < 0.6:
                        msg[key] = self.rng.choice(values + ["ping", "stats", "add", "fail"])
                line = json.dumps(msg).encode() + b"\n"
                if self.rng.random() < 0.1:
                    line = line[: self.rng.randrange(len(line))] + b"\n"  # broken JSON
                w.write(line)
                self.stats["rio messages"] += 1
                await asyncio.wait_for(r.read(4096), 1)
        except asyncio.TimeoutError:
            pass
        finally:
            w.close()


def _nonce(greeting: str) -> tuple[str, str] | None:
    if greeting.startswith("MPTUI-OTA"):
        parts = greeting.split()
        return (parts[3], parts[4]) if len(parts) > 4 and parts[3] != "-" else None
    try:
        hello = json.loads(greeting)
    except ValueError:
        return None
    return (hello["nonce"], hello.get("id", "")) if hello.get("nonce") else None


async def good_client(board, until: float, figures: dict) -> None:
    """OTA `version` and a RemoteIO call, again and again; the app's lines, all of them."""
    latencies, failures = [], Counter()
    text, done = [], asyncio.Event()

    def output(kind, value):
        if kind == "out":
            text.append(value)
            if value.endswith("soak done\n"):
                done.set()

    listener = await board.connect(on_output=output)
    await listener.listen()
    runs, heap, next_sample = 0, [], 0.0
    while time.monotonic() < until:
        if time.monotonic() >= next_sample:  # the board's free heap after a collection
            heap.append(await listener.call("free_mem", {"collect": True}))
            next_sample = time.monotonic() + 10
        t0 = time.monotonic()
        try:
            link = AgentLink("127.0.0.1", board.agent.port, PASSWORD, timeout=10)
            await link.open()
            info = await link.info()
            await link.close()
            assert info["boot"] == figures["boot"], "the board rebooted"
            done.clear()
            await listener.call("start", {"lines": 200, "rate": 0, "tag": "soak"})
            await asyncio.wait_for(done.wait(), 30)  # all 200 lines came
            runs += 1
            latencies.append(time.monotonic() - t0)
        except (OtaError, RemoteIOError) as e:
            failures[e.kind] += 1
        await asyncio.sleep(0.1)
    got = "".join(text).splitlines()
    expected = ([f"soak {i}" for i in range(200)] + ["soak done"]) * runs
    figures.update(good_rounds=len(latencies), good_failures=dict(failures), heap=heap,
                   lines=len(got), lines_in_order=got == expected,
                   p50=statistics.median(latencies) if latencies else 0,
                   p99=sorted(latencies)[int(len(latencies) * 0.99)] if latencies else 0)
    await listener.close()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--fuzzers", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mptui-fuzz-") as tmp:
        board = await start_rio_board(Path(tmp) / "fuzz", password=PASSWORD)
        pids = runtime_processes(board.agent.root)
        info = await board.agent.wait_agent(PASSWORD)
        figures: dict = {"boot": info["boot"]}
        stats: Counter = Counter()
        until = time.monotonic() + args.seconds
        Fuzzer.insiders = asyncio.Semaphore(2)
        fuzzers = [Fuzzer(args.seed * 1000 + i, board.agent.port, board.port, stats)
                   for i in range(args.fuzzers)]
        t0 = time.monotonic()
        await asyncio.gather(good_client(board, until, figures), *(f.run(until) for f in fuzzers))
        elapsed = time.monotonic() - t0
        info = await board.agent.wait_agent(PASSWORD)
        secrets = Secrets(Path(tmp) / "s.toml", password=PASSWORD)
        release = make_project(Path(tmp), "9.0", app_files("9.0"), secrets)
        same_process = runtime_processes(board.agent.root) == pids
        pushed = await push(board.agent.address, release)
        await board.close()
    attacks = {k: v for k, v in stats.items() if k not in ("bytes", "ota commands", "rio messages")}
    print(f"agent fuzz soak: {elapsed:.0f} s, {args.fuzzers} fuzzers, seed {args.seed}")
    print(f"  stranger connections and logged-in sessions: {sum(attacks.values())}")
    for k, v in sorted(attacks.items()):
        print(f"    {k:32} {v}")
    print(f"  garbage bytes sent: {stats['bytes']:,}; OTA commands: {stats['ota commands']:,}; "
          f"RemoteIO messages: {stats['rio messages']:,}")
    print(f"  good client: {figures['good_rounds']} rounds ok (OTA login + version + RemoteIO call), "
          f"failures {figures['good_failures'] or 'none'}, "
          f"round p50 {figures['p50'] * 1000:.0f} ms, p99 {figures['p99'] * 1000:.0f} ms")
    print(f"  listener: {figures['lines']:,} lines, all in order: {figures['lines_in_order']}")
    print(f"  same boot throughout: {info['boot'] == figures['boot']}; runtime process the same: "
          f"{same_process}")
    print("  board heap free after a collection, every 10 s: "
          + ", ".join(f"{h:,}" for h in figures["heap"]))
    print(f"  a push after the soak: {'ok' if pushed.ok else 'FAILED: ' + pushed.error}")


if __name__ == "__main__":
    asyncio.run(main())
