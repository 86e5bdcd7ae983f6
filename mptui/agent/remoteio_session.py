# A RemoteIO client's messages once it has logged in: calls, listening, the output it is sent.
# remoteio.py loads this module then, and lets it go when the last client has left. Wire
# format: REMOTEIO.md beside this file.
import builtins
import gc
import sys
import time

from mptui_agent import BOOT_ID, VERSION, board_name, host, state
from mptui_agent import remoteio as rio
from mptui_agent.remoteio import MEMORY, _err, _line, _parse

try:
    import os
except ImportError:  # pragma: no cover
    os = None
try:
    import io
except ImportError:  # pragma: no cover
    io = None


def session(conn, msg, cfg, limit):
    """Serve a logged-in client until it leaves; `msg`: a message it sent already, or None."""
    c = _Client(conn.s)
    try:
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
                yield (host.SLEEP, None, rio.RETRY)
                c.flush()
        while c.pending() and not c.dead:  # the last replies, then close
            yield (host.SLEEP, None, rio.RETRY)
            c.flush()
    except MemoryError:  # told, then the connection closes
        c.out = b""
        yield from conn.send(MEMORY)
    finally:
        _listen(c, False)


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
                rio._add(data[:cut].decode())
            except UnicodeError:
                rio._add("".join(chr(b) if b < 128 else "?" for b in data[:cut]))
            return len(buf)

        def readinto(self, buf):
            return None

        def ioctl(self, op, arg):
            return 0

else:  # pragma: no cover
    _Tee = None


def _attach():
    """Capture output: a free dupterm slot where the port has them, else wrap print()."""
    if rio._attached:
        return
    if _Tee is not None and hasattr(os, "dupterm"):
        for i in (1, 0):
            try:
                prev = os.dupterm(None, i)
            except (OSError, ValueError, TypeError, IndexError):
                continue
            if prev is None:
                os.dupterm(_Tee(), i)
                rio._attached, rio._slot = "dupterm", i
                return
            os.dupterm(prev, i)  # taken (WebREPL, a display...): leave it be
    builtins.print = rio._print
    rio._attached = "print"




def _detach():
    if rio._attached == "dupterm":
        os.dupterm(None, rio._slot)
    elif rio._attached == "print" and builtins.print is rio._print:
        builtins.print = rio._orig_print
    rio._attached = None
    with rio._lock:
        rio._items = []
        rio._size = 0


# -- built-in calls ---------------------------------------------------------------------------


def _version():
    st = state()
    return {"agent": VERSION, "proto": rio.PROTO, "name": board_name(), "release": st.get("v"),
            "boot": BOOT_ID, "platform": sys.platform, "micropython": sys.version}


def _free_mem(collect=False):
    if collect:
        gc.collect()
    return gc.mem_free()


def _stats_call(collect=False):
    if collect:
        gc.collect()
    with rio._lock:
        out = dict(rio._stats)
        out["held"] = rio._size
    out["listeners"] = len(rio._listeners)
    out["alloc"] = gc.mem_alloc()
    out["capture"] = rio._attached
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
        with rio._lock:
            f = rio._handlers.get(name)
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
    if yes and c.next < 0:
        if not rio._listeners:
            _attach()
        with rio._lock:
            c.next = rio._first + len(rio._items)  # from now on
        rio._listeners.append(c)
    elif not yes and c.next >= 0:
        c.next = -1
        rio._listeners.remove(c)
        if not rio._listeners:
            _detach()


def _feed(c):
    """Move new output from the shared list into one listener's send buffer, TAKE characters
    at a time (a message each), while its socket takes them."""
    c.flush()
    while c.pending() <= 512:  # else its socket is full: the shared list keeps the rest
        with rio._lock:
            items, first = rio._items, rio._first
            dropped = first - c.next if c.next < first else 0
            if dropped:
                c.next = first
            i = j = c.next - first
            n = 0
            while j < len(items) and (j == i or n + len(items[j]) <= rio.TAKE):
                n += len(items[j])
                j += 1
            text = "".join(items[i:j]) if j > i else ""
            c.next = first + j
            low = min(x.next for x in rio._listeners)
            if low > first:  # every listener has taken these
                for s in items[: low - first]:
                    rio._size -= len(s) + rio.CHUNK
                del items[: low - first]
                rio._first = low
            items = None
        if dropped:
            rio._stats["dropped"] += dropped
            c.queue(_line({"t": "drop", "n": dropped}))
        if not text:
            return
        c.queue(_line({"t": "out", "d": text}))
        text = None
        c.flush()
