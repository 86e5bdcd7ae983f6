# mptui's board helper: loaded into the board's RAM, a part at a time as operations need them
# (one global name: _mptui). The host sends each part checked (crc32 or sha256) and, where the
# board has deflate, compressed. Every path arrives padded with NULs (q() strips them), so that
# the REPL's compiler does not keep a short string literal interned for good.
# Output is one repr() literal per line, or a stream:
# - rd: the size as 8 hex digits, the file's bytes as they are, its sha256 (see rd below);
# - wb: files from stdin as frames, read in units of U bytes (\x01 after each: the host never
#   has more in flight than the board has room for), raw binary with Ctrl-C off: see wb below.

# part: base
def _mptui_make():
    import os
    import sys

    class M:
        pass

    m = M()
    m.os = os

    def join(p, n):
        return (p if p.endswith("/") else p + "/") + n

    def q(p):
        return p.rstrip("\0")

    def place(t, p):
        try:
            os.rename(t, p)
        except OSError:  # ports that will not rename onto an existing file
            os.stat(t)  # (only when the new file is there: else p stays)
            if os.stat(p)[0] & 0x4000:
                raise  # a folder stays (littlefs removes an empty one)
            os.remove(p)
            os.rename(t, p)

    def ck(b):
        # a short check of a path or an answer line (wb): any one byte changed changes it
        c = 0
        for x in b:
            c = (c * 31 + x) & 0xFFFFF
        return c

    m.sys, m.join, m.q, m.place, m.ck = sys, join, q, place, ck
    return m


_mptui = _mptui_make()
del _mptui_make

# part: ls
def _mptui_make(m):
    os, join, q = m.os, m.join, m.q

    def walk(p, rec, emit, rel):
        # rel: the names from the folder listed, as a tuple (a name may hold a "/": the host
        # judges the names; a folder whose name is not one is not entered)
        for e in os.ilistdir(p):
            n = e[0]
            fp = join(p, n)
            if e[1] & 0x4000:
                emit(rel + (n,), fp, -1)
                if rec and n not in ("", ".", "..") and "/" not in n:
                    walk(fp, rec, emit, rel + (n,))
            else:
                emit(rel + (n,), fp, e[3] if len(e) > 3 else os.stat(fp)[6])

    def ls(p, rec):
        walk(q(p), rec, lambda r, f, s: print(repr((r, s))), ())

    m.walk, m.ls = walk, ls


_mptui_make(_mptui)
del _mptui_make

# part: ops
def _mptui_make(m):
    os, join, q = m.os, m.join, m.q

    def mkdirs(p):
        cur = ""
        for part in q(p).split("/"):
            if part:
                cur += "/" + part
                try:
                    os.mkdir(cur)
                except OSError as e:
                    if e.args[0] != 17 or not os.stat(cur)[0] & 0x4000:
                        raise

    def rmtree(p):
        p = q(p)
        if os.stat(p)[0] & 0x4000:
            for e in list(os.ilistdir(p)):
                rmtree(join(p, e[0]))
            os.rmdir(p)
        else:
            os.remove(p)

    m.mkdirs, m.rmtree = mkdirs, rmtree


_mptui_make(_mptui)
del _mptui_make

# part: hash
def _mptui_make(m):
    os, q = m.os, m.q
    from binascii import hexlify
    from hashlib import sha256

    def fhash(fp, buf):
        h = sha256()
        mv = memoryview(buf)
        with open(fp, "rb") as f:
            while True:
                n = f.readinto(buf)
                if not n:
                    break
                h.update(mv[:n])
        return hexlify(h.digest()).decode()

    def hash1(p):
        print(repr(fhash(q(p), bytearray(1024))))

    def tree(p):
        buf = bytearray(1024)

        def emit(r, fp, s):
            print(repr((r, s, "" if s < 0 else fhash(fp, buf))))

        m.walk(q(p), True, emit, ())

    def sh(p):
        p = q(p)
        open(p, "rb").close()  # the errors a read gives: ENOENT, EISDIR
        print(repr((os.stat(p)[6], fhash(p, bytearray(1024)))))

    def fin(t, p, n, d):
        # t came beside the REPL (WebREPL file protocol): it replaces p only if it is whole
        t, p = q(t), q(p)
        ok = os.stat(t)[6] == n and fhash(t, bytearray(1024)) == d
        if ok:
            m.place(t, p)
        else:
            os.remove(t)
        print(repr(ok))

    m.hash1, m.tree, m.sh, m.fin = hash1, tree, sh, fin


_mptui_make(_mptui)
del _mptui_make

# part: rd
# A file to stdout: its size (8 hex digits) and 'h' (its sha256 follows the data) or '-',
# then the bytes as they are (exactly that many), then the sha256 (32 bytes). c: the path's
# crc32 (a path damaged on the way must not read another file). The function stands alone:
# a read before the board was asked what it is sends it as it is (one-shot) and calls it.
def _mptui_rd(p, c, bs):
    import gc
    import sys
    try:
        from binascii import crc32
    except ImportError:
        crc32 = None
    if crc32 and crc32(p.encode()) != c:
        raise OSError(5)
    try:
        from hashlib import sha256
        h = sha256()
    except ImportError:
        h = None
    w = sys.stdout.buffer.write
    gc.collect()
    free = gc.mem_free() if hasattr(gc, "mem_free") else -1
    while bs > 256 and 0 <= free < 32 * bs:
        bs //= 2
    b = bytearray(bs)
    v = memoryview(b)
    with open(p.rstrip("\0"), "rb") as f:
        n = f.seek(0, 2)
        f.seek(0)
        w(b"%08x" % n + (b"h" if h else b"-"))
        while n > 0:
            k = f.readinto(v[: min(bs, n)])
            if not k:
                raise OSError(5)  # (it shrank: the host counts on n bytes)
            n -= k
            if h:
                h.update(v[:k])
            w(v[:k])
    if h:
        w(h.digest())


