"""The virtual board's `/` answers as a board's littlefs root (vfs.VfsLfs2).

Each row runs, in order, in the real MicroPython runtime twice: on the virtual board's
filesystem (mpy/_mptui_boardfs.py over a folder) and on a real `vfs.VfsLfs2` (the same C code
a board runs, here on a RAM block device), both mounted at `/`. Both must give the row's
answer, which is read from the C sources: MicroPython extmod/vfs.c (the mount layer, common to
both), extmod/vfs_lfsx.c (stat, ilistdir, statvfs, mkdir, remove, rename, chdir, getcwd),
extmod/vfs_lfsx_file.c (open modes), lib/littlefs/lfs2.c (lfs2_dir_find, lfs2_stat_,
lfs2_remove_, lfs2_rename_, lfs2_mkdir_, lfs2_file_opencfg_: which error when), py/mperrno.h and
py/moderrno.c (errno numbers, and str() naming only those in the errno table).
"""

from __future__ import annotations

import subprocess

import pytest

from mptui.virtual.board import VirtualBoard
from mptui.virtual.runtime import MPY_DIR, RuntimeOptions

F = "(32768, 0, 0, 0, 0, 0, {}, T, T, T)"  # a file: mode 0x8000, size, mtime x3 (vfs_lfsx.c)
D = "(16384, 0, 0, 0, 0, 0, 0, 0, 0, 0)"  # a folder: mode 0x4000, no mtime attribute


def err(n: int, text: str | None = None) -> str:
    """OSError(n) as a board raises it: str() names only the errnos in moderrno.c's table."""
    return f"OSError {(n,)!r} {text or str(n)!r}"


ENOENT = err(2, "[Errno 2] ENOENT")
EEXIST = err(17, "[Errno 17] EEXIST")
ENOTDIR = err(20)  # not in the default errno table: str() is the bare number
EISDIR = err(21, "[Errno 21] EISDIR")
EINVAL = err(22, "[Errno 22] EINVAL")
EPERM = err(1, "[Errno 1] EPERM")
ENAMETOOLONG = err(36)
ENOTEMPTY = err(39)

# names made in no particular order: digits, capitals, a space, non-ASCII, a prefix of another
MANY = [f"n{(i * 7) % 30}" for i in range(30)] + ["Z", "a", "é", "_x", "0", "ab", "a b", "~", "a1",
                                                  "ä", "A", "n1x", "bc", "b", "c", "cd"]

