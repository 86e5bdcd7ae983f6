# Runs inside the MicroPython unix port (`micropython -i startup.py`) to make it behave like a
# board: its own folder as `/`, board-like sys.path and machine module, boot.py then main.py.
# Settings come from MPTUI_VB_* environment variables set by mptui.virtual.board.


def _mptui_start(g):
    import os
    import sys
    import vfs

    env = {}
    for key in ("ROOT", "LIB", "RAW", "READY", "FS"):
        env[key] = os.getenv("MPTUI_VB_" + key)
        os.unsetenv("MPTUI_VB_" + key)
    sys.path.insert(0, env["LIB"])
    import _mptui_boardfs
    import _mptui_machine

    sys.path.pop(0)
    sys.modules["machine"] = _mptui_machine
    vfs.umount("/")
    vfs.mount(_mptui_boardfs.BoardFS(env["ROOT"]), "/")
    os.chdir("/")
    sys.path[:] = ["", ".frozen", "/lib"]
    for name in ("_mptui_boardfs", "_mptui_machine"):
        sys.modules.pop(name, None)

    sys.stdout.write(env["FS"])  # the host holds input back until here: Ctrl-C is safe now

    def run(name):
        try:
            with open(name) as f:
                src = f.read()
        except OSError:
            return
        try:
            exec(compile(src, name, "exec"), g)
        except SystemExit:
            raise
        except BaseException as e:  # a board prints the traceback and carries on to the REPL
            sys.print_exception(e)

    try:
        run("boot.py")
        if env["RAW"] != "1":  # as on a board, main.py is skipped after a soft reset in raw REPL
            run("main.py")
    finally:
        sys.stdout.write(env["READY"])


_mptui_start(globals())
del _mptui_start
globals().pop("__file__", None)
