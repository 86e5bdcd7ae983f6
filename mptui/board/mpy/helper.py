# mptui's board helper: loaded into the board's RAM at connect (one name: _mptui).
# Output is one repr() literal per line, or a stream for file contents:
# - read: the file, escaped (ESC->ESC E, \x04->ESC D, \n->ESC N), then ESC H and its sha256;
# - read: first the size as 8 hex digits;
# - write: blocks of "%05x" length + escaped data (ESC->ESC E, \x01..\x04->ESC A..D, so that
#   nothing in it can act on the REPL) read from stdin; the board prints \x01 for each block it
#   is ready for, and replaces the file only if the sha256 of what arrived is the host's.
def _mptui_make():
    import os
    import sys
    try:
        from hashlib import sha256
    except ImportError:
        sha256 = None
    from binascii import hexlify

    def join(p, n):
        return (p if p.endswith("/") else p + "/") + n

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
        walk(p, rec, lambda r, f, s: print(repr((r, s))), ())

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
        print(repr(fhash(p, bytearray(1024))))

    def tree(p):
        buf = bytearray(1024)

        def emit(r, fp, s):
            print(repr((r, s, "" if s < 0 else fhash(fp, buf))))

        walk(p, True, emit, ())

    def mkdirs(p):
        cur = ""
        for part in p.split("/"):
            if part:
                cur += "/" + part
                try:
                    os.mkdir(cur)
                except OSError as e:
                    if e.args[0] != 17 or not os.stat(cur)[0] & 0x4000:
                        raise

    def rmtree(p):
        if os.stat(p)[0] & 0x4000:
            for e in list(os.ilistdir(p)):
                rmtree(join(p, e[0]))
            os.rmdir(p)
        else:
            os.remove(p)

    def rd(p, bs):
        w = sys.stdout.buffer.write
        h = sha256() if sha256 else None
        with open(p, "rb") as f:
            w(b"%08x" % f.seek(0, 2))
            f.seek(0)
            while True:
                b = f.read(bs)
                if not b:
                    break
                if h:
                    h.update(b)
                w(b.replace(b"\x1b", b"\x1bE").replace(b"\x04", b"\x1bD").replace(b"\n", b"\x1bN"))
        w(b"\x1bH" + (hexlify(h.digest()) if h else b""))

    def place(t, p):
        try:
            os.rename(t, p)
        except OSError:  # ports that will not rename onto an existing file
            os.remove(p)
            os.rename(t, p)

    def sh(p):
        open(p, "rb").close()  # the errors a read gives: ENOENT, EISDIR
        print(repr((os.stat(p)[6], fhash(p, bytearray(1024)) if sha256 else "")))

    def fin(t, p, n, d):
        # t came beside the REPL (WebREPL file protocol): it replaces p only if it is whole
        ok = os.stat(t)[6] == n and (not sha256 or fhash(t, bytearray(1024)) == d)
        if ok:
            place(t, p)
        else:
            os.remove(t)
        print(repr(ok))

    def wr(p, n, win, d):
        # d: the sha256 the host sent; the file is replaced only if what arrived matches
        r = sys.stdin.buffer.read
        w = sys.stdout.write
        h = sha256() if sha256 else None
        t = p + ".mptui~"
        f = open(t, "wb")
        try:
            w("\x01" * win)
            while n > 0:
                b = r(int(r(5), 16))
                b = b.replace(b"\x1bA", b"\x01").replace(b"\x1bB", b"\x02").replace(b"\x1bC", b"\x03")
                b = b.replace(b"\x1bD", b"\x04").replace(b"\x1bE", b"\x1b")
                f.write(b)
                if h:
                    h.update(b)
                n -= len(b)
                w("\x01")
            f.close()
            if h and hexlify(h.digest()).decode() != d:
                raise ValueError("sha256 mismatch")  # damaged on the way; the old file stays
            place(t, p)
        except BaseException:
            f.close()
            os.remove(t)
            raise

    def df(p):
        s = os.statvfs(p)
        print(repr((s[0] * s[2], s[0] * s[3])))

    def info():
        import gc
        gc.collect()
        mf = gc.mem_free() if hasattr(gc, "mem_free") else -1
        print(repr((mf, sha256 is not None, hasattr(sys.stdout, "buffer"))))

    class NS:
        pass

    ns = NS()
    ns.ls, ns.hash1, ns.tree, ns.mkdirs, ns.rmtree = ls, hash1, tree, mkdirs, rmtree
    ns.rd, ns.wr, ns.df, ns.info = rd, wr, df, info
    ns.sh, ns.fin = sh, fin
    return ns


_mptui = _mptui_make()
del _mptui_make