# (code, expected answer): statements separated by "; ", the last one an expression whose
# value is the answer. The rows run in order on one filesystem.
TABLE = [
    ("f = open('f', 'w'); f.write('hello'); f.close()", "None"),
    ("os.mkdir('d')", "None"),
    ("os.mkdir('d/sub')", "None"),
    ("f = open('d/x', 'wb'); f.write(b'12345678'); f.close()", "None"),
    ("os.mkdir('e')", "None"),
    # stat: exact modes, size, mtime (lfs2 attribute 't'), zeros elsewhere
    ("os.stat('f')", F.format(5)),
    ("os.stat('/d')", D),
    ("os.stat('d/')", D),
    ("os.stat('/')", D),  # vfs.c answers for the root itself
    ("os.stat('f/')", ENOTDIR),  # lfs2: trailing slashes on folders only
    ("os.stat('f/x')", ENOTDIR),
    ("os.stat('missing')", ENOENT),
    ("os.stat('missing/x')", ENOENT),
    ("os.stat('..')", EINVAL),  # lfs2_dir_find: ".." above the root
    ("os.stat('d/..')", D),
    ("os.stat('nothere/../f')", F.format(5)),  # ".." cancels a name without looking it up
    ("os.stat('./f')", F.format(5)),
    ("os.stat('d//x')", F.format(8)),
    ("os.stat('a' * 300)", ENOENT),
    # ilistdir: 4-tuples (name, type, inode 0, size), names in byte order
    ("list(os.ilistdir('/'))", "[('d', 16384, 0, 0), ('e', 16384, 0, 0), ('f', 32768, 0, 5)]"),
    ("list(os.ilistdir('d'))", "[('sub', 16384, 0, 0), ('x', 32768, 0, 8)]"),
    ("list(os.ilistdir(b'd'))", "[(b'sub', 16384, 0, 0), (b'x', 32768, 0, 8)]"),
    ("list(os.ilistdir())", "[('d', 16384, 0, 0), ('e', 16384, 0, 0), ('f', 32768, 0, 5)]"),
    ("os.ilistdir('f')", ENOTDIR),
    ("os.ilistdir('missing')", ENOENT),
    ("os.listdir('d')", "['sub', 'x']"),
    # a folder of more names than the virtual board holds at once (LIST_BATCH), made in no order
    (f"os.mkdir('many'); [open('many/' + n, 'w').close() for n in {MANY!r}][:0]", "[]"),
    # littlefs's order: by bytes, a name after the longer names it begins (lfs2_dir_fetchmatch)
    ("[e[0] for e in os.ilistdir('many')]", ascii(sorted(MANY, key=lambda n: n.encode() + b"\xff"))),
    (f"[os.remove('many/' + n) for n in {MANY!r}][:0]; os.rmdir('many')", "None"),
    ("os.statvfs('/')[5:]", "(0, 0, 0, 0, 255)"),
    ("s = os.statvfs('/'); s[0] == s[1] and s[3] == s[4] and 0 < s[3] <= s[2]", "True"),
    # mkdir
    ("os.mkdir('d')", EEXIST),
    ("os.mkdir('f')", EEXIST),
    ("os.mkdir('/')", EEXIST),  # vfs.c
    ("os.mkdir('missing/x')", ENOENT),
    ("os.mkdir('f/x')", ENOTDIR),
    ("os.mkdir('a' * 300)", ENAMETOOLONG),
    ("os.mkdir('n/')", "None"),
    # remove and rmdir are one call on littlefs: files and empty folders go, full ones stay
    ("os.remove('missing')", ENOENT),
    ("os.remove('d')", ENOTEMPTY),
    ("os.rmdir('d')", ENOTEMPTY),
    ("os.remove('n')", "None"),
    ("open('g', 'w').close(); os.rmdir('g')", "None"),
    ("os.remove('/')", EPERM),  # vfs.c: no operation on the root itself
    ("os.remove('d/..')", EINVAL),
    # open: modes as vfs_lfsx_file.c parses them, errors as lfs2_file_opencfg_ returns them
    ("open('missing')", ENOENT),
    ("open('d')", EISDIR),
    ("open('d', 'w')", EISDIR),
    ("open('missing/x', 'w')", ENOENT),
    ("open('f/', 'w')", ENOTDIR),
    ("open('f', 'x')", EEXIST),
    ("open('f', 'rw')", "ValueError () ''"),
    ("open('a' * 300, 'w')", ENAMETOOLONG),
    ("open('f').read()", "'hello'"),
    ("open('f', 'rb').read()", "b'hello'"),
    ("f = open('f', 'a'); f.write('!'); f.close(); open('f').read()", "'hello!'"),
    ("f = open('f', 'r+'); f.write('J'); f.close(); open('f').read()", "'Jello!'"),
    ("f = open('h', 'x'); f.write('new'); f.close(); open('h').read()", "'new'"),
    ("f = open('h', 'w+'); f.write('ab'); f.seek(0); f.read()", "'ab'"),
    # rename: over a file replaces it; type clashes and full folders refuse
    ("os.rename('missing', 'x')", ENOENT),
    ("os.rename('f', 'd')", EISDIR),
    ("os.rename('d', 'f')", ENOTDIR),
    ("f = open('z', 'w'); f.write('zz'); f.close(); os.mkdir('e/in'); os.rename('e', 'd')",
     ENOTEMPTY),
    ("os.rename('f', 'f')", "None"),
    ("os.rename('z', 'f'); open('f').read()", "'zz'"),
    ("os.rename('f', 'q/')", ENOTDIR),
    ("os.rename('/', 'q')", EPERM),  # vfs.c
    ("os.rename('e/in', 'd/sub')", "None"),  # onto an empty folder
    ("os.stat('e/in')", ENOENT),
    ("os.rename('h', 'a' * 300)", ENAMETOOLONG),
    # chdir, getcwd and relative paths
    ("os.getcwd()", "'/'"),
    ("os.chdir('d')", "None"),
    ("os.getcwd()", "'/d'"),
    ("os.stat('x')", F.format(8)),
    ("os.chdir('sub')", "None"),
    ("os.getcwd()", "'/d/sub'"),
    ("os.chdir('..')", "None"),
    ("os.getcwd()", "'/d'"),
    ("os.chdir('/d/x')", ENOENT),  # a file: vfs_lfsx.c says ENOENT
    ("os.chdir('missing')", ENOENT),
    ("os.chdir('//d/./sub/')", "None"),
    ("os.getcwd()", "'/d/sub'"),
    ("os.chdir('/')", "None"),
    ("os.getcwd()", "'/'"),
]

