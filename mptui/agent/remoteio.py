# RemoteIO (TCP, default port 2019): the app's print() output streamed to every listener, and
# RPC calls to handlers the app registers. Wire format: REMOTEIO.md beside this file.
#
# In the app:   import remoteio            (the agent registers this module under that name)
#               @remoteio.on("set_led")
#               def set_led(on=True): ...
#
# Output capture: os.dupterm where the port has it (everything the board prints), else
# builtins.print is wrapped (the unix port, hence the virtual board). Either is attached only
# while someone listens. The app's thread appends to one shared bounded list of chunks; the
# agent's thread sends it on. Each listener has its own read position in that list: a listener
# that falls further behind than the list holds loses the oldest chunks and is told how many.
# Nothing the app does ever waits for a listener.
import builtins
import gc
import json
import sys
import time
from binascii import hexlify

from mptui_agent import BOOT_ID, VERSION, board_id, board_name, gate, host, state

try:
    import os
    import socket
except ImportError:  # pragma: no cover
    socket = None
try:
    import io
except ImportError:  # pragma: no cover
    io = None
try:
    import _thread

    _lock = _thread.allocate_lock()
except ImportError:

    class _NoLock:  # one thread: nothing to guard
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    _lock = _NoLock()

PROTO = 2
BUILTINS = ("ping", "version", "free_mem", "uptime_ms", "stats")
LINGER = 10  # ms to let a burst of prints gather before it is sent
RETRY = 20  # ms between send attempts to a listener whose socket is full
CHUNK = 32  # bytes a small str object and its list slot take beyond its characters (32-bit)
TAKE = 1024  # characters of output per message to a listener (each is copied a few times)

_handlers = {}
# The shared output list; guarded by _lock (the app's threads add, the agent's thread takes).
_items = []  # str chunks, oldest first
_first = 0  # sequence number of _items[0]
_size = 0  # heap the chunks take, roughly: characters + CHUNK each
_limit = 16384
_armed = False  # the pump waits for a wake-up: the next chunk sends one
_listeners = []
_stats = {"dropped": 0, "peak": 0, "chunks": 0}
_wake_rx = _wake_tx = _wake_addr = None
_orig_print = builtins.print
_attached = None  # "dupterm" | "print" | None


# -- the app's side ---------------------------------------------------------------------------


def on(name):
    """Decorator: register a handler for RPC calls to `name`; it gets the call's arguments as
    keyword arguments and returns something JSON can encode. Handlers run on the agent's
    thread: keep them short."""
    if not isinstance(name, str) or not name or len(name) > 64 or name in BUILTINS:
        raise ValueError("bad handler name %r" % (name,))

    def register(f):
        with _lock:
            _handlers[name] = f
        return f

    return register


def off(name):
    with _lock:
        _handlers.pop(name, None)


def _add(text):
    """A chunk of output (from any thread): keep it for the listeners, wake the pump."""
    global _size, _first, _armed
    if not text:
        return
    with _lock:
        _items.append(text)
        _size += len(text) + CHUNK
        _stats["chunks"] += 1
        while _size > _limit and len(_items) > 1:
            _size -= len(_items.pop(0)) + CHUNK
            _first += 1
        if _size > _stats["peak"]:
            _stats["peak"] = _size
        wake, _armed = _armed, False
    if wake and _wake_tx is not None:
        try:
            _wake_tx.sendto(b"!", _wake_addr)
        except OSError:
            pass


def _print(*args, sep=" ", end="\n", file=None):
    if file is not None and file is not sys.stdout:
        return _orig_print(*args, sep=sep, end=end, file=file)
    text = sep.join([str(a) for a in args]) + end
    _orig_print(text, end="")
    _add(text)


