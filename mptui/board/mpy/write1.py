# The helper's wb (helper.py) cut to what a session's first write of data that does not
# compress needs, sent with its call as it is (no probe of the board, no helper parts): the
# same stream, frames and answers as wb, but no deflate (the host never sets z), no size
# check apart from the sha256's, no answer for the stream's end (its \x04 ends it), and the
# board must have hashlib.sha256 (else it fails before the stream and the host takes the
# usual way). Each piece goes to the file as it comes (a view of the unit read).
# U: the unit; P: the probe's bytes; K: the call's token; d: a path the host asks about
# (cp's target): a \x07 before the \x06 says it is a folder (the first file goes into it).
def _mptui_w1(U, P, K, d):
    import micropython, os, sys
    from hashlib import sha256

    r = sys.stdin.buffer.readinto
    w = sys.stdout.write
    u = bytearray(U)
    m = memoryview(u)
    q = [U, 0]  # where the unit is read to, units read
    O = "stream out of step"

    class Stop(Exception):
        pass

    def more():
        # the next unit, once this one is used up
        if q[0] == U:
            r(u)
            q[:] = 0, q[1] + 1
            w("\x01")

    def take(n):
        o = b""
        while len(o) < n:
            more()
            c = min(n - len(o), U - q[0])
            o += m[q[0] : q[0] + c]
            q[0] += c
        return o

    def le(b):
        return int.from_bytes(b, "little")

    def ck(b):
        c = 0
        for x in b:
            c = (c * 31 + x) & 0xFFFFF
        return c

    def frame(a):
        k = take(1)[0]
        if k not in a:
            raise Stop("stopped" if k == 65 else O)
        return k

    def pieces():
        # one file's data, from its D frames up to its '.', as views of the unit
        while frame(b"D.") == 68:
            n = le(take(4))
            if n > 65536:
                raise Stop(O)
            while n:
                more()
                c = min(n, U - q[0])
                yield m[q[0] : q[0] + c]
                q[0] += c
                n -= c

    def isdir(p):
        try:
            return os.stat(p)[0] & 0x4000
        except OSError:
            pass

    micropython.kbd_intr(-1)
    try:
        w("\x07" * bool(d and isdir(d)) + "\x06" + "\x00" * P)
        i = 0
        while frame(b"FE") == 70:
            h = take(43)
            g = pieces()
            e = None
            try:
                if le(h[:2]) > 1024:
                    raise Stop(O)
                p = take(le(h[:2]))
                if ck(p) != le(h[7:11]):
                    raise ValueError("path mismatch")
                p = p.decode()
                t = p + ".mptui~"
                f = open(t, "wb")
                try:
                    s = sha256()
                    for v in g:
                        f.write(v)
                        s.update(v)
                    f.close()
                    if s.digest() != h[11:]:
                        raise ValueError("sha256 mismatch")
                    try:
                        os.rename(t, p)
                    except OSError:  # ports that will not rename onto an existing file
                        os.stat(t)
                        if isdir(p):
                            raise  # a folder stays (littlefs removes an empty one)
                        os.remove(p)
                        os.rename(t, p)
                except BaseException:
                    try:
                        f.close()
                    finally:
                        os.remove(t)
                    raise
            except Stop:
                raise
            except Exception as x:
                e = x
                for _ in g:  # (the rest of its frames)
                    pass
            x = repr((K, i, q[1], e and type(e).__name__, e and (e.args + ("",))[0]))
            w("\x02%s %d\n" % (x, ck(x.encode())))
            i += 1
    except Exception as e:
        if not (isinstance(e, Stop) and e.args[0] == "stopped"):
            import select

            s = select.poll()
            s.register(sys.stdin, 1)
            while s.poll(500):
                r(m[:1])
        raise
    finally:
        micropython.kbd_intr(3)
