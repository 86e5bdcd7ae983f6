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
# Resident here: what the app calls, the output list, the server and the login. What a
# logged-in client does (calls, listening, capture) is remoteio_session.py, loaded when the
# first client logs in and let go when the last one leaves.
import builtins
import gc
import json
import sys
from binascii import hexlify

from mptui_agent import BOOT_ID, VERSION, board_id, board_name, gate, host

try:
    import socket
except ImportError:  # pragma: no cover
    socket = None
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
_slot = 0  # the dupterm slot taken
_lazy = host.Lazy("remoteio_session")
MEMORY = b'{"t": "err", "id": null, "kind": "memory", "e": "the board has too little free heap for this"}\n'


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


def _err(cid, kind, text):
    return _line({"t": "err", "id": cid, "kind": kind, "e": text})


def _line(obj):
    return (json.dumps(obj) + "\n").encode()


# -- the agent's side -------------------------------------------------------------------------


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
            s = sys.modules.get("mptui_agent.remoteio_session")  # (loaded while any listen)
            if s is not None:
                for c in list(_listeners):
                    s._feed(c)
            s = None


def _client(conn, src, cfg, g):
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
        run = _lazy.session()
        if run is None:
            yield from conn.send(MEMORY)
            return
        yield from run(conn, msg, cfg, limit)
    except (OSError, EOFError, ValueError):
        pass
    finally:
        g.leave(conn)
        conn.close()
        if not g.clients:
            _lazy.unload()


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
