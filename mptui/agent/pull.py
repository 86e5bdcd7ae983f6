# Pull mode: poll an HTTP folder made by `mptui ota bundle` / served by `mptui ota serve`
# (manifest.json + f/<sha256>) and install a new release from it, verified as a push is.
import json
import socket

from mptui_agent import board_id, host, state
from mptui_agent import release as R  # at boot: pull mode keeps it loaded


def serve(loop, cfg):
    url = cfg.get("pull")
    if not url:
        return None
    return _poll(url if url.endswith("/") else url + "/", cfg)


def _poll(url, cfg):
    yield (host.SLEEP, None, int(cfg.get("pull_first", 1) * 1000))
    while True:
        try:
            yield from check(url, cfg)
        except Exception as e:
            print("mptui_agent: pull:", repr(e))
        yield (host.SLEEP, None, int(cfg.get("pull_every", 60) * 1000))


def _get(url, timeout=10000):
    """(Conn, content length) for a GET of an http:// URL."""
    if not url.startswith("http://"):
        raise ValueError("only http:// URLs")
    hostport, _, path = url[7:].partition("/")
    h, _, port = hostport.partition(":")
    s = socket.socket()
    c = host.Conn(s, timeout)
    try:
        s.connect(socket.getaddrinfo(h, int(port or 80))[0][-1])
    except OSError as e:
        if e.args[0] not in (115, 11):  # EINPROGRESS, EAGAIN
            raise
    if (yield (host.WRITE, s, timeout)) is None:
        raise OSError(110)
    yield from c.send("GET /%s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path, hostport))
    status = yield from c.line()
    if status.split()[1] != "200":
        c.close()
        raise OSError("HTTP " + status)
    n = -1
    while True:
        ln = yield from c.line()
        if not ln:
            return c, n
        k, _, v = ln.partition(":")
        if k.lower() == "content-length":
            n = int(v)


def _body(c, n):
    out = b""
    while n < 0 or len(out) < n:
        try:
            out += yield from c.read(4096)
        except EOFError:
            break
    return out


_refused = [0]  # the seq of a manifest refused already: not tried (nor reported) again


def check(url, cfg):
    c, n = yield from _get(url + "manifest.json")
    try:
        text = yield from _body(c, n)
    finally:
        c.close()
    m = json.loads(text)
    st = state()
    seq = m.get("seq")
    # Only a newer release (its signed counter above all this board installed), never the one
    # it rolled back from; a bundle is signed for each board (`sigs`: board id -> signature).
    if not isinstance(seq, int) or seq <= st.get("top", 0) or seq == _refused[0] \
            or m.get("version") == st.get("bad"):
        return False
    m["sig"] = (m.pop("sigs", None) or {}).get(board_id(), "")
    text = json.dumps(m)
    try:
        R.verify(text, cfg.get("sign", ""))  # refused before anything is fetched?
    except R.Reject as e:
        _refused[0] = seq
        if e.code == "signature" and not m["sig"]:
            e = R.Reject("signature", "the bundle is not signed for this board (id %s)" % board_id())
        raise e
    live = {p: h for p, _, h in R.tree("/", True)}
    need = [p for p, (size, sha) in m["files"].items() if live.get(p) != sha]
    up = R.Update(text, cfg.get("sign", ""), sum(m["files"][p][0] for p in need))
    try:
        for p in need:
            size, sha = m["files"][p]
            c, _ = yield from _get(url + "f/" + sha)
            try:
                w = up.writer(p, size)
                left = size
                while left:
                    d = yield from c.read(min(left, 4096))
                    w.write(d)
                    left -= len(d)
                w.close()
            finally:
                c.close()
        up.commit()
    finally:
        up.abort()
    print("mptui_agent: pulled release", m["version"])
    yield (host.SLEEP, None, 200)
    import machine

    machine.reset()
