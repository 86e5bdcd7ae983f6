# A VFS over a host folder that can never reach outside it: every path is made absolute and
# normalised (".." stops at the board's root) before it reaches the VfsPosix underneath.
# The VfsPosix has no root of its own: with one, its rename() is broken in the unix port
# (both paths share one buffer), so the host folder is prefixed here.
import vfs


class BoardFS:
    def __init__(self, root):
        self._fs = vfs.VfsPosix()
        self._root = root.rstrip("/")
        self._cwd = "/"

    def _board(self, path):
        if not path.startswith("/"):
            path = self._cwd + "/" + path
        parts = []
        for part in path.split("/"):
            if part == "..":
                if parts:
                    parts.pop()
            elif part and part != ".":
                parts.append(part)
        return "/" + "/".join(parts)

    def _path(self, path):
        return self._root + self._board(path)

    def mount(self, readonly, mkfs):
        pass

    def umount(self):
        pass

    def ilistdir(self, path):
        path = self._path(path)
        base = path if path.endswith("/") else path + "/"
        for entry in self._fs.ilistdir(path):
            # Boards give (name, type, inode, size); the unix VfsPosix leaves the size out.
            try:
                size = 0 if entry[1] == 0x4000 else self._fs.stat(base + entry[0])[6]
            except OSError:
                size = 0
            yield (entry[0], entry[1], entry[2], size)

    def stat(self, path):
        return self._fs.stat(self._path(path))

    def statvfs(self, path):
        return self._fs.statvfs(self._path(path))

    def open(self, path, mode):
        return self._fs.open(self._path(path), mode)

    def mkdir(self, path):
        self._fs.mkdir(self._path(path))

    def rmdir(self, path):
        self._fs.rmdir(self._path(path))

    def remove(self, path):
        self._fs.remove(self._path(path))

    def rename(self, old, new):
        self._fs.rename(self._path(old), self._path(new))

    def chdir(self, path):
        path = self._board(path)
        if not self._fs.stat(self._root + path)[0] & 0x4000:
            raise OSError(20)  # ENOTDIR
        self._cwd = path

    def getcwd(self):
        return self._cwd
