"""Announcements are listened for on loopback unless configured (boards on this computer)."""

from __future__ import annotations

import asyncio
import json
import socket

from mptui.config import NetworkConfig
from mptui.services.announce import NetworkSource, announcements


async def test_announcements_are_heard_on_loopback_by_default():
    assert NetworkConfig().announce_bind == "127.0.0.1"
    assert NetworkSource().bind == "127.0.0.1"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    stream = announcements(port)
    first = asyncio.ensure_future(anext(stream))
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        message = json.dumps({"mptui": 1, "name": "here", "agent": "2.0", "remoteio": 2019})
        while not first.done():  # until the listener is up (it binds on the first next())
            sender.sendto(message.encode(), ("127.0.0.1", port))
            await asyncio.wait({first}, timeout=0.1)
        assert first.result().name == "here" and first.result().host == "127.0.0.1"
        listening = [c for c in _udp_sockets() if c[1] == port]
        assert listening and all(addr == "127.0.0.1" for addr, _ in listening)
    finally:
        sender.close()
        await stream.aclose()


def _udp_sockets() -> list[tuple[str, int]]:
    """(address, port) of this machine's IPv4 UDP sockets, from /proc/net/udp."""
    out = []
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            local = line.split()[1]
            hexaddr, hexport = local.split(":")
            addr = socket.inet_ntoa(bytes.fromhex(hexaddr)[::-1])
            out.append((addr, int(hexport, 16)))
    return out
