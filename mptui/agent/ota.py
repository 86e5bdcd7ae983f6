# The OTA server (TCP, default port 2018). Protocol: PROTOCOL.md beside this file.
# Only the greeting and the login live here. The commands (ota_session.py) and the releases'
# code (release.py) are loaded when a client has logged in, and let go again when the last one
# leaves with no update in progress: a board pays their heap only while it is being updated.
import sys
from binascii import hexlify

from mptui_agent import PROTO, VERSION, board_id, gate, host

MEMORY = "err memory the board has too little free heap for this\n"
_lazy = host.Lazy("release", "ota_session")


def serve(loop, cfg):
    port = cfg.get("port", 2018)
    if not port:
        return None
    s = host.listener(cfg.get("bind", "127.0.0.1"), port)
    g = gate.Gate(loop, cfg, cfg.get("clients", 4))
    return g.serve(s, lambda c, src: _client(c, src, cfg, g))


def _client(c, src, cfg, g):
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
        run = _lazy.session()
        if run is None:
            yield from c.send(MEMORY)
            return
        yield from run(c, ln, cfg)
    except (OSError, EOFError, ValueError):
        pass
    finally:
        g.leave(c)
        c.close()
        if not g.clients:
            _unload()


def _unload():
    R = sys.modules.get("mptui_agent.release")
    if R is not None and R._busy[0] is not None:
        return  # an update (over the raw REPL, say) still uses it
    _lazy.unload()
