# Releases on the board: verify a manifest, stage files, commit atomically, roll back.
# The same code serves the TCP server, the HTTP pull service and pushes over the raw REPL.
#
# /.ota/cur.json   manifest of the live release   {"version": v, "seq": n, "files": {path: [size, sha256]}}
# /.ota/new.json   manifest being installed (verified), files in /.ota/stage/<path>
# /.ota/prev.json  manifest of the previous release; /.ota/back/ holds its files that the live
#                  release replaced or dropped (so a rollback needs no extra space)
# /.ota/journal.json  exists only while a commit or rollback is being applied: every step is
#                  idempotent, so at boot an interrupted one is simply run again to the end.
# Downgrades: a manifest's `seq` (signed) must be above every seq this board has installed (a
# signed manifest is good once: replaying an old one does nothing), and its version must not be
# older than the running one unless it says (signed) `downgrade`.
import os
from hashlib import sha256
from binascii import hexlify, unhexlify

from mptui_agent import BOOT_ID, PROTO, STATE, VERSION, board_id, exists, read_json, state, write_json
from mptui_agent.host import hmac, same

D = "/.ota"
STAGE, BACK, NBACK = D + "/stage", D + "/back", D + "/nback"
CUR, NEW, PREV, NPREV, JOURNAL = (D + "/%s.json" % n for n in ("cur", "new", "prev", "nprev", "journal"))
PROTECTED = ("mptui_agent", "config", "data", "boot.py", "boot.mpy")
_busy = [None]  # the Update in progress (one at a time, whatever the link)


class Reject(Exception):
    """An update refused: code (signature, replay, downgrade, hash, protected, space, busy, state,
    manifest), why."""

    def __init__(self, code, why):
        super().__init__(code, why)
        self.code, self.why = code, why


def payload(m):
    """What the signature covers: the version, `seq N` (` downgrade` when allowed), then
    `path:sha256` lines in path order."""
    f = m["files"]
    head = "seq %d%s" % (m["seq"], " downgrade" if m.get("downgrade") is True else "")
    return "\n".join([m["version"], head] + ["%s:%s" % (p, f[p][1]) for p in sorted(f)]).encode()


_PRE = {"dev": 0, "a": 1, "alpha": 1, "b": 2, "beta": 2, "c": 3, "rc": 3, "pre": 3, "preview": 3}


def _kind(ch):
    return 1 if "0" <= ch <= "9" else 2 if "a" <= ch <= "z" else 0


def vkey(v):
    """Release versions in order: numbers as numbers (1.10 after 1.9), a pre-release word (dev,
    a, b, rc...) before the end (2.0rc1 before 2.0), other words after it (2.0 before 2.0post1,
    before 2.0.1); ASCII letters ignore case, anything else separates. The host has the same
    (mptui/services/ota/keys.py)."""
    out, tok = [], ""
    for ch in v + " ":
        ch = chr(ord(ch) + 32) if "A" <= ch <= "Z" else ch
        k = _kind(ch)
        if tok and k != _kind(tok[0]):
            out.append((3, int(tok)) if _kind(tok[0]) == 1 else (0, _PRE[tok]) if tok in _PRE else (2, tok))
            tok = ""
        if k:
            tok += ch
    return out


def older(a, b):
    """Is version a older than version b?"""
    ka, kb = vkey(a), vkey(b)
    n = max(len(ka), len(kb))
    end = [(1, 0)]
    return ka + end * (n - len(ka)) < kb + end * (n - len(kb))


def check_path(p):
    if not isinstance(p, str) or not p or len(p) > 200 or p[0] == "/" or "\\" in p:
        raise Reject("manifest", "bad path %r" % p)
    for part in p.split("/"):
        if part in ("", ".", "..") or any(ord(c) < 32 for c in part):
            raise Reject("manifest", "bad path %r" % p)
    top = p.split("/")[0]
    if top in PROTECTED or top.startswith(".ota"):
        raise Reject("protected", "%s is protected" % p)


def join(*parts):
    return "/".join(parts)


def mkdirs(path):
    cur = ""
    for part in path.split("/")[1:-1]:
        cur += "/" + part
        try:
            os.mkdir(cur)
        except OSError:
            pass


def rmtree(p):
    try:
        if os.stat(p)[0] & 0x4000:
            for e in list(os.ilistdir(p)):
                rmtree(join(p, e[0]))
            os.rmdir(p)
        else:
            os.remove(p)
    except OSError:
        pass


def remove(p):
    try:
        os.remove(p)
    except OSError:
        pass


def walk(p, rel=""):
    """(relative path, full path, size) of every file under p."""
    try:
        entries = list(os.ilistdir(p))
    except OSError:
        return
    for e in entries:
        fp = join(p, e[0]) if p != "/" else "/" + e[0]
        if e[1] & 0x4000:
            yield from walk(fp, rel + e[0] + "/")
        else:
            yield rel + e[0], fp, os.stat(fp)[6]


