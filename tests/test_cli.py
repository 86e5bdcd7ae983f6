"""Every scripting command, run as the real `mptui` command against the virtual board."""

import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import run_cli, wait_until


@pytest.fixture
def root(isolated_env):
    """The `/` of the default virtual board the CLI uses."""
    path = isolated_env / "data" / "boards" / "default"
    path.mkdir(parents=True)
    return path


def ok(*args, **kw):
    r = run_cli("-d", "virtual", *args, **kw)
    assert r.returncode == 0, (r.stdout, r.stderr)
    return r


def test_exec_eval_run_and_board_errors(root, tmp_path):
    assert ok("exec", "print('hi'); print(6*7)").stdout == b"hi\r\n42\r\n"
    assert ok("eval", "1+2").stdout == b"3\r\n"
    prog = tmp_path / "prog.py"
    prog.write_text("for i in range(3):\n    print('line', i)\n")
    assert ok("run", str(prog)).stdout == b"line 0\r\nline 1\r\nline 2\r\n"
    r = run_cli("-d", "virtual", "exec", "print('before'); 1/0")
    assert r.returncode == 1
    assert r.stdout == b"before\r\n"
    assert r.stderr.decode().strip().splitlines()[-1] == "ZeroDivisionError: divide by zero"
    assert "Traceback" in r.stderr.decode()


