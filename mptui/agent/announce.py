# Announcements: a UDP datagram at start and every `announce_every` seconds (default 5) telling the
# local network who this board is and where its services listen. Format: REMOTEIO.md.
#
# Settings: `announce` the address to send to (default 255.255.255.255, the local network, when
# the services listen beyond this board; 127.0.0.1 when they listen on loopback only, as on a
# virtual board; "" turns announcements off), `announce_port` (default 2020), `announce_every`.
import json
import socket
import sys

from mptui_agent import BOOT_ID, SERVICES, VERSION, board_id, board_name, host, state

PROTO = 1


def serve(loop, cfg):
    to = cfg.get("announce")
    if to is None:
        loopback = cfg.get("remoteio_bind", cfg.get("bind", "127.0.0.1")).startswith("127.")
        to = "127.0.0.1" if loopback else "255.255.255.255"
    if not to:
        return None
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    except (AttributeError, OSError):
        pass
    s.setblocking(False)
    addr = socket.getaddrinfo(to, cfg.get("announce_port", 2020))[0][-1]
    return _announce(s, addr, cfg, board_name())


def message(cfg, name):
    st = state()
    return json.dumps({
        "mptui": PROTO, "name": name, "agent": VERSION, "release": st.get("v"),
        "boot": BOOT_ID, "platform": sys.platform, "id": board_id(),
        "ota": cfg.get("port", 2018) if "ota" in _services(cfg) else 0,
        "remoteio": cfg.get("remoteio_port", 2019) if "remoteio" in _services(cfg) else 0,
        "every": cfg.get("announce_every", 5),
    })


def _services(cfg):
    return cfg.get("services") or SERVICES


def _announce(s, addr, cfg, name):
    every = int(cfg.get("announce_every", 5) * 1000)
    while True:
        try:
            s.sendto(message(cfg, name).encode(), addr)
        except OSError:
            pass  # no network yet (WiFi still joining): the next one may go
        yield (host.SLEEP, None, every)
