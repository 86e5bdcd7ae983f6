# mptui's board agent: runs ON the board, installed as /mptui_agent/ by `mptui ota install`.
# The installer ends /boot.py with:  import mptui_agent; mptui_agent.boot()
# boot() finishes an interrupted commit, runs the boot guard, then start()s the services beside
# the user's app (main.py runs next, as usual). See PROTOCOL.md for the wire formats and
# SERVICES.md for how to add a service (RemoteIO plugs in there).
import os
import sys

VERSION = "2.0"
PROTO = 2  # 2: per-board keys, release counters (PROTOCOL.md)
CONFIG = "/config/mptui_agent.json"
STATE = "/.ota/state.json"
MAX_UNCLEAN = 3  # unclean boots of a new release before the previous one is restored
# Service modules, in start order; each has serve(loop, cfg) -> generator or None (disabled).
# Missing modules are skipped.
SERVICES = ["ota", "pull", "remoteio", "announce"]
# The agent thread's C stack. The unix port puts a PATH_MAX (4 KiB) buffer on it per import
# level, and ota.py imports its session code from that thread: 20 KiB overflowed there.
STACK = 32768 if sys.platform == "linux" else 16384

_cfg = None
_loop = None
try:
    BOOT_ID = "%08x" % int.from_bytes(os.urandom(4), "big")  # tells one boot from the next
except Exception:
    import time

    BOOT_ID = "%08x" % time.ticks_cpu()


def exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


def read_json(p, default=None):
    import json

    try:
        with open(p) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def write_json(p, obj):
    """Atomic: a temporary file, then rename."""
    import json

    t = p + ".tmp"
    with open(t, "w") as f:
        json.dump(obj, f)
    try:
        os.rename(t, p)
    except OSError:  # ports that will not rename onto an existing file
        os.remove(p)
        os.rename(t, p)


def config():
    global _cfg
    if _cfg is None:
        _cfg = read_json(CONFIG, {})
    return _cfg


def board_id():
    """This board's id (`id` in the settings, chosen by the installer): the salt of its login
    key and what its signing key is derived from. "-" when it has none."""
    return config().get("id") or "-"


def board_name():
    """The board's name in announcements and logs: `name` in the settings, else made from the
    platform and the chip's unique id."""
    name = config().get("name")
    if not name:
        try:
            import machine
            from binascii import hexlify

            uid = hexlify(machine.unique_id()).decode()[-6:]
        except Exception:
            uid = BOOT_ID[:6]
        name = config()["name"] = "%s-%s" % (sys.platform, uid)
    return name


def state():
    return read_json(STATE, {"v": None, "pv": None, "good": True, "n": 0, "last": "", "seq": 0, "top": 0})


def boot():
    """Called from boot.py: recover, guard, start services. Never raises."""
    try:
        if exists("/.ota/journal.json") or exists("/.ota/stage"):
            from mptui_agent import release

            release.recover(True)
        st = state()
        if not st.get("good", True):
            if st.get("n", 0) >= MAX_UNCLEAN and exists("/.ota/prev.json"):
                from mptui_agent import release

                release.rollback("rolled back %s after %d unclean boots" % (st.get("v"), st["n"]))
            else:
                st["n"] = st.get("n", 0) + 1
                write_json(STATE, st)
    except Exception as e:
        sys.print_exception(e)
    forget("release")  # loaded again when an update comes (ota.py)
    try:
        start()
    except Exception as e:
        sys.print_exception(e)


def mark_good():
    """The running release is healthy: the boot guard stops counting. Apps may call this."""
    st = state()
    if not st.get("good", True):
        st["good"] = True
        st["n"] = 0
        write_json(STATE, st)


def start(thread=True):
    """Start the services: in a thread where the port has one, else return the loop for the
    app to drive (`mptui_agent.start(thread=False).run()` or `loop.step()` from its own loop)."""
    global _loop
    if _loop is not None:
        return _loop
    from mptui_agent.host import Loop

    cfg = config()
    loop = Loop()
    for name in cfg.get("services") or SERVICES:
        if name == "pull" and not cfg.get("pull") or name == "announce" and cfg.get("announce") == "":
            continue  # turned off: not even loaded
        try:
            mod = __import__("mptui_agent." + name, None, None, ["serve"])
        except ImportError:
            continue
        except MemoryError as e:  # no room for this one: the others may still fit
            sys.print_exception(e)
            forget(name)
            continue
        try:
            task = mod.serve(loop, cfg)
        except Exception as e:  # one service that cannot start must not stop the others
            sys.print_exception(e)
            task = None
        if task is None:  # not enabled: give its memory back
            forget(name)
        else:
            loop.spawn(task)
    loop.spawn(_guard(cfg))
    _loop = loop
    if thread:
        try:
            import _thread

            try:
                _thread.stack_size(cfg.get("stack", STACK))
            except Exception:
                pass
            _thread.start_new_thread(loop.run, ())
        except ImportError:
            pass
    return loop


def forget(name):
    """Unload mptui_agent.<name> (its heap comes back once nothing else holds it)."""
    sys.modules.pop("mptui_agent." + name, None)
    globals().pop(name, None)


def _guard(cfg):
    after = cfg.get("good_after", 30)
    st = state()
    if after and not st.get("good", True):
        yield (0, None, int(after * 1000))
        if state().get("v") == st.get("v"):  # still the release this boot started
            mark_good()
