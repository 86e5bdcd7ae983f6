# The helper's wb (helper.py) cut to what a session's first write of data that does not
# compress needs, sent with its call as it is (no probe of the board, no helper parts): the
# same call, stream, frames and answers as wb, but no deflate (the host never sets z), no
# size check apart from the sha256's, and the board must have hashlib.sha256 (else it fails
# before the stream and the host takes the usual way). Each piece goes to the file as it
# comes (a view of the unit read).
def _mptui_w1(U, wbits, probe, bs, tok):
    import micropython, os, sys
    from hashlib import sha256

    rin = sys.stdin.buffer.readinto
    w = sys.stdout.write
    u = bytearray(U)
    um = memoryview(u)
    st = [U, 0]  # where the unit is read to, units read
    O = "stream out of step"

    class Stop(Exception):
        pass

    def more():
        # the next unit, once this one is used up
        if st[0] == U:
            rin(u)
            st[:] = 0, st[1] + 1
            w("\x01")

    def take(n):
        out = b""
        while len(out) < n:
            more()
            c = min(n - len(out), U - st[0])
            out += um[st[0] : st[0] + c]
            st[0] += c
        return out

    def le(b):
        return int.from_bytes(b, "little")

    def ck(b):
        c = 0
        for x in b:
            c = (c * 31 + x) & 0xFFFFF
        return c

    def frame(want):
        k = take(1)[0]
        if k not in want:
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
                c = min(n, U - st[0])
                yield um[st[0] : st[0] + c]
                st[0] += c
                n -= c

    def say(i, e):
        r = repr((tok, i, st[1], e and type(e).__name__, e and (e.args + ("",))[0]))
        w("\x02%s %d\n" % (r, ck(r.encode())))

    micropython.kbd_intr(-1)
    try:
        w("\x06" + "\x00" * probe)
        i = 0
        while frame(b"FE") == 70:
            hd = take(43)
            g = pieces()
            e = None
            try:
                if le(hd[:2]) > 1024:
                    raise Stop(O)
                p = take(le(hd[:2]))
                if ck(p) != le(hd[7:11]):
                    raise ValueError("path mismatch")
                p = p.decode()
                t = p + ".mptui~"
                f = open(t, "wb")
                try:
                    h = sha256()
                    for v in g:
                        f.write(v)
                        h.update(v)
                    f.close()
                    if h.digest() != hd[11:]:
                        raise ValueError("sha256 mismatch")
                    try:
                        os.rename(t, p)
                    except OSError:  # ports that will not rename onto an existing file
                        os.stat(t)
                        if os.stat(p)[0] & 0x4000:
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
            say(i, e)
            i += 1
        say(-1, None)
    except Exception as e:
        if not (isinstance(e, Stop) and e.args[0] == "stopped"):
            import select

            pl = select.poll()
            pl.register(sys.stdin, 1)
            while pl.poll(500):
                rin(um[:1])
        raise
    finally:
        micropython.kbd_intr(3)