if io is not None:

    class _Tee(io.IOBase):
        """The dupterm stream: output only (it never has input)."""

        def __init__(self):
            self.tail = b""  # the start of a character split across writes

        def write(self, buf):
            data = self.tail + bytes(buf)
            cut = len(data)
            for back in (1, 2, 3):
                if back > len(data):
                    break
                b = data[-back]
                if b & 0xC0 != 0x80:  # not a continuation byte: a character starts here
                    if b >= 0xC0 and (2 if b < 0xE0 else 3 if b < 0xF0 else 4) > back:
                        cut = len(data) - back
                    break
            self.tail = data[cut:]
            try:
                _add(data[:cut].decode())
            except UnicodeError:
                _add("".join(chr(b) if b < 128 else "?" for b in data[:cut]))
            return len(buf)

        def readinto(self, buf):
            return None

        def ioctl(self, op, arg):
            return 0

else:  # pragma: no cover
    _Tee = None


def _attach():
    """Capture output: a free dupterm slot where the port has them, else wrap print()."""
    global _attached, _slot
    if _attached:
        return
    if _Tee is not None and hasattr(os, "dupterm"):
        for i in (1, 0):
            try:
                prev = os.dupterm(None, i)
            except (OSError, ValueError, TypeError, IndexError):
                continue
            if prev is None:
                os.dupterm(_Tee(), i)
                _attached, _slot = "dupterm", i
                return
            os.dupterm(prev, i)  # taken (WebREPL, a display...): leave it be
    builtins.print = _print
    _attached = "print"


_slot = 0


def _detach():
    global _attached, _items, _size
    if _attached == "dupterm":
        os.dupterm(None, _slot)
    elif _attached == "print" and builtins.print is _print:
        builtins.print = _orig_print
    _attached = None
    with _lock:
        _items = []
        _size = 0


# -- built-in calls ---------------------------------------------------------------------------


def _version():
    st = state()
    return {"agent": VERSION, "proto": PROTO, "name": board_name(), "release": st.get("v"),
            "boot": BOOT_ID, "platform": sys.platform, "micropython": sys.version}


def _free_mem(collect=False):
    if collect:
        gc.collect()
    return gc.mem_free()


def _stats_call(collect=False):
    if collect:
        gc.collect()
    with _lock:
        out = dict(_stats)
        out["held"] = _size
    out["listeners"] = len(_listeners)
    out["alloc"] = gc.mem_alloc()
    out["capture"] = _attached
    return out


_BUILTIN = {
    "ping": lambda: "pong",
    "version": _version,
    "free_mem": _free_mem,
    "uptime_ms": time.ticks_ms,  # since boot, wrapping as ticks do
    "stats": _stats_call,
}


def _describe(e):
    if io is None:
        return repr(e), ""
    s = io.StringIO()
    sys.print_exception(e, s)
    return "%s: %s" % (type(e).__name__, e) if e.args else type(e).__name__, s.getvalue()


def _call(msg):
    """The reply line (bytes) to one call message."""
    cid = msg.get("id")
    name = msg.get("name")
    args = msg.get("args")
    if args is None:
        args = {}
    f = _BUILTIN.get(name) if isinstance(name, str) else None
    if f is None and isinstance(name, str):
        with _lock:
            f = _handlers.get(name)
    if f is None:
        return _err(cid, "unknown", "unknown handler: %s" % (name,))
    if not isinstance(args, dict):
        return _err(cid, "args", "args must be a JSON object")
    try:
        r = f(**args)
    except BaseException as e:  # SystemExit too: it would end the agent's thread
        what, tb = _describe(e)
        return _line({"t": "err", "id": cid, "kind": "raised", "e": what, "tb": tb})
    if not _plain(r):
        return _err(cid, "result", "JSON cannot encode what %s returned (type %s%s)"
                    % (name, type(r).__name__, " holding other things" if _box(r) else ""))
    return _line({"t": "resp", "id": cid, "r": r})


