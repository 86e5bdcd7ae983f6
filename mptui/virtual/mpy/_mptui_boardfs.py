# The virtual board's `/`: a host folder that answers as a board's littlefs root does
# (vfs.VfsLfs2: MicroPython extmod/vfs_lfsx.c, extmod/vfs_lfsx_file.c over lib/littlefs/lfs2.c).
# Paths are resolved here name by name, as lfs2_dir_find does, inside the folder only; then
# the VfsPosix underneath does the I/O. (That VfsPosix has no root of its own: with one, its
# rename() is broken in the unix port, both paths sharing one buffer.)
# Every function is native code: a native frame adds no line to a traceback, so an error
# shows as a board shows it (littlefs is C there), not with this file in it.
# Known difference: renaming a folder into itself gives EINVAL here; littlefs says yes and
# loses the folder.
# With a size of its own (virtual:NAME?fs=SIZE) the filesystem counts blocks as littlefs does:
# 4 KiB blocks, two for the root and for each folder (a metadata pair), whole blocks for a
# file's bytes, and a file overwritten keeps its old blocks until it is closed (copy on write);
# a write or mkdir that needs more than are free fails with OSError(28), ENOSPC, as on a board.
import gc
import io

import micropython
import vfs

S_IFDIR = 0x4000
S_IFREG = 0x8000
NAME_MAX = 255  # LFS2_NAME_MAX
# errno numbers as littlefs returns them (lfs2.h LFS2_ERR_*), as OSError(n) on a board
ENOENT, EEXIST, ENOTDIR, EISDIR, EINVAL = 2, 17, 20, 21, 22
ENAMETOOLONG, ENOTEMPTY, ENOSPC = 36, 39, 28
# names a folder listing holds at once (ilistdir): one per 2 KB of free heap, 16 at least
# (~3% of what is free: a small board lists a big folder in several passes, a roomy one in one)
LIST_BATCH, LIST_HEAP = 16, 2048
BLOCK = 4096  # a board's littlefs block (esp32, rp2: the flash's 4 KiB erase block)
# open() flags, as vfs_lfsx_file.c builds them from the mode (lfs2.h LFS2_O_*)
O_RDONLY, O_WRONLY, O_RDWR = 1, 2, 3
O_CREAT, O_EXCL, O_TRUNC, O_APPEND = 0x100, 0x200, 0x400, 0x800
MODE_FLAGS = {
    "r": O_RDONLY,
    "w": O_WRONLY | O_CREAT | O_TRUNC,
    "x": O_WRONLY | O_CREAT | O_EXCL,
    "a": O_WRONLY | O_CREAT | O_APPEND,
}


@micropython.native
def _str(path):
    # as C sees the path: a str, ending at its first NUL
    if isinstance(path, bytes):
        path = path.decode()
    i = path.find("\x00")
    return path if i < 0 else path[:i]


@micropython.native
def _blocks(size):
    return (size + BLOCK - 1) // BLOCK


@micropython.native
def _namelen(rest):  # lfs2_path_namelen
    i = rest.find("/")
    return len(rest) if i < 0 else i


@micropython.native
def _islast(rest):  # lfs2_path_islast: one name, maybe with slashes after it
    return not rest[_namelen(rest) :].strip("/")


@micropython.native
def _isdir(rest):  # lfs2_path_isdir: the name has a slash after it
    return _namelen(rest) < len(rest)


