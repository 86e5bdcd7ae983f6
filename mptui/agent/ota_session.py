# An OTA client's commands once it has logged in (ota.py loads this module then, and lets it
# go when the last client has left). Protocol: PROTOCOL.md beside this file.
import gc
import os

from mptui_agent import CONFIG, host
from mptui_agent import release as R
from mptui_agent.ota import MEMORY


def session(c, ln, cfg):
    """Serve a logged-in client until it leaves; `ln`: a command it sent already, or None."""
    up = None
    try:
        while True:
            if ln is None:
                ln = yield from c.line(1024)
            cmd, _, arg = ln.partition(" ")
            try:
                if cmd == "update":
                    n, need = arg.split()
                    if not 0 < int(n) <= cfg.get("max_manifest", 65536):
                        yield from c.send("err manifest the manifest is too large\n")
                        return
                    text = yield from c.exact(int(n))
                    if up is not None:
                        up.abort()
                    up = None
                    up = R.Update(text, cfg.get("sign", ""), int(need))
                    yield from c.send("ok\n")
                elif cmd == "file":
                    size, _, path = arg.partition(" ")
                    if up is None:
                        yield from _skip(c, int(size))  # keep the stream in step
                        raise R.Reject("state", "no update in progress")
                    yield from _receive(c, up, path, int(size))
                    yield from c.send("ok\n")
                elif cmd == "commit":
                    if up is None:
                        raise R.Reject("state", "no update in progress")
                    u, up = up, None
                    u.commit()
                    yield from c.send("ok %s\n" % u.version)
                    if arg != "noreset":
                        yield from _reset(c)
                        return
                elif cmd == "abort":
                    if up is not None:
                        up.abort()
                        up = None
                    yield from c.send("ok\n")
                else:
                    r = yield from _command(c, cmd, arg)
                    if r is False:
                        return
            except R.Reject as e:
                if up is not None:
                    up.abort()
                    up = None
                yield from c.send("err %s %s\n" % (e.code, e.why))
                if e.code == "hash":
                    return  # the rest of the stream cannot be trusted
            except (ValueError, KeyError):
                yield from c.send("err proto bad command %r\n" % ln[:40])
            ln = None
    except MemoryError:  # told, then the connection closes: the rest of its stream is lost
        if up is not None:
            up.abort()
            up = None
        yield from c.send(MEMORY)
    finally:
        if up is not None:
            up.abort()


def _receive(c, up, path, size):
    try:
        w = up.writer(path, size)
    except R.Reject:
        yield from _skip(c, size)  # keep the stream in step
        raise
    try:
        buf = _buffer(size)
        left = size
        while left:
            n = yield from c.readinto(buf[: min(left, len(buf))])
            w.write(buf[:n])
            left -= n
    except BaseException:
        w.f.close()
        raise
    w.close()


def _skip(c, n):
    buf = _buffer(n)
    while n > 0:
        n -= yield from c.readinto(buf[: min(n, len(buf))])


def _buffer(size):
    """A buffer for one file's bytes: up to 4 KiB, less on a small (or broken up) heap."""
    gc.collect()
    n = max(min(size, 4096, gc.mem_free() // 8), 256)
    while True:
        try:
            return memoryview(bytearray(n))
        except MemoryError:
            if n <= 128:
                raise
            n //= 2


def _path(arg):
    p = "/" + "/".join(x for x in arg.strip().split("/") if x and x != "." and x != "..")
    return p


def _reset(c):
    c.close()
    yield (host.SLEEP, None, 200)
    import machine

    machine.reset()


def _command(c, cmd, arg):
    if cmd == "ping":
        yield from c.send("ok pong\n")
    elif cmd == "version":
        import json

        yield from c.send("ok %s\n" % json.dumps(R.info()))
    elif cmd in ("list", "hashes"):
        import json

        items = R.tree(_path(arg or "/"), cmd == "hashes")
        yield from c.send("ok %d\n" % len(items))
        for it in items:
            yield from c.send(json.dumps(it) + "\n")
    elif cmd == "get":
        p = _path(arg)
        if p == CONFIG:
            raise R.Reject("protected", "the agent's settings cannot be read")
        try:
            size = os.stat(p)[6]
        except OSError:
            raise R.Reject("notfound", "no such file %s" % p)
        yield from c.send("ok %d\n" % size)
        with open(p, "rb") as f:
            for part in R.chunks(f, _buffer(size)):
                yield from c.send(part)
    elif cmd == "remove":
        p = _path(arg)
        R.check_path(p[1:])
        try:
            os.remove(p)
        except OSError:
            raise R.Reject("notfound", "no such file %s" % p)
        yield from c.send("ok\n")
    elif cmd == "passwd":
        R.set_login_key(arg.strip())
        yield from c.send("ok\n")
    elif cmd == "good":
        import mptui_agent

        mptui_agent.mark_good()
        yield from c.send("ok\n")
    elif cmd == "rollback":
        R.rollback("rolled back on request")
        yield from c.send("ok %s\n" % R.state().get("v"))
        yield from _reset(c)
        return False
    elif cmd == "reset":
        yield from c.send("ok\n")
        yield from _reset(c)
        return False
    elif cmd == "bye":
        yield from c.send("ok\n")
        return False
    else:
        yield from c.send("err proto unknown command %r\n" % cmd[:20])
