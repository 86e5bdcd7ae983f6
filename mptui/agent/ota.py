# The OTA server (TCP, default port 2018). Protocol: PROTOCOL.md beside this file.
import os
from binascii import hexlify

from mptui_agent import CONFIG, PROTO, VERSION, board_id, gate, host
# Imported here, at boot, in the main thread: importing from the agent's thread later crashed
# the unix port (its threads run without a GIL, as on rp2).
from mptui_agent import release as R


def serve(loop, cfg):
    port = cfg.get("port", 2018)
    if not port:
        return None
    s = host.listener(cfg.get("bind", "127.0.0.1"), port)
    g = gate.Gate(loop, cfg, cfg.get("clients", 4))
    return g.serve(s, lambda c, src: _client(c, src, cfg, g))


def _client(c, src, cfg, g):
    up = None
    try:
        wait = gate.blocked(src)
        if wait:
            yield from c.send("err backoff too many wrong passwords: wait %d s\n" % (wait // 1000 + 1))
            return
        pw = cfg.get("login", "")
        nonce = host.nonce() if pw else b""
        yield from c.send("MPTUI-OTA %d %s %s %s\n" % (PROTO, VERSION, hexlify(nonce).decode() if pw else "-",
                                                       board_id()))
        ln = yield from c.line()  # the login (with no password: the first command)
        if pw:
            why = gate.login(src, ln.startswith("auth ") and host.answer_ok(pw, nonce, ln[5:]))
            if why == "backoff":
                yield from c.send("err backoff too many wrong passwords: wait %d s\n" % (gate.blocked(src) // 1000 + 1))
                return
            if why:
                yield (host.SLEEP, None, 500)  # slows down guessing
                yield from c.send("err denied wrong password\n")
                return
        if not g.admit(c, cfg.get("timeout", 30) * 1000):
            yield from c.send("err toomany too many OTA sessions (%d)\n" % g.max_clients)
            return
        if pw or ln.startswith("auth"):  # (with no password a client may log in all the same)
            yield from c.send("ok\n")
            ln = None
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
    except (OSError, EOFError, ValueError):
        pass
    finally:
        if up is not None:
            up.abort()
        g.leave(c)
        c.close()


def _receive(c, up, path, size):
    try:
        w = up.writer(path, size)
    except R.Reject:
        yield from _skip(c, size)  # keep the stream in step
        raise
    try:
        left = size
        while left:
            d = yield from c.read(min(left, 4096))
            w.write(d)
            left -= len(d)
    except BaseException:
        w.f.close()
        raise
    w.close()


def _skip(c, n):
    while n > 0:
        n -= len((yield from c.read(min(n, 4096))))


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
        buf = bytearray(2048)
        with open(p, "rb") as f:
            while True:
                n = f.readinto(buf)
                if not n:
                    break
                yield from c.send(memoryview(buf)[:n])
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