DRIVER = r"""
import os, sys, vfs
sys.path.insert(0, MPY_DIR)

class RAMBlockDev:  # a board's flash, in RAM
    def __init__(self, block_size, blocks):
        self.bs = block_size
        self.data = bytearray(block_size * blocks)
    def readblocks(self, n, buf, off=0):
        a = n * self.bs + off
        buf[:] = self.data[a : a + len(buf)]
    def writeblocks(self, n, buf, off=0):
        a = n * self.bs + off
        self.data[a : a + len(buf)] = buf
    def ioctl(self, op, arg):
        if op == 4:
            return len(self.data) // self.bs
        if op == 5:
            return self.bs
        if op == 6:
            return 0

if KIND == "lfs2":
    bdev = RAMBlockDev(512, 256)
    vfs.VfsLfs2.mkfs(bdev)
    fs = vfs.VfsLfs2(bdev)
else:
    import _mptui_boardfs
    _mptui_boardfs.LIST_HEAP = 1 << 30  # batches of LIST_BATCH names: 'many' takes 3 passes
    fs = _mptui_boardfs.BoardFS(ROOT)
vfs.umount("/")
vfs.mount(fs, "/")
os.chdir("/")

def norm(r):
    if type(r).__name__ in ("generator", "polymorph_iter_with_finaliser", "iterator"):
        return "ITER"
    if isinstance(r, tuple) and len(r) == 10 and r[0] in (0x4000, 0x8000):
        r = list(r)
        if r[0] == 0x4000:
            r[6] = 0  # lfs2_stat_ leaves a folder's size unset (stack garbage on a board)
        elif r[7] == r[8] == r[9] and r[8] > 1700000000:
            r[7] = r[8] = r[9] = "T"
        return "(" + ", ".join(str(x) for x in r) + ")"
    return repr(r)

for code in ROWS:
    try:
        *body, last = code.split("; ")
        for stmt in body:
            exec(stmt)
        print(norm(eval(last)))
    except Exception as e:
        print(type(e).__name__, repr(e.args), repr(str(e)))
"""


def run_table(kind: str, root) -> list[str]:
    script = (
        f"KIND = {kind!r}\nROOT = {str(root)!r}\nMPY_DIR = {str(MPY_DIR)!r}\n"
        f"ROWS = {[code for code, _ in TABLE]!r}\n" + DRIVER
    )
    cmd = [*RuntimeOptions().command(), "-c", script]
    out = subprocess.run(cmd, capture_output=True, timeout=60, check=True, cwd=root).stdout
    return out.decode().splitlines()


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    root = tmp_path_factory.mktemp("boardfs")
    lfs2 = run_table("lfs2", tmp_path_factory.mktemp("lfs2"))
    board = run_table("board", root)
    return {"lfs2": lfs2, "board": board, "root": root}


@pytest.mark.parametrize("row", range(len(TABLE)), ids=[code for code, _ in TABLE])
def test_answers_as_a_boards_littlefs(answers, row):
    expected = TABLE[row][1]
    assert answers["lfs2"][row] == expected, "the table disagrees with littlefs itself"
    assert answers["board"][row] == expected


def test_the_board_folder_holds_what_the_board_wrote(answers):
    root = answers["root"]
    assert sorted(p.name for p in root.iterdir()) == ["d", "e", "f", "h"]
    assert (root / "f").read_bytes() == b"zz"
    assert (root / "d" / "x").read_bytes() == b"12345678"
    assert (root / "d" / "sub").is_dir()


async def test_the_running_board_mounts_it(board_root):
    (board_root / "lib").mkdir()
    (board_root / "main.py").write_bytes(b"")
    vb = VirtualBoard("t", root=board_root)
    async with vb:
        out = b""
        while b">>> " not in out:
            out += await vb.read()
        vb.write(
            b"import os, vfs; print(os.stat('main.py'), os.stat('lib'), list(os.ilistdir()),"
            b" vfs.mount(), os.getcwd())\r"
        )
        out = b""
        while b">>> " not in out:
            out += await vb.read()
    assert b"(32768, 0, 0, 0, 0, 0, 0, " in out
    assert b"(16384, 0, 0, 0, 0, 0, 0, 0, 0, 0)" in out
    assert b"[('lib', 16384, 0, 0), ('main.py', 32768, 0, 0)]" in out
    assert b"'/')] /\r\n" in out