def _plain(v, depth=0):
    """Can JSON carry it? (MicroPython's json.dumps writes `<object>` or `nan` instead of
    refusing.)"""
    if v is None or isinstance(v, (bool, int, str)):
        return True
    if isinstance(v, float):
        return v - v == 0  # not nan or infinite
    if depth > 32:
        return False
    if isinstance(v, (list, tuple)):
        return all(_plain(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _plain(x, depth + 1) for k, x in v.items())
    return False


def _box(v):
    return isinstance(v, (list, tuple, dict))


def _err(cid, kind, text):
    return _line({"t": "err", "id": cid, "kind": kind, "e": text})


def _line(obj):
    return (json.dumps(obj) + "\n").encode()


# -- the agent's side -------------------------------------------------------------------------


class _Client:
    def __init__(self, sock):
        self.s = sock
        self.out = b""  # bytes not yet accepted by the socket
        self.pos = 0
        self.next = -1  # sequence number of the next chunk to send; -1: not listening
        self.dead = False

    def queue(self, data):
        if self.pos:
            self.out, self.pos = self.out[self.pos :], 0
        self.out += data

    def pending(self):
        return len(self.out) - self.pos

    def flush(self):
        """Send what the socket takes now; never waits."""
        if self.dead or not self.pending():
            return
        try:
            n = self.s.send(memoryview(self.out)[self.pos :])
        except OSError as e:
            if e.args[0] not in (11, 12):  # EAGAIN, ENOMEM (lwIP: buffers full)
                self.dead = True
            return
        self.pos += n
        if self.pos == len(self.out):
            self.out, self.pos = b"", 0


def _listen(c, yes):
    global _first
    if yes and c.next < 0:
        if not _listeners:
            _attach()
        with _lock:
            c.next = _first + len(_items)  # from now on
        _listeners.append(c)
    elif not yes and c.next >= 0:
        c.next = -1
        _listeners.remove(c)
        if not _listeners:
            _detach()


def _feed(c):
    """Move new output from the shared list into one listener's send buffer, TAKE characters
    at a time (a message each), while its socket takes them."""
    global _first, _size
    c.flush()
    while c.pending() <= 512:  # else its socket is full: the shared list keeps the rest
        with _lock:
            dropped = _first - c.next if c.next < _first else 0
            if dropped:
                c.next = _first
            i = j = c.next - _first
            n = 0
            while j < len(_items) and (j == i or n + len(_items[j]) <= TAKE):
                n += len(_items[j])
                j += 1
            text = "".join(_items[i:j]) if j > i else ""
            c.next = _first + j
            low = min(x.next for x in _listeners)
            if low > _first:  # every listener has taken these
                for s in _items[: low - _first]:
                    _size -= len(s) + CHUNK
                del _items[: low - _first]
                _first = low
        if dropped:
            _stats["dropped"] += dropped
            c.queue(_line({"t": "drop", "n": dropped}))
        if not text:
            return
        c.queue(_line({"t": "out", "d": text}))
        text = None
        c.flush()


def _pump():
    global _armed
    while True:
        behind = any(c.pending() for c in _listeners)
        if _wake_rx is not None:
            with _lock:
                end = _first + len(_items)
                behind = behind or any(c.next < end for c in _listeners)
                _armed = not behind
            woken = yield (host.READ, _wake_rx, RETRY if behind else None)
            if woken:
                try:
                    while _wake_rx.recv(64):
                        pass
                except OSError:
                    pass
        else:  # no wake-up socket on this port: look every few ms while someone listens
            yield (host.SLEEP, None, RETRY if _listeners else 500)
        if _listeners:
            yield (host.SLEEP, None, LINGER)
            for c in list(_listeners):
                _feed(c)


def _client(conn, src, cfg, g):
    c = _Client(conn.s)
    try:
        wait = gate.blocked(src)
        if g.full() or wait:  # (gate.py; checked again at login)
            yield from conn.send(_err(None, "backoff", "too many wrong passwords: wait %d s" % (wait // 1000 + 1))
                                 if wait else _err(None, "busy", "too many clients (%d)" % g.max_clients))
            return
        pw = cfg.get("login", "")
        nonce = host.nonce() if pw else b""
        hello = {"t": "hello", "proto": PROTO, "agent": VERSION, "name": board_name(), "id": board_id(),
                 "boot": BOOT_ID, "nonce": hexlify(nonce).decode() if pw else None}
        yield from conn.send(_line(hello))
        limit = cfg.get("remoteio_max_line", 4096)
        # the login (with no password: the first message)
        msg = _parse((yield from conn.line(256 if pw else limit)))
        if pw:
            why = gate.login(src, msg.get("t") == "auth" and host.answer_ok(pw, nonce, msg.get("mac")))
            if why == "denied":
                yield (host.SLEEP, None, 500)  # slows down guessing
            if why:
                yield from conn.send(_err(None, why, "wrong password" if why == "denied" else
                                          "too many wrong passwords: wait %d s" % (gate.blocked(src) // 1000 + 1)))
                return
        if not g.admit(conn, cfg.get("timeout", 30) * 1000):
            yield from conn.send(_err(None, "busy", "too many clients (%d)" % g.max_clients))
            return
        if pw or msg.get("t") == "auth":  # (with no password a client may log in all the same)
            yield from conn.send(_line({"t": "ok"}))
            msg = None
        while not c.dead:
            if msg is None:
                conn.timeout = None if c.next >= 0 else cfg.get("timeout", 30) * 1000
                msg = _parse((yield from conn.line(limit)))
            t = msg.get("t")
            if t == "call":
                c.queue(_call(msg))
            elif t == "listen":
                _listen(c, msg.get("on", True))
            elif t == "bye":
                break
            else:
                c.queue(_err(msg.get("id"), "proto", "unknown message type %r" % (t,)))
            msg = None
            c.flush()
            while c.pending() > limit and not c.dead:  # it sends calls but does not read
                yield (host.SLEEP, None, RETRY)
                c.flush()
        while c.pending() and not c.dead:  # the last replies, then close
            yield (host.SLEEP, None, RETRY)
            c.flush()
    except (OSError, EOFError, ValueError):
        pass
    finally:
        _listen(c, False)
        g.leave(conn)
        conn.close()


def _parse(line):
    try:
        msg = json.loads(line)
    except ValueError:
        raise ValueError("not JSON")
    if not isinstance(msg, dict):
        raise ValueError("not an object")
    return msg


# The unix port's socket module lacks the constant; Linux's value. lwIP's buffers are small.
_SO_SNDBUF = getattr(socket, "SO_SNDBUF", 7 if sys.platform == "linux" else None)


def _tuned(cfg, handler):
    """Each connection with its send buffer set (the OS then holds at most this much for a
    listener that stopped reading)."""
    sndbuf = cfg.get("remoteio_sndbuf", 16384)

    def tuned(conn, src):
        if sndbuf and _SO_SNDBUF is not None:
            try:
                conn.s.setsockopt(socket.SOL_SOCKET, _SO_SNDBUF, sndbuf)
            except (OSError, TypeError):
                pass
        return handler(conn, src)

    return tuned


def _wake_socket(port):
    """A UDP socket on loopback that the app's thread pokes to wake the pump (same number as
    the TCP port: that one is ours). None where the port cannot: the pump then looks by time."""
    global _wake_rx, _wake_tx, _wake_addr
    try:
        addr = socket.getaddrinfo("127.0.0.1", port)[0][-1]
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind(addr)
        rx.setblocking(False)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tx.setblocking(False)
    except (OSError, AttributeError):
        return
    _wake_rx, _wake_tx, _wake_addr = rx, tx, addr


def serve(loop, cfg):
    global _limit
    port = cfg.get("remoteio_port", 2019)
    if not port or socket is None:
        return None
    gc.collect()  # the output kept for listeners: at most a quarter of the free heap (a small
    _limit = min(cfg.get("remoteio_buffer", 16384), gc.mem_free() // 4)  # board's, ESP8266)
    board_name()  # worked out now, in the main thread
    try:
        s = host.listener(cfg.get("remoteio_bind", cfg.get("bind", "127.0.0.1")), port)
    except OSError as e:  # the port is taken (another virtual board on this computer)
        print("mptui_agent: remoteio: cannot listen on port %d: %r" % (port, e))
        return None
    _wake_socket(port)
    sys.modules["remoteio"] = sys.modules[__name__]
    loop.spawn(_pump())
    g = gate.Gate(loop, cfg, cfg.get("remoteio_clients", 4))
    return g.serve(s, _tuned(cfg, lambda conn, src: _client(conn, src, cfg, g)))
