# Who may talk to the agent's TCP servers (OTA, RemoteIO): used by both.
# - A connection counts as a client only once it has logged in (with no password: once it has
#   sent its first message). Until then it is "pending": it has `login_timeout` seconds (5) to
#   do so, and at most `pending` (4) wait at once per server. A new connection that finds the
#   pending list full closes the oldest one of the source holding the most, so silent
#   connections can never lock the board's servers, and a source cannot push out others.
# - Logged-in clients are capped per server (OTA `clients`, RemoteIO `remoteio_clients`).
# - Per-source back-off (shared by both servers): after 3 wrong passwords in a row, a source
#   is refused for 1 s, then 2, 4 ... 60 s, before any password of its is even checked.
import time

from mptui_agent import host

BACKOFF_FREE = 3  # wrong passwords in a row before a source is made to wait
BACKOFF_MAX = 60000  # ms
SOURCES = 8  # sources remembered (the oldest block is forgotten first)
_bad = {}  # source -> [wrong passwords in a row, refused until (ticks_ms)]


def blocked(src):
    """ms the source must still wait, or 0."""
    e = _bad.get(src)
    if e is None:
        return 0
    left = time.ticks_diff(e[1], time.ticks_ms())
    return left if left > 0 else 0


def login(src, good):
    """The outcome of one login attempt from `src`: None (in), "denied" or "backoff"."""
    if blocked(src):
        return "backoff"  # its answer is not even looked at
    if good:
        _bad.pop(src, None)
        return None
    e = _bad.get(src) or [0, 0]
    e[0] += 1
    wait = 0 if e[0] < BACKOFF_FREE else min(1000 << min(e[0] - BACKOFF_FREE, 16), BACKOFF_MAX)
    e[1] = time.ticks_add(time.ticks_ms(), wait)
    _bad[src] = e
    while len(_bad) > SOURCES:
        now = time.ticks_ms()
        del _bad[min(_bad, key=lambda k: time.ticks_diff(_bad[k][1], now))]
    return "denied"


def source(addr):
    """The peer's address from accept(): a tuple on most ports, a sockaddr (bytes) on unix."""
    if isinstance(addr, tuple):
        return addr[0]
    try:
        return bytes(addr[4:8])  # sockaddr_in: family, port, then the IPv4 address
    except TypeError:
        return addr


class Gate:
    def __init__(self, loop, cfg, clients):
        self.loop = loop
        self.deadline = int(cfg.get("login_timeout", 5) * 1000)
        self.max_pending = max(1, cfg.get("pending", 4))
        self.max_clients = clients
        self.pending = []  # [conn, task, source], oldest first
        self.clients = 0

    def full(self):
        return self.clients >= self.max_clients

    def serve(self, s, handler):
        """The accept loop: each connection gets handler(conn, source) as a task."""
        while True:
            sock, addr = yield from host.accept(s)
            conn = host.Conn(sock, self.deadline)
            src = source(addr)
            if len(self.pending) >= self.max_pending:
                self._evict()
            task = handler(conn, src)
            self.pending.append([conn, task, src])
            self.loop.spawn(task)

    def _evict(self):
        count = {}
        for p in self.pending:
            count[p[2]] = count.get(p[2], 0) + 1
        top = max(count.values())
        for p in self.pending:
            if count[p[2]] == top:
                self.pending.remove(p)
                p[0].dead = True
                self.loop.kick(p[1])
                return

    def admit(self, conn, timeout):
        """Logged in: a client now, if there is room (False: tell it busy and close)."""
        self._unpend(conn)
        if self.full():
            return False
        self.clients += 1
        conn.client = True
        conn.timeout = timeout
        return True

    def leave(self, conn):
        self._unpend(conn)
        if getattr(conn, "client", False):
            conn.client = False
            self.clients -= 1

    def _unpend(self, conn):
        for p in self.pending:
            if p[0] is conn:
                self.pending.remove(p)
                return
