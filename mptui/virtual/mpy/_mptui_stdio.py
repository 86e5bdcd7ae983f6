# A board's stdout, on the MicroPython unix port (imported by startup.py).
#
# A board turns "\n" into "\r\n" in text output (print, sys.stdout.write: its
# mp_hal_stdout_tx_strn_cooked, shared/runtime/stdout_helpers.c) and sends sys.stdout.buffer
# bytes unchanged. The unix port writes both to fd 1 as they are and leaves the rest to the
# terminal, which cannot tell them apart. So Python-level output is sent here, in frames the
# host passes on untouched (see emit): text cooked here, byte for byte as a board; binary as
# it is. What the C runtime writes by itself (REPL prompts and echo, tracebacks, repr of
# results) comes unframed: the host gives its bare "\n" a "\r". `tag` is secret to this
# process, so no output can fake a frame.
# The functions are native code: a native frame adds no line to a traceback, so a Ctrl-C in a
# print shows as a board shows it, not with this file in it.
import builtins
import io
import micropython
import sys


def install(tag, c_print=print):
    raw_write = sys.stdout.buffer.write  # fd 1, no processing
    import _thread

    lock = _thread.allocate_lock()
    head = b"\x1b_" + tag + b"o"

    seq = [0]
    HEX2 = [b"%02x" % n for n in range(256)]

    @micropython.native
    def emit(data):
        # One frame: ESC _ <tag> o <seq, 2 hex> <payload, ESC as ESC !> ESC \
        # A Ctrl-C can cut a write short where nobody can tell how much went out: then the
        # whole frame goes again, same seq, and the host drops what it already has. The
        # KeyboardInterrupt is raised once the frame is whole.
        if not len(data):
            return
        if type(data) is not bytes:
            data = bytes(data)
        if b"\x1b" in data:
            data = data.replace(b"\x1b", b"\x1b!")
        stop = None
        lock.acquire()  # threads: one frame at a time
        try:
            n = seq[0] = (seq[0] + 1) & 0xFF
            frame = b"".join((head, HEX2[n], data, b"\x1b\\"))
            while True:
                try:
                    raw_write(frame)
                    break
                except KeyboardInterrupt as e:
                    stop = e
        finally:
            lock.release()
        if stop is not None:
            raise stop

    class Buffer(io.IOBase):
        # sys.stdout.buffer: bytes as they are
        @micropython.native
        def write(self, buf, a=None, b=None):
            if isinstance(buf, str):
                buf = buf.encode()
            view = memoryview(buf)
            if b is not None:
                view = view[a : a + b]
            elif a is not None:
                view = view[:a]
            emit(view)
            return len(view)

        @micropython.native
        def flush(self):
            pass

    class Text(io.IOBase):
        # sys.stdout / sys.stderr: "\n" -> "\r\n"
        @micropython.native
        def __init__(self, real):
            self._real = real
            self.buffer = Buffer()

        @micropython.native
        def write(self, s):
            b = s.encode() if isinstance(s, str) else bytes(s)
            emit(b.replace(b"\n", b"\r\n"))
            return len(b)

        @micropython.native
        def flush(self):
            pass

        @micropython.native
        def __getattr__(self, name):
            return getattr(self._real, name)

    out = Text(sys.stdout)
    err = Text(sys.stderr)

    class Sys:
        # what `import sys` gives: the real module, with a board's stdout and stderr
        @micropython.native
        def __init__(self, real):
            object.__setattr__(self, "_real", real)

        @micropython.native
        def __getattr__(self, name):
            if name == "stdout":
                return out
            if name == "stderr":
                return err
            return getattr(self._real, name)

        @micropython.native
        def __setattr__(self, name, value):
            setattr(self._real, name, value)

    class Collect(io.IOBase):
        # what the C print writes, gathered: one frame a print
        def __init__(self):
            self.data = bytearray()

        @micropython.native
        def write(self, b):
            self.data += b
            return len(b)

    @micropython.native
    def board_print(*args, **kw):
        if not kw:  # the common case, quicker: what print writes, in one piece
            out.write(" ".join([str(a) for a in args]) + "\n")
            return
        file = kw.get("file")
        if file is None or isinstance(file, Text):
            kw["file"] = collect = Collect()
            c_print(*args, **kw)  # a board's print: its checks, its errors
            (file or out).write(collect.data)
        else:
            c_print(*args, **kw)

    builtins.print = board_print
    sys.modules["sys"] = Sys(sys)
