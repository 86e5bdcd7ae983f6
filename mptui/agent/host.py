# The service host: a small poll() loop running generator tasks. It does not use asyncio on
# purpose: MicroPython's asyncio keeps its state in module globals, so a second loop in a
# thread would share (and corrupt) the queues of an app that uses asyncio itself.
# A task yields (SLEEP, None, ms), (READ, sock, timeout_ms) or (WRITE, sock, timeout_ms);
# it is resumed with True when the socket is ready, None on timeout (timeout None: no limit).
import gc
import os
import select
import sys
import time
from binascii import unhexlify
from hashlib import sha256

try:
    import random  # only for ports without os.urandom
except ImportError:  # pragma: no cover
    random = None

SLEEP, READ, WRITE = 0, 1, 2
_EV = (0, select.POLLIN, select.POLLOUT)
_ERR = select.POLLHUP | select.POLLERR


class Loop:
    def __init__(self):
        self.poll = select.poll()
        self.io = {}  # socket -> task
        self.timers = []  # [due_ms, task]
        self.ready = []  # [task, value]

    def spawn(self, task):
        self.ready.append([task, None])

    def _wait(self, task, req):
        kind, sock, ms = req
        if kind:
            self.poll.register(sock, _EV[kind])
            self.io[sock] = task
        if ms is not None:
            self.timers.append([time.ticks_add(time.ticks_ms(), ms), task])

    def _wake(self, task, value):
        for s, t in self.io.items():
            if t is task:
                self.poll.unregister(s)
                del self.io[s]
                break
        for e in self.timers:
            if e[1] is task:
                self.timers.remove(e)
                break
        self.ready.append([task, value])

    def kick(self, task):
        """Resume a task now with None (as on a timeout) if it is waiting."""
        if task in self.io.values() or any(e[1] is task for e in self.timers):
            self._wake(task, None)

    def step(self, timeout=0):
        """Run what is ready, then wait up to `timeout` ms (-1: until something happens)."""
        ready, self.ready = self.ready, []
        for task, value in ready:
            try:
                self._wait(task, task.send(value))
            except StopIteration:
                pass
            except Exception as e:  # a failing task must not stop the others
                sys.print_exception(e)
        ready = task = value = None  # what ended is let go before the wait, not after it
        if self.ready:
            timeout = 0
        now = time.ticks_ms()
        for due, task in self.timers:
            d = time.ticks_diff(due, now)
            if timeout < 0 or d < timeout:
                timeout = max(d, 0)
        for ev in self.poll.poll(timeout):
            task = self.io.get(ev[0])
            if task is not None:
                self._wake(task, True)
        now = time.ticks_ms()
        for e in [e for e in self.timers if time.ticks_diff(e[0], now) <= 0]:
            self._wake(e[1], None)

    def run(self):
        while True:
            self.step(-1)


class Conn:
    """A non-blocking socket with buffered line and exact reads, for use with `yield from`."""

    def __init__(self, sock, timeout=30000):
        sock.setblocking(False)
        self.s = sock
        self.buf = b""
        self.timeout = timeout
        self.dead = False  # closed by the agent (gate.py): every wait now fails
        self.client = False  # counted as a logged-in client (gate.py)

    def _fill(self, n=512):
        if self.dead or (yield (READ, self.s, self.timeout)) is None or self.dead:
            raise OSError(110)  # ETIMEDOUT
        d = self.s.recv(n)
        if not d:
            raise EOFError
        self.buf += d

    def line(self, limit=512):
        while b"\n" not in self.buf:
            if len(self.buf) > limit:
                raise ValueError("line too long")
            yield from self._fill()
        i = self.buf.index(b"\n")
        ln, self.buf = self.buf[:i], self.buf[i + 1 :]
        return ln.decode().strip()

    def read(self, n):
        """Up to n bytes (at least 1)."""
        if not self.buf:
            yield from self._fill(min(n, 4096))
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def readinto(self, mv):
        """Up to len(mv) bytes into mv (at least 1): how many. No bytes object per read."""
        n = min(len(self.buf), len(mv))
        if n:
            mv[:n] = memoryview(self.buf)[:n]
            self.buf = self.buf[n:]
            return n
        while True:
            if self.dead or (yield (READ, self.s, self.timeout)) is None or self.dead:
                raise OSError(110)
            n = self.s.readinto(mv)
            if n == 0:
                raise EOFError
            if n:
                return n

    def exact(self, n):
        while len(self.buf) < n:
            yield from self._fill(min(n - len(self.buf), 4096))
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        mv = memoryview(data)
        while mv:
            try:
                n = self.s.send(mv)
            except OSError as e:
                if e.args[0] != 11:  # EAGAIN
                    raise
                n = 0
            mv = mv[n:]
            if mv and (self.dead or (yield (WRITE, self.s, self.timeout)) is None):
                raise OSError(110)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


class Lazy:
    """Modules of the agent that a server loads when a client has logged in and lets go when
    the last one has left: the board pays their heap only while they serve someone."""

    def __init__(self, *names):
        self.names = names  # in import order: none imported from inside another (see STACK)
        self.mine = []  # the ones this loaded (a module loaded by others stays)

    def load(self):
        """The last module of `names`, loaded (MemoryError when the heap has no room)."""
        for name in self.names:
            if "mptui_agent." + name not in sys.modules:
                self.mine.append(name)
        gc.collect()  # room for the code, in one piece
        for name in self.names:
            mod = __import__("mptui_agent." + name, None, None, ["_"])
        return mod

    def session(self):
        """The last module's `session` (what serves one client), or None when the heap has no
        room for it."""
        try:
            return self.load().session
        except MemoryError:
            return None

    def unload(self):
        from mptui_agent import forget

        while self.mine:
            name = self.mine.pop()
            mod = sys.modules.get("mptui_agent." + name)
            forget(name)
            if mod is not None:  # a stale pointer to the module (the GC scans the thread's
                mod.__dict__.clear()  # stack as it finds it) must not keep its code alive
        gc.collect()


def listener(host, port):
    import socket

    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(socket.getaddrinfo(host, port)[0][-1])
    s.listen(4)
    s.setblocking(False)
    return s


def accept(s):
    """Wait for and accept one connection (a generator): (socket, peer address)."""
    while True:
        yield (READ, s, None)
        try:
            return s.accept()
        except OSError:
            pass


# -- for services that authenticate clients (HMAC-SHA256, as in the OTA protocol) --------------


def hmac(key, msg):
    if isinstance(key, str):
        key = key.encode()
    if len(key) > 64:
        key = sha256(key).digest()
    key = key + b"\x00" * (64 - len(key))
    inner = sha256(bytes(b ^ 0x36 for b in key))
    inner.update(msg)
    outer = sha256(bytes(b ^ 0x5C for b in key))
    outer.update(inner.digest())
    return outer.digest()


def same(a, b):
    """Compare digests in constant time."""
    if len(a) != len(b):
        return False
    r = 0
    for x, y in zip(a, b):
        r |= x ^ y
    return r == 0


def nonce():
    """16 fresh random bytes: the challenge of one login."""
    try:
        return os.urandom(16)
    except (AttributeError, NotImplementedError):
        return bytes(random.getrandbits(8) for _ in range(16))


def answer_ok(pw, challenge, answer):
    """Is `answer` (hex text) HMAC-SHA256(key = this board's login key, `pw` in hex, message =
    the challenge)? False for anything malformed."""
    try:
        got = unhexlify(answer)
    except (TypeError, ValueError):
        return False
    return same(got, hmac(unhexlify(pw), challenge))