def chunks(f, buf):
    """An open file's bytes a buffer at a time: views into `buf`, each used before the next."""
    mv = memoryview(buf)
    while True:
        n = f.readinto(buf)
        if not n:
            return
        yield mv[:n]


def file_sha(p, buf=None):
    h = sha256()
    with open(p, "rb") as f:
        for part in chunks(f, buf or bytearray(512)):
            h.update(part)
    return hexlify(h.digest()).decode()


def free_bytes():
    s = os.statvfs("/")
    return s[0] * s[3]


class Writer:
    """One staged file: write() the bytes as they come, close() checks size and SHA-256."""

    def __init__(self, up, path, size):
        if path not in up.files:
            raise Reject("manifest", "%s is not in the manifest" % path)
        if up.files[path][0] != size:
            raise Reject("hash", "%s: size differs from the manifest" % path)
        self.up, self.path, self.left = up, path, size
        self.dest = STAGE + "/" + path
        mkdirs(self.dest)
        self.h = sha256()
        self.f = open(self.dest, "wb")

    def write(self, data):
        self.f.write(data)
        self.h.update(data)
        self.left -= len(data)

    def close(self):
        self.f.close()
        if self.left or hexlify(self.h.digest()).decode() != self.up.files[self.path][1]:
            remove(self.dest)
            raise Reject("hash", "%s: the bytes do not match the manifest's SHA-256" % self.path)
        self.up.ok.add(self.path)


def verify(text, key=""):
    """The manifest (a dict) if this board may install it, else Reject: valid, signed with this
    board's key (hex; "": no key), newer than all it has installed, not an older version unless
    it says downgrade. Nothing is written."""
    import json

    try:
        m = json.loads(text)
        files = m["files"]
        version = m["version"]
        seq = m["seq"]
        if not isinstance(version, str) or not version or len(version) > 64 or "\n" in version:
            raise ValueError
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ValueError
        for p, v in files.items():
            if len(v) != 2 or not isinstance(v[0], int) or not isinstance(v[1], str) or len(v[1]) != 64:
                raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError):
        raise Reject("manifest", "the manifest is not valid")
    for p in files:
        check_path(p)
    if key:
        try:
            sig = unhexlify(m.get("sig") or "")
        except (ValueError, TypeError):
            sig = b""
        try:
            good = same(sig, hmac(unhexlify(key), payload(m)))
        except ValueError:
            good = False
        if not good:
            raise Reject("signature", "bad signature: the release is not signed with this board's key")
    st = state()
    if seq <= st.get("top", 0):
        raise Reject("replay", "%s (seq %d) was signed before the newest release this board has "
                     "installed (seq %d): an old manifest is never installed again" % (version, seq, st["top"]))
    if st.get("v") and m.get("downgrade") is not True and older(version, st["v"]):
        raise Reject("downgrade", "%s is older than %s, the release running; installing it needs "
                     "an explicit downgrade" % (version, st["v"]))
    return m


class Update:
    """An update session: begin with a manifest (verified before anything is written), stage
    files, then commit() or abort()."""

    def __init__(self, text, key="", need=0):
        m = verify(text, key)
        version, seq, files = m["version"], m["seq"], m["files"]
        if _busy[0] is not None:
            raise Reject("busy", "another update is in progress")
        if need + 16384 > free_bytes():
            raise Reject("space", "board full: %d bytes needed, %d free" % (need, free_bytes()))
        self.version, self.seq, self.files, self.manifest = version, seq, files, m
        self.ok = set()  # staged and verified
        _busy[0] = self
        try:
            rmtree(STAGE)
            mkdirs(STAGE + "/x")
            write_json(NEW, {"version": version, "seq": seq, "files": files})
        except Exception:
            self.abort()
            raise

    def writer(self, path, size):
        return Writer(self, path, size)

    def staged(self, path):
        """Check a file put in staging by other means (the raw REPL helper)."""
        f = STAGE + "/" + path
        if path not in self.files or file_sha(f) != self.files[path][1]:
            remove(f)
            raise Reject("hash", "%s: the bytes do not match the manifest's SHA-256" % path)
        self.ok.add(path)

    def commit(self, check=True):
        """All files present and verified? Then the journal, then apply it."""
        try:
            put = []
            buf = bytearray(512)
            for p in sorted(self.files):
                if p in self.ok:
                    put.append(p)
                elif not check or not exists("/" + p) or file_sha("/" + p, buf) != self.files[p][1]:
                    raise Reject("state", "%s is neither staged nor on the board" % p)
            old = read_json(CUR, {"version": None, "files": {}})
            drop = sorted(p for p in old["files"] if p not in self.files)
            rmtree(NBACK)
            remove(NPREV)
            os.mkdir(NBACK)
            write_json(JOURNAL, {"op": "commit", "put": put, "drop": drop, "v": self.version, "pv": old["version"],
                                 "seq": self.seq})
        except BaseException:
            self.abort()
            raise
        _busy[0] = None
        recover()

    def abort(self):
        rmtree(STAGE)
        remove(NEW)
        if _busy[0] is self:
            _busy[0] = None


