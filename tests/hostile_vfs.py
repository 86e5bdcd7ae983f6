"""A board whose filesystem really lists hostile names: a Python VFS mounted at /evil on the
virtual board (until its next soft reset).

    await mount(session, escape=tmp_path / "abs-escape")     # or run mount_code(...) on it

(Not from boot.py: connecting interrupts a boot.py that still runs, as on a board.)

/evil holds GOOD (the only files a copy may write) beside names that are not one path
component: '../../x', an absolute path, 'a/b', '..', '.', '', NUL, a drive letter, a
backslash; a folder '../up' holding a file, and in sub/ a '../../../escape'.
"""

from __future__ import annotations

GOOD = {"good.txt": b"good\n", "sub/inner.txt": b"inner\n"}
BAD_TOP = ["../../x", "a/b", "..", ".", "", "nul\x00n", "C:evil", "back\\slash"]
BAD_DIR = "../up"  # a folder whose name is not one, holding deep.txt
BAD_IN_SUB = "../../../escape"

_VFS = '''
import io
import vfs


class _Evil:
    def __init__(self, escape):
        files = {"good.txt": b"good\\n"}
        for name in BAD_TOP + [escape]:
            files[name] = b"bad"
        self.dirs = {
            "/": [(n, 0x8000, len(d)) for n, d in files.items()]
            + [("sub", 0x4000, 0), (BAD_DIR, 0x4000, 0)],
            "/sub": [("inner.txt", 0x8000, 6), (BAD_IN_SUB, 0x8000, 3)],
            "/" + BAD_DIR: [("deep.txt", 0x8000, 3)],
        }
        self.data = {"/good.txt": b"good\\n", "/sub/inner.txt": b"inner\\n"}

    def mount(self, readonly, mkfs):
        pass

    def umount(self):
        pass

    def ilistdir(self, path):
        for name, kind, size in self.dirs.get(path, ()):
            yield (name, kind, 0, size)

    def stat(self, path):
        if path in self.dirs:
            return (0x4000, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        for folder, entries in self.dirs.items():
            for name, kind, size in entries:
                if folder.rstrip("/") + "/" + name == path:
                    return (kind, 0, 0, 0, 0, 0, size, 0, 0, 0)
        raise OSError(2)

    def open(self, path, mode):
        if "r" not in mode:
            raise OSError(30)  # read-only
        if path not in self.data:
            return io.BytesIO(b"bad")
        return io.BytesIO(self.data[path])

    def remove(self, path):
        raise OSError(30)  # read-only

    rmdir = mkdir = remove

    def statvfs(self, path):
        return (1024, 1024, 64, 0, 0, 0, 0, 0, 0, 255)


vfs.mount(_Evil(ESCAPE), "/evil")
del _Evil
'''


def mount_code(escape) -> str:
    """Code that mounts the hostile VFS at /evil; `escape` is an absolute host path the board
    also lists as a name (a naive join would write there)."""
    header = (f"BAD_TOP = {BAD_TOP!r}\nBAD_DIR = {BAD_DIR!r}\nBAD_IN_SUB = {BAD_IN_SUB!r}\n"
              f"ESCAPE = {str(escape)!r}\n")
    return header + _VFS


async def mount(session, escape) -> None:
    async with session.operation() as repl:
        await repl.exec(mount_code(escape))


def host_files(folder) -> set[str]:
    """Every file under a host folder, relative, '/'-separated."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()}
