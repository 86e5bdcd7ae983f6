# Runs inside the MicroPython unix port (`micropython -i startup.py`) to make it behave like a
# board: its own folder as `/`, board-like sys.path and machine module, boot.py then main.py.
# Settings come from MPTUI_VB_* environment variables set by mptui.virtual.board.


def _mptui_start(g):
    import micropython
    import os
    import sys
    import vfs

    micropython.kbd_intr(-1)  # only boot.py and main.py may be interrupted, not this set-up

    env = {}
    for key in ("ROOT", "LIB", "RAW", "TAG", "UID", "FS"):
        env[key] = os.getenv("MPTUI_VB_" + key)
        os.unsetenv("MPTUI_VB_" + key)
    tag = env["TAG"].encode()
    sys.path.insert(0, env["LIB"])
    import gc

    gc.collect()  # room to compile it in (a small heap: ?heap=)
    import _mptui_boardfs
    import _mptui_machine
    import _mptui_stdio

    sys.path.pop(0)
    import binascii

    _mptui_machine._UID = binascii.unhexlify(env["UID"] or "")
    sys.modules["machine"] = _mptui_machine
    _mptui_stdio.install(tag)  # print and sys.stdout as a board's (see _mptui_stdio.py)

    def signal(what):  # a control sequence the host takes out of the output
        sys.stdout.buffer.write(b"\x1b_" + tag + what + b"\x1b\\")

    vfs.umount("/")
    vfs.mount(_mptui_boardfs.BoardFS(env["ROOT"], int(env["FS"] or 0)), "/")
    os.chdir("/")
    sys.path[:] = ["", ".frozen", "/lib"]
    for name in ("_mptui_boardfs", "_mptui_machine", "_mptui_stdio"):
        sys.modules.pop(name, None)

    signal(b"f")  # `/` is ready: the host held input back until here

    def pending():
        # A Ctrl-C is raised where bytecode looks for one (a jump), as on a board: here, one
        # that came as the file ended (pyexec's mp_handle_pending after each file).
        for _ in (0, 0):
            pass

    @micropython.native  # no line in tracebacks: a board shows only boot.py's own
    def run(name):
        # True when the file ended with sys.exit(): a board then soft-reboots
        try:
            with open(name) as f:
                src = f.read()
        except OSError:
            return False
        micropython.kbd_intr(3)
        try:
            exec(compile(src, name, "exec"), g)
            micropython.kbd_intr(-1)
            pending()  # it stops the file, as if it had come a moment earlier
        except SystemExit:
            return True
        except BaseException as e:  # a board prints the traceback and carries on to the REPL
            micropython.kbd_intr(-1)
            sys.print_exception(e)
        finally:
            micropython.kbd_intr(-1)
            try:
                pending()  # one still pending after an error is dropped, as pyexec does
            except KeyboardInterrupt:
                pass
        return False

    # as on a board, main.py is skipped after a soft reset in the raw REPL
    reboot = run("boot.py")
    signal(b"b")  # boot.py is done (a host connects to a board powered a while ago from here)
    if reboot or (env["RAW"] != "1" and run("main.py")):
        os.system("kill -USR1 $PPID")  # tells the host: soft reboot (the -i REPL would go on)
    signal(b"r")  # boot is done


_mptui_start(globals())
del _mptui_start
globals().pop("__file__", None)