def _move(src, dst):
    mkdirs(dst)
    os.rename(src, dst)


def _commit(j, note):
    for p in j["put"]:
        s, live, b = STAGE + "/" + p, "/" + p, NBACK + "/" + p
        if exists(s):
            if exists(live):
                if exists(b):
                    os.remove(live)
                else:
                    _move(live, b)
            _move(s, live)
    for p in j["drop"]:
        live, b = "/" + p, NBACK + "/" + p
        if exists(live):
            if exists(b):
                os.remove(live)
            else:
                _move(live, b)
            _prune(live)
    if exists(NEW):
        if not exists(NPREV):
            if exists(CUR):
                os.rename(CUR, NPREV)
            else:
                write_json(NPREV, {"version": None, "files": {}})
        os.rename(NEW, CUR)
    if exists(NBACK):
        rmtree(BACK)
        os.rename(NBACK, BACK)
    if exists(NPREV):
        remove(PREV)
        os.rename(NPREV, PREV)
    rmtree(STAGE)
    top = max(state().get("top", 0), j["seq"])
    write_json(STATE, {"v": j["v"], "pv": j["pv"], "good": False, "n": 0, "last": "committed " + j["v"] + note,
                       "seq": j["seq"], "top": top})


def _prune(path):
    """Remove the folders a dropped file leaves empty."""
    parts = path.split("/")
    while len(parts) > 2:
        parts.pop()
        try:
            os.rmdir("/".join(parts))
        except OSError:
            return


def rollback(why="rolled back"):
    """Restore the previous release (its manifest and kept files)."""
    if _busy[0] is not None:
        raise Reject("busy", "an update is in progress")
    prev = read_json(PREV)
    if prev is None:
        raise Reject("state", "there is no previous release to restore")
    cur = read_json(CUR, {"version": None, "files": {}})
    restore = [r for r, _, _ in walk(BACK)]
    drop = sorted(p for p in cur["files"] if p not in prev["files"] and p not in restore)
    write_json(JOURNAL, {"op": "rollback", "restore": restore, "drop": drop, "why": why,
                         "v": prev["version"], "bad": cur["version"], "seq": prev.get("seq", 0)})
    recover()


def _rollback(j, note):
    for p in j["drop"]:
        if exists("/" + p):
            os.remove("/" + p)
            _prune("/" + p)
    for p in j["restore"]:
        if exists(BACK + "/" + p):
            remove("/" + p)
            _move(BACK + "/" + p, "/" + p)
    if exists(PREV):
        remove(CUR)
        os.rename(PREV, CUR)
    rmtree(BACK)
    st = state()
    write_json(STATE, {"v": j["v"], "pv": None, "good": True, "n": 0, "last": j["why"] + note,
                       "bad": j["bad"], "seq": j.get("seq", 0), "top": st.get("top", 0)})


def recover(booting=False):
    """Finish an interrupted commit or rollback; drop an unfinished staging."""
    j = read_json(JOURNAL)
    if j is not None:
        note = " (finished at boot)" if booting else ""
        (_commit if j["op"] == "commit" else _rollback)(j, note)
        os.remove(JOURNAL)
    elif _busy[0] is None:
        rmtree(STAGE)
        remove(NEW)


def info():
    import sys

    st = state()
    st["agent"] = VERSION
    st["proto"] = PROTO
    st["boot"] = BOOT_ID
    st["mpy"] = getattr(sys.implementation, "_mpy", 0)
    st["platform"] = sys.platform
    st["busy"] = _busy[0] is not None
    st["id"] = board_id()
    return st


def tree(root, hashes=False):
    """[relative path, size, sha256 or ''] of the release files under root (protected skipped)."""
    buf = bytearray(512)
    out = []
    for rel, fp, size in walk(root):
        if root == "/" and (rel.split("/")[0] in PROTECTED or rel.startswith(".ota")):
            continue
        out.append([rel, size, file_sha(fp, buf) if hashes else ""])
    return out


def set_login_key(h):
    """The board's new login key (64 hex digits; empty: no password)."""
    from mptui_agent import CONFIG, config

    if h and (len(h) != 64 or any(c not in "0123456789abcdef" for c in h)):
        raise Reject("manifest", "the login key must be 64 hex digits")
    cfg = dict(config())
    cfg["login"] = h
    mkdirs(CONFIG)
    write_json(CONFIG, cfg)
    config().update(cfg)