def test_files_up_down_ls_cat_sha_df(root, tmp_path):
    data = os.urandom(100_000)
    src = tmp_path / "r.bin"
    src.write_bytes(data)
    ok("cp", str(src), ":r.bin")
    assert (root / "r.bin").read_bytes() == data
    r = ok("cp", str(src), ":r.bin")  # unchanged: skipped by hash
    assert b"0 copied, 1 unchanged" in r.stderr
    ok("cp", ":r.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == data
    assert ok("cat", ":r.bin").stdout == data  # binary cat does not crash
    assert ok("ls").stdout.decode().split() == ["r.bin"]
    assert ok("ls", "-l", "/").stdout.decode().split() == ["100000", "r.bin"]
    digest = hashlib.sha256(data).hexdigest()
    assert ok("sha256sum", ":r.bin").stdout.decode().split() == [digest, ":r.bin"]
    df = ok("df").stdout.decode().splitlines()
    assert df[0].split() == ["mount", "size", "used", "avail", "use%"] and df[1].startswith("/")


def test_tree_copy_skips_unchanged_and_force_copies(root, tmp_path):
    tree = tmp_path / "proj"
    (tree / "lib" / "deep").mkdir(parents=True)
    for i in range(5):
        (tree / f"f{i}.py").write_text(f"x = {i}\n")
    (tree / "lib" / "deep" / "m.py").write_text("y = 1\n")
    r = ok("cp", "-r", str(tree), ":")
    assert b"6 copied, 0 unchanged" in r.stderr
    assert (root / "proj" / "lib" / "deep" / "m.py").read_text() == "y = 1\n"
    (tree / "f0.py").write_text("x = 'changed'\n")
    assert b"1 copied, 5 unchanged" in ok("cp", "-r", str(tree), ":").stderr
    assert b"6 copied, 0 unchanged" in ok("cp", "-rf", str(tree), ":").stderr
    ok("cp", "-r", ":proj", str(tmp_path / "down"))
    assert (tmp_path / "down" / "lib" / "deep" / "m.py").read_text() == "y = 1\n"
    assert ok("ls", "-r", ":proj/lib").stdout.decode().split() == ["deep/", "deep/m.py"]


def test_mkdir_rm_rmdir_touch(root):
    ok("mkdir", "-p", ":a/b/c")
    assert (root / "a" / "b" / "c").is_dir()
    ok("touch", ":a/t.txt")
    assert (root / "a" / "t.txt").read_bytes() == b""
    ok("rmdir", ":a/b/c")
    assert not (root / "a" / "b" / "c").exists()
    r = run_cli("-d", "virtual", "rm", ":a")
    assert r.returncode == 1
    assert r.stderr.decode().strip() == "mptui: /a: Is a directory [EISDIR]"
    # a board's os.remove() takes an empty folder, its os.rmdir() a file (littlefs): mptui not
    ok("mkdir", ":a/empty")
    r = run_cli("-d", "virtual", "rm", ":a/empty")
    assert r.returncode == 1 and b"[EISDIR]" in r.stderr and (root / "a" / "empty").is_dir()
    r = run_cli("-d", "virtual", "rmdir", ":a/t.txt")
    assert r.returncode == 1 and b"[ENOTDIR]" in r.stderr and (root / "a" / "t.txt").is_file()
    ok("rm", "-r", ":a")
    assert not (root / "a").exists()


def test_errors_and_exit_codes(root):
    r = run_cli("-d", "virtual", "cat", ":missing")
    assert r.returncode == 1
    assert r.stderr.decode().strip() == "mptui: /missing: No such file or directory [ENOENT]"
    r = run_cli("-d", "nonsense://x", "ls")
    assert r.returncode == 2 and b"valid forms" in r.stderr and len(r.stderr.splitlines()) == 1
    r = run_cli("ls", "--bogus")
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1
    r = run_cli("-d", "virtual", "cp", "a", "b")
    assert r.returncode == 2 and b"board path" in r.stderr
    r = run_cli("-d", "socket://127.0.0.1:9", "ls")
    assert r.returncode == 1 and b"cannot connect" in r.stderr


BOOT_PY = """\
try:
    n = int(open('/boots').read())
except OSError:
    n = 0
with open('/boots', 'w') as f:
    f.write(str(n + 1))
import machine
machine.RTC().datetime((2001, 1, 2, 1, 3, 4, 5, 0))
print('boot ran')
"""


def test_soft_reset_reset_rtc_and_devices(start_bridge):
    """On one board that outlives the commands (served by the bridge): boot.py counts its boots
    in a file and sets the clock back to 2001."""
    bridge = start_bridge(files={"boot.py": BOOT_PY})
    counter = bridge.root / "boots"

    def boots() -> str:
        return counter.read_text() if counter.exists() else ""

    wait_until(lambda: boots() == "1", what="the board's first boot")

    def on_board(*args) -> bytes:
        r = run_cli("-d", bridge.socket_url, *args)
        assert r.returncode == 0, (r.stdout, r.stderr)
        return r.stdout

    on_board("exec", "x = 1")
    assert on_board("soft-reset") == b"boot ran\r\n"  # what boot.py printed as it reset
    assert boots() == "2" and on_board("eval", "'x' in globals()") == b"False\r\n"
    on_board("exec", "x = 1")
    on_board("reset")
    assert boots() == "3" and on_board("eval", "'x' in globals()") == b"False\r\n"

    assert on_board("rtc").decode().startswith("2001-01-02 03:04:0")
    started = time.time()
    on_board("rtc", "--set")  # from this computer's clock
    shown = on_board("rtc").decode().strip()  # read back by the next command
    board_clock = time.mktime(time.strptime(shown, "%Y-%m-%d %H:%M:%S"))
    assert started - 2 <= board_clock <= time.time() + 2, shown
    assert ok("devices").returncode == 0


def test_plain_repl(root, tmp_path):
    capture = tmp_path / "cap.txt"
    r = run_cli("-d", "virtual", "repl", "--capture", str(capture), input=b"6*7\r")
    assert r.returncode == 0
    assert b"42\r\n" in r.stdout and b"42\r\n" in capture.read_bytes()


def test_board_killed_mid_copy_keeps_old_file_and_exits_1(root, tmp_path):
    (root / "big.bin").write_bytes(b"old")
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(40_000_000))
    proc = subprocess.Popen(
        [sys.executable, "-m", "mptui", "-d", "virtual", "cp", str(src), ":big.bin"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    runtime = _wait_for_child(proc.pid)
    tmp = root / "big.bin.mptui~"
    wait_until(lambda: tmp.exists() and tmp.stat().st_size > 0, 20, "bytes on the board")
    os.kill(runtime, signal.SIGKILL)  # the board loses power mid-write
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert b"the board reset" in err and len(err.strip().splitlines()) == 1
    assert (root / "big.bin").read_bytes() == b"old"


def _wait_for_child(pid: int) -> int:
    def child() -> int:
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                return int(f.read().split()[0])
        except (OSError, IndexError):
            return 0

    return wait_until(child, 20, "the virtual board to start")
