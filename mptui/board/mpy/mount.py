# mptui's mount: a host folder at /remote, served over the REPL's own stream (one name:
# _mptui_mnt). See mptui/board/mount.py for the host's side. Sent in parts (each `# --- part`
# is one exec: a small heap cannot compile it all at once); the host then calls
# _mptui_mnt_setup(largest block) and _mptui_mnt.go(mount point).
# Request (board -> host, stdout): \x18 M <op> <payload length, 6 hex> <payload>
# Reply (host -> board, stdin): \x18 <"+" or "-"> <length, 6 hex> <payload, escaped: ESC->ESC E,
#   \x01..\x04->ESC A..D, \r->ESC R, \n->ESC N, so that no byte of it can act on a REPL>.
#   "-": the payload is an errno. Anything before the \x18 (a key typed meanwhile) is skipped.
#   On a link that loses what the board's stdin ring cannot hold, a longer payload comes in
#   pieces of `piece` bytes, two at first, one more for each \x06 the board sends.
# Ctrl-C is off while a request is answered (a reply cut short would land in the REPL).
class _mptui_mnt:
    pass


def _mptui_mnt_setup(maxchunk, piece):
    import gc
    import micropython
    import select
    import sys

    gc.collect()
    # a reply is held several times over while it is decoded, in a heap the user's program
    # shares: a 64th of the free heap
    chunk = min(maxchunk, max(256, gc.mem_free() // 64 if hasattr(gc, "mem_free") else 1024))
    out = sys.stdout.buffer.write
    inp = sys.stdin.buffer.read
    poller = select.poll()
    poller.register(sys.stdin, select.POLLIN)

    def call(op, payload=b""):
        if isinstance(payload, str):
            payload = payload.encode()
        micropython.kbd_intr(-1)
        try:
            out(b"\x18M" + op + b"%06x" % len(payload) + payload)
            if not poller.poll(30000):
                raise OSError(110)  # ETIMEDOUT: the host is gone
            while inp(1) != b"\x18":
                pass
            h = inp(7)
            n = int(h[1:], 16)
            if piece and n > 2 * piece:
                b = []
                while n:
                    k = min(piece, n)
                    b.append(inp(k))
                    n -= k
                    if n > piece:
                        out(b"\x06")
                b = b"".join(b)
            else:
                b = inp(n) if n else b""
        finally:
            micropython.kbd_intr(3)
        if b"\x1b" in b:
            b = b.replace(b"\x1bA", b"\x01").replace(b"\x1bB", b"\x02").replace(b"\x1bC", b"\x03")
            b = b.replace(b"\x1bD", b"\x04").replace(b"\x1bR", b"\r").replace(b"\x1bN", b"\n")
            b = b.replace(b"\x1bE", b"\x1b")
        if h[0] == 45:  # "-"
            raise OSError(int(b))
        return b

    def num(b):
        return [int(x, 16) for x in b.split()]

    ns = _mptui_mnt
    ns.call, ns.num, ns.chunk = call, num, chunk


# --- part: the file
def _mptui_mnt_file():
    import io

    call, num, chunk = _mptui_mnt.call, _mptui_mnt.num, _mptui_mnt.chunk

    class File(io.IOBase):
        # reads come in blocks of `chunk` bytes (the first with the open)
        def __init__(self, fd, text, data, canread):
            self.fd = fd  # 255: the host sent it all with the open and keeps no handle
            self.text = text
            self.rb = data
            self.ro = 0  # what of rb is read
            self.canread = canread

        def __enter__(self):
            return self

        def __exit__(self, *a):
            self.close()

        def __iter__(self):
            return self

        def __next__(self):
            line = self.readline()
            if not line:
                raise StopIteration
            return line

        def ioctl(self, req, arg):
            if req == 4:  # close
                self.close()
            elif req == 11:  # the buffer a C reader (import) uses
                return 505
            elif req != 1:  # flush
                return -1
            return 0

        def _t(self, b):
            return str(b, "utf-8") if self.text else b

        def _more(self):
            # False at the end of the file
            if self.fd == 255:
                return False
            b = call(b"R", bytes([self.fd]) + b"%x" % chunk)
            self.rb = self.rb[self.ro:] + b if self.ro < len(self.rb) else b
            self.ro = 0
            return len(b) > 0

        def _check(self):
            if self.fd is None:
                raise ValueError("I/O operation on closed file")
            if not self.canread:
                raise OSError(22)

        def read(self, n=-1):
            self._check()
            if not self.text or n < 0:
                return self._t(self._take(n))
            # n characters, as a board's text file gives: n bytes never hold more than n
            s = ""
            while len(s) < n:
                b = self._take(n - len(s))
                if not b:
                    break
                s += str(b, "utf-8")
            return s

        def _take(self, n):
            # up to n bytes (all with n < 0); in text, the last character whole
            while n < 0 or len(self.rb) - self.ro < n:
                if not self._more():
                    break
            end = len(self.rb) if n < 0 else min(len(self.rb), self.ro + n)
            while self.text:
                while end < len(self.rb) and (self.rb[end] & 0xC0) == 0x80:
                    end += 1
                if end < len(self.rb) or end == self.ro or self.rb[end - 1] < 0x80:
                    break
                k = end - self.ro
                if not self._more():
                    break
                end = k  # (the block before was moved to the start)
            b = self.rb[self.ro:end]
            self.ro = end
            return b

        def readinto(self, buf):
            self._check()
            if self.ro >= len(self.rb):
                self._more()
            n = min(len(buf), len(self.rb) - self.ro)
            buf[:n] = self.rb[self.ro:self.ro + n]
            self.ro += n
            return n

        def readline(self):
            self._check()
            while True:
                i = self.rb.find(b"\n", self.ro)
                if i >= 0 or not self._more():
                    break
            end = len(self.rb) if i < 0 else i + 1
            b = self.rb[self.ro:end]
            self.ro = end
            return self._t(b)

        def readlines(self):
            return list(self)

        def write(self, b):
            # at once (a file nobody closes still gets its bytes), in blocks
            if self.fd is None:
                raise ValueError("I/O operation on closed file")
            if isinstance(b, str):
                b = b.encode()
            self._unread()
            for i in range(0, len(b), chunk):
                call(b"W", bytes([self.fd]) + b[i:i + chunk])
            return len(b)

        def flush(self):
            pass

        def _unread(self):
            # a write goes where the reader is, not where the host's read ahead got to
            if self.ro < len(self.rb) and self.fd != 255:
                call(b"K", bytes([self.fd]) + b"%x 1" % (self.ro - len(self.rb)))
            self.rb, self.ro = b"", 0

        def seek(self, off, whence=0):
            if self.fd is None:
                raise ValueError("I/O operation on closed file")
            if self.fd == 255:  # all here
                base = (0, self.ro, len(self.rb))[whence]
                self.ro = max(0, min(len(self.rb), base + off))
                return self.ro
            if whence == 1:
                off -= len(self.rb) - self.ro
            self.rb, self.ro = b"", 0
            return num(call(b"K", bytes([self.fd]) + b"%x %x" % (off, whence)))[0]

        def tell(self):
            return self.seek(0, 1)

        def close(self):
            if self.fd is None:
                return
            fd, self.fd = self.fd, None
            self.rb = b""
            if fd != 255:
                call(b"C", bytes([fd]))

    _mptui_mnt.File = File


_mptui_mnt_file()
del _mptui_mnt_file


# --- part: the filesystem
def _mptui_mnt_fs():
    import os

    call, num, File = _mptui_mnt.call, _mptui_mnt.num, _mptui_mnt.File

    class FS:
        def __init__(self):
            self.cwd = "/"

        def _p(self, p):
            return p if p.startswith("/") else self.cwd + p

        def mount(self, ro, mkfs):
            pass

        def umount(self):
            pass

        def chdir(self, p):
            p = self._p(p)
            if not p.endswith("/"):
                p += "/"
            if p != "/" and not self.stat(p)[0] & 0x4000:
                raise OSError(20)
            self.cwd = p

        def getcwd(self):
            return self.cwd if self.cwd == "/" else self.cwd[:-1]

        def stat(self, p):
            m, s, t = num(call(b"S", self._p(p)))
            return (m, 0, 0, 0, 0, 0, s, t, t, t)

        def statvfs(self, p):
            return tuple(num(call(b"V", self._p(p))))

        def ilistdir(self, p):
            p = self._p(p)
            i = 0
            while True:
                b = call(b"L", "%x " % i + p)
                more = b[0] == 43  # "+"
                for e in b[1:].split(b"\x00")[:-1]:
                    t, s, n = e.split(b" ", 2)
                    i += 1
                    yield (str(n, "utf-8"), int(t, 16), 0, int(s, 16))
                if not more:
                    return

        def open(self, p, mode):
            b = call(b"O", mode + "\x00" + self._p(p))
            return File(b[0], "b" not in mode, b[1:], "r" in mode or "+" in mode)

        def remove(self, p):
            call(b"D", self._p(p))

        def mkdir(self, p):
            call(b"M", self._p(p))

        def rmdir(self, p):
            call(b"X", self._p(p))

        def rename(self, a, b):
            call(b"N", self._p(a) + "\x00" + self._p(b))

    try:
        from vfs import mount, umount
    except ImportError:
        from os import mount, umount

    def go(path):
        try:
            umount(path)  # an old mount whose host is gone
        except OSError:
            pass
        mount(FS(), path)
        os.chdir(path)

    _mptui_mnt.go = go


_mptui_mnt_fs()
del _mptui_mnt_fs