_mptui.rd = _mptui_rd
del _mptui_rd

# part: wb
# Files from stdin, as frames (integers little-endian):
#   F plen:2 size:4 z:1 pck:4 digest:32 path   a file begins (z: its data is one raw deflate
#                                         stream; pck: ck() of the path, checked before use:
#                                         a name damaged on the way opens no file)
#   D n:4 <n bytes>                       a piece of its data
#   .                                     its end: checked (size, sha256 or crc32), renamed
#   A                                     the host stops: the file in hand is dropped
#   E                                     the end
# Once Ctrl-C is off the board prints \x06 (and first `probe` NULs when asked): the host sends
# nothing before. The stream comes in units of U bytes (the last one padded); after reading
# each, the board prints \x01. After each file: \x02, a repr (tok, index, units read, error
# type, its value), a space, ck() of that repr and a newline (tok: the host's for this call, so
# that a line damaged, or late from an earlier call, is never taken for another file's); at
# the end the same with index -1. Ctrl-C is off meanwhile (the data is
# raw binary); when the stream is out of step (a byte lost on the way) what is still coming
# is read and dropped until the link is quiet, then the error ends the call.
def _mptui_make(m):
    import micropython
    os, sys = m.os, m.sys
    try:
        from hashlib import sha256
    except ImportError:
        sha256 = None
    try:
        from binascii import crc32
    except ImportError:
        crc32 = None
    try:
        import deflate
    except ImportError:
        deflate = None
    import io

    class Stop(Exception):
        pass

    ck = m.ck

    def le(b):
        return int.from_bytes(b, "little")

    O = "stream out of step"

    def wb(U, wbits, probe, bs, tok):
        rin = sys.stdin.buffer.readinto
        w = sys.stdout.write
        u = bytearray(U)
        um = memoryview(u)
        st = [U, 0]  # where the unit is read to, units read

        def unit():
            rin(u)
            st[0] = 0
            st[1] += 1
            w("\x01")

        def take(n):
            out = bytearray(n)
            k = 0
            while k < n:
                if st[0] == U:
                    unit()
                c = min(n - k, U - st[0])
                out[k : k + c] = um[st[0] : st[0] + c]
                st[0] += c
                k += c
            return out

        class Src(io.IOBase if hasattr(io, "IOBase") else object):
            # one file's data, from its D frames up to its '.'
            def __init__(s):
                s.n = s.end = 0

            def readinto(s, b):
                while not s.n:
                    if s.end:
                        return 0
                    k = take(1)[0]
                    if k == 68:
                        s.n = le(take(4))
                        if s.n > 65536:
                            raise Stop(O)
                    elif k == 46:
                        s.end = 1
                    else:
                        raise Stop("stopped" if k == 65 else O)
                if st[0] == U:
                    unit()
                c = min(len(b), s.n, U - st[0])
                b[:c] = um[st[0] : st[0] + c]
                st[0] += c
                s.n -= c
                return c

        buf = bytearray(bs)
        bm = memoryview(buf)

        def fill(src):
            k = 0
            while k < bs:
                c = src.readinto(bm[k:])
                if not c:
                    break
                k += c
            return k

        def one(p, size, z, d, s):
            t = p + ".mptui~"
            f = open(t, "wb")
            try:
                h = sha256() if sha256 else None
                c32 = n = 0
                src = deflate.DeflateIO(s, deflate.RAW, wbits) if z else s
                while True:
                    c = fill(src)
                    if not c:
                        break
                    v = bm[:c]
                    f.write(v)
                    n += c
                    if h:
                        h.update(v)
                    elif crc32:
                        c32 = crc32(v, c32)
                while s.readinto(bm):
                    pass
                f.close()
                if n != size:
                    raise ValueError("size mismatch")
                if (h and h.digest() != d) or (not h and crc32 and c32 != le(d[:4])):
                    raise ValueError("sha256 mismatch")
                m.place(t, p)
            except BaseException:
                try:
                    f.close()
                finally:  # (a close that fails, flushing to a full board, drops it too)
                    os.remove(t)
                raise

        def say(i, e):
            r = repr((tok, i, st[1]) + ((type(e).__name__, e.args[0] if e.args else "") if e
                                         else (None, None)))
            w("\x02%s %d\n" % (r, ck(r.encode())))

        def drain():
            import select

            pl = select.poll()
            pl.register(sys.stdin, select.POLLIN)
            while pl.poll(500):
                rin(um[:1])

        micropython.kbd_intr(-1)
        try:
            w("\x06" + "\x00" * probe)
            i = 0
            while True:
                k = take(1)[0]
                if k == 69:
                    break
                if k != 70:
                    raise Stop("stopped" if k == 65 else O)
                hd = take(43)
                if le(hd[:2]) > 1024:
                    raise Stop(O)
                s = Src()
                try:
                    pb = bytes(take(le(hd[:2])))
                    if ck(pb) != le(hd[7:11]):
                        raise ValueError("path mismatch")
                    one(pb.decode(), le(hd[2:6]), hd[6], bytes(hd[11:]), s)
                    e = None
                except Stop:
                    raise
                except Exception as x:
                    e = x
                    while not s.end:
                        s.readinto(bm)
                say(i, e)
                i += 1
            say(-1, None)
        except Exception as e:
            if not (isinstance(e, Stop) and e.args[0] == "stopped"):
                drain()
            raise
        finally:
            micropython.kbd_intr(3)

    m.wb = wb


_mptui_make(_mptui)
del _mptui_make