class BoardFS:
    @micropython.native
    def __init__(self, root, size=0):
        self._fs = vfs.VfsPosix()
        self._root = root.rstrip("/")
        self._cwd = "/"  # ends with "/", as vfs_lfsx.c keeps cur_dir
        self._total = size // BLOCK  # 0: no size of its own (the host disk's room)
        self._writers = []  # files open for writing (with a size): they count their blocks
        self._others = -1  # blocks used by everything else; -1: count them again

    # -- room (with a size of its own) ----------------------------------------------------

    @micropython.native
    def _used(self):
        if self._others < 0:
            skip = [w.host for w in self._writers]
            used, folders = 0, [self._root]
            while folders:
                folder = folders.pop()
                used += 2
                for entry in self._fs.ilistdir(folder):
                    host = folder + "/" + entry[0]
                    try:
                        st = self._fs.stat(host)
                    except OSError:
                        continue
                    if st[0] & 0xF000 == S_IFDIR:
                        folders.append(host)
                    elif st[0] & 0xF000 == S_IFREG and host not in skip:
                        used += _blocks(st[6])
            self._others = used
        return self._others + sum(w.blocks() for w in self._writers)

    @micropython.native
    def _room(self, blocks):  # ENOSPC unless `blocks` more fit
        if self._total and self._used() + blocks > self._total:
            raise OSError(ENOSPC)

    @micropython.native
    def _changed(self):
        self._others = -1

    # -- paths ----------------------------------------------------------------------------

    @micropython.native
    def _make_path(self, path):  # vfs_lfsx.c make_path
        path = _str(path)
        return path if path.startswith("/") else self._cwd + path

    @micropython.native
    def _kind(self, host):
        try:
            mode = self._fs.stat(host)[0] & 0xF000
        except OSError:
            return None
        return mode if mode in (S_IFDIR, S_IFREG) else None

    @micropython.native
    def _find(self, path):
        # lfs2_dir_find: walk `path` from the root, name by name.
        # -> (err, is_dir, host, rest): err 0 when found (host: the entry); else ENOENT,
        # ENOTDIR or EINVAL, host the folder searched. rest: the path from the last name on.
        is_dir, host, rest = True, self._root, path
        if not path:
            return EINVAL, is_dir, host, rest
        n, i = len(path), 0
        while True:
            if is_dir:
                while i < n and path[i] == "/":
                    i += 1
            j = path.find("/", i)
            if j < 0:
                j = n
            name = path[i:j]
            if name == ".":
                i = j
                continue
            if name == "..":  # above the root
                return EINVAL, is_dir, host, rest
            skip = self._cancelled(path, j)
            if skip:
                i = skip
                continue
            if i >= n:
                return 0, is_dir, host, rest
            rest = path[i:]
            if not is_dir:
                return ENOTDIR, is_dir, host, rest
            kind = self._kind(host + "/" + name) if len(name.encode()) <= NAME_MAX else None
            if kind is None:
                return ENOENT, is_dir, host, rest
            is_dir, host, i = kind == S_IFDIR, host + "/" + name, j

    @staticmethod
    @micropython.native
    def _cancelled(path, k):
        # where the path goes on when a later ".." cancels the name ending at k (lfs2 skips
        # both without looking the name up); 0 when none does
        n, depth = len(path), 1
        while True:
            while k < n and path[k] == "/":
                k += 1
            m = path.find("/", k)
            if m < 0:
                m = n
            if m == k:
                return 0
            part = path[k:m]
            if part == "..":
                depth -= 1
                if depth == 0:
                    return m
            elif part != ".":
                depth += 1
            k = m

    @micropython.native
    def _new_name(self, host, rest):
        name = rest[: _namelen(rest)]
        if len(name.encode()) > NAME_MAX:
            raise OSError(ENAMETOOLONG)
        return host + "/" + name

    @micropython.native
    def _empty(self, host):
        for _ in self._fs.ilistdir(host):
            return False
        return True

    # -- the VFS interface ----------------------------------------------------------------

    @micropython.native
    def mount(self, readonly, mkfs):
        pass

    @micropython.native
    def umount(self):
        pass

    @micropython.native
    def stat(self, path):
        err, is_dir, host, rest = self._find(self._make_path(path))
        if err:
            raise OSError(err)
        if "/" in rest and not is_dir:  # lfs2_stat_: trailing slashes only on folders
            raise OSError(ENOTDIR)
        if is_dir:
            # a folder has no mtime attribute (0); its size is not set by lfs2_stat (0 here)
            return (S_IFDIR, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        st = self._fs.stat(host)
        return (S_IFREG, 0, 0, 0, 0, 0, st[6], st[8], st[8], st[8])

    @micropython.native
    def ilistdir(self, path=None):
        is_str = not isinstance(path, bytes)
        err, is_dir, host, _ = self._find(self._make_path(path) if path is not None else self._cwd)
        if err:
            raise OSError(err)
        if not is_dir:
            raise OSError(ENOTDIR)
        return self._listing(self._fs, host, is_str)

    @staticmethod
    @micropython.native
    def _listing(fs, host, is_str):
        # littlefs lists a folder in its order from C, on no heap: by bytes, a name after the
        # longer names it begins ("a b", "ab", then "a"; lfs2_dir_fetchmatch), the order of
        # the names' UTF-8 with 0xff after each. One sorted list of the host folder's names
        # would take the board's heap (a 200-file folder: ~20 KB on this 64-bit runtime) and
        # fail where the board does not: so a batch at a time (sized from the free heap), the
        # next smallest names, one pass over the folder a batch.
        most = max(LIST_BATCH, gc.mem_free() // LIST_HEAP)
        last = None
        while True:
            batch = []
            for entry in fs.ilistdir(host):
                key = entry[0].encode() + b"\xff"
                if last is None or key > last:
                    batch.append(key)
                    if len(batch) > 2 * most:
                        batch.sort()
                        del batch[most:]
            batch.sort()
            del batch[most:]
            for key in batch:
                name = key[:-1].decode()
                try:
                    st = fs.stat(host + "/" + name)
                except OSError:
                    continue
                kind = st[0] & 0xF000
                if kind in (S_IFDIR, S_IFREG):  # nothing else exists on littlefs
                    size = st[6] if kind == S_IFREG else 0
                    yield (name if is_str else key[:-1], kind, 0, size)
            if len(batch) < most:
                return
            last = batch[-1]

    @micropython.native
    def statvfs(self, path):
        # (bsize, frsize, blocks, bfree, bavail, files, ffree, favail, flag, namemax), as
        # vfs_lfsx.c fills it; the numbers are the host folder's disk
        if self._total:
            free = max(self._total - self._used(), 0)
            return (BLOCK, BLOCK, self._total, free, free, 0, 0, 0, 0, NAME_MAX)
        s = self._fs.statvfs(self._root + "/")
        return (s[1], s[1], s[2], s[4], s[4], 0, 0, 0, 0, NAME_MAX)

    @micropython.native
    def open(self, path, mode):
        flags, binary = 0, False
        for c in _str(mode):
            if c == "+":
                flags |= O_RDWR
            elif c in "bt":
                binary = c == "b"
            elif c in MODE_FLAGS:
                if flags:
                    raise ValueError()
                flags = MODE_FLAGS[c]
        flags = flags or O_RDONLY
        err, is_dir, host, rest = self._find(self._make_path(path))
        if err == ENOENT and _islast(rest):
            if not flags & O_CREAT:
                raise OSError(ENOENT)
            if _isdir(rest):
                raise OSError(ENOTDIR)
            host = self._new_name(host, rest)
        elif err:
            raise OSError(err)
        elif flags & O_EXCL:
            raise OSError(EEXIST)
        elif is_dir:
            raise OSError(EISDIR)
        how = "a" if flags & O_APPEND else "w" if flags & O_CREAT else "r"  # "x": it is new
        if flags & O_RDWR == O_RDWR:
            how += "+"
        if not self._total or how == "r":
            return self._fs.open(host, how + ("b" if binary else ""))
        try:
            old = 0 if err else self._fs.stat(host)[6]
        except OSError:
            old = 0
        f = self._fs.open(host, how + ("b" if binary else ""))
        self._changed()
        return _Counted(self, f, host, old, how[0] == "w", how[0] == "a")

    @micropython.native
    def mkdir(self, path):
        err, _, host, rest = self._find(self._make_path(path))
        if not (err == ENOENT and _islast(rest)):
            raise OSError(err or EEXIST)
        host = self._new_name(host, rest)
        self._room(2)  # its metadata pair
        self._fs.mkdir(host)
        self._changed()

    @micropython.native
    def remove(self, path):
        # littlefs removes files and empty folders alike (vfs_lfsx.c: rmdir is the same call)
        err, is_dir, host, _ = self._find(self._make_path(path))
        if err:
            raise OSError(err)
        if host == self._root:
            raise OSError(EINVAL)
        if not is_dir:
            self._fs.remove(host)
            self._writers = [w for w in self._writers if w.host != host]  # counts no more
        elif self._empty(host):
            self._fs.rmdir(host)
        else:
            raise OSError(ENOTEMPTY)
        self._changed()

    rmdir = remove

    @micropython.native
    def rename(self, old, new):
        err, old_dir, old_host, _ = self._find(self._make_path(old))
        if err:
            raise OSError(err)
        if old_host == self._root:
            raise OSError(EINVAL)
        err, new_dir, target, rest = self._find(self._make_path(new))
        if err == ENOENT and _islast(rest):
            if _isdir(rest) and not old_dir:
                raise OSError(ENOTDIR)
            target = self._new_name(target, rest)
        elif err:
            raise OSError(err)
        elif target == self._root:
            raise OSError(EINVAL)
        elif new_dir != old_dir:
            raise OSError(EISDIR if new_dir else ENOTDIR)
        elif target == old_host:
            return
        elif new_dir and not self._empty(target):
            raise OSError(ENOTEMPTY)
        self._fs.rename(old_host, target)
        for w in self._writers:  # a file open for writing goes on under its new name
            if w.host == old_host:
                w.host = target
        self._changed()

    @micropython.native
    def chdir(self, path):
        path = self._make_path(path)
        if path[1:]:
            # not the root: it must be a folder (vfs_lfsx.c says ENOENT for anything else)
            try:
                if self.stat(path)[0] != S_IFDIR:
                    raise OSError(ENOENT)
            except OSError:
                raise OSError(ENOENT)
        self._cwd = _normalise(path)

    @micropython.native
    def getcwd(self):
        return "/" if self._cwd == "/" else self._cwd[:-1]


class _Counted(io.IOBase):
    # A file open for writing on a filesystem with a size: its blocks are counted as it grows
    # (and its old ones, when it was truncated, until it is closed); a write that needs more
    # than are free raises ENOSPC and writes nothing.
    @micropython.native
    def __init__(self, fs, f, host, old, truncated, append):
        self._fs, self._f, self.host, self._append = fs, f, host, append
        self._size = 0 if truncated else old
        self._kept = _blocks(old) if truncated and old else 0
        fs._writers.append(self)

    @micropython.native
    def blocks(self):
        return self._kept + _blocks(self._size)

    @micropython.native
    def write(self, b):
        end = (self._size if self._append else self._f.tell()) + len(b)
        if end > self._size:
            self._fs._room(_blocks(end) - _blocks(self._size))
        n = self._f.write(b)
        self._size = max(self._size, self._f.tell())
        return n

    @micropython.native
    def close(self):
        if self in self._fs._writers:  # (not after its file was removed)
            self._fs._writers.remove(self)
            self._fs._changed()
        self._f.close()

    @micropython.native
    def ioctl(self, req, arg):  # the stream protocol (print(file=f)): flush, close
        if req == 4:
            self.close()
        elif req == 1:
            self._f.flush()
        return 0

    @micropython.native
    def read(self, *n):
        return self._f.read(*n)

    @micropython.native
    def readinto(self, *a):
        return self._f.readinto(*a)

    @micropython.native
    def readline(self, *n):
        return self._f.readline(*n)

    @micropython.native
    def seek(self, *a):
        return self._f.seek(*a)

    @micropython.native
    def tell(self):
        return self._f.tell()

    @micropython.native
    def flush(self):
        return self._f.flush()

    @micropython.native
    def __enter__(self):
        return self

    @micropython.native
    def __exit__(self, *exc):
        self.close()


@micropython.native
def _normalise(path):
    # vfs_lfsx.c chdir: no repeated slashes, no ".", ".." goes up (not above the root),
    # and a trailing "/"
    parts = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part and part != ".":
            parts.append(part)
    return "/" + "".join(p + "/" for p in parts)
