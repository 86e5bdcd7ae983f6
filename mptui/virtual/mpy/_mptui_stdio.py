# A board's stdout, on the MicroPython unix port (imported by startup.py).
#
# A board turns "\n" into "\r\n" in text output (print, sys.stdout.write: its
# mp_hal_stdout_tx_strn_cooked, shared/runtime/stdout_helpers.c) and sends sys.stdout.buffer
# bytes unchanged. The unix port writes both to fd 1 as they are and leaves the rest to the
# terminal, which cannot tell them apart. So Python-level output is sent here, in frames the
# host passes on untouched:  ESC _ <tag> o <hex length> ESC \  <payload>
# (text cooked here, byte for byte as a board; binary as it is). What the C runtime writes by
# itself (REPL prompts and echo, tracebacks, repr of results) comes unframed: the host gives its
# bare "\n" a "\r". `tag` is secret to this process, so no output can fake a frame.
import builtins
import io
import sys


def install(tag, c_print=print):
    raw_write = sys.stdout.buffer.write  # fd 1, no processing
    import _thread

    lock = _thread.allocate_lock()
    head = b"\x1b_" + tag + b"o"

    def put(view):
        # all of it, even when a KeyboardInterrupt comes half-way (it is raised at the end):
        # a frame cut short would swallow what follows it
        n, size, stop = 0, len(view), None
        while n < size:
            try:
                while n < size:
                    n += raw_write(view[n:])
            except KeyboardInterrupt as e:
                stop = e
        if stop is not None:
            raise stop

    def emit(data):
        if not len(data):
            return
        with lock:  # threads: one frame at a time
            put(memoryview(head + b"%x\x1b\\" % len(data)))
            put(memoryview(data))

    class Buffer(io.IOBase):
        # sys.stdout.buffer: bytes as they are
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

        def flush(self):
            pass

    class Text(io.IOBase):
        # sys.stdout / sys.stderr: "\n" -> "\r\n"
        def __init__(self, real):
            self._real = real
            self.buffer = Buffer()

        def write(self, s):
            b = s.encode() if isinstance(s, str) else bytes(s)
            emit(b.replace(b"\n", b"\r\n") if b"\n" in b else b)
            return len(b)

        def flush(self):
            pass

        def __getattr__(self, name):
            return getattr(self._real, name)

    out = Text(sys.stdout)
    err = Text(sys.stderr)

    class Sys:
        # what `import sys` gives: the real module, with a board's stdout and stderr
        def __init__(self, real):
            object.__setattr__(self, "_real", real)

        def __getattr__(self, name):
            if name == "stdout":
                return out
            if name == "stderr":
                return err
            return getattr(self._real, name)

        def __setattr__(self, name, value):
            setattr(self._real, name, value)

    def board_print(*args, sep=None, end=None, file=None):
        if sep is None:
            sep = " "
        if end is None:
            end = "\n"
        if file is None:
            file = out
        if isinstance(file, Text):
            file.write(sep.join([str(a) for a in args]) + end)
        else:
            c_print(*args, sep=sep, end=end, file=file)

    builtins.print = board_print
    sys.modules["sys"] = Sys(sys)
