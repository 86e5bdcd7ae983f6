"""mpremote (from PyPI) drives `mptui bridge` over socket:// and rfc2217://."""

from __future__ import annotations

import hashlib
import os

import pytest
from peers import MPREMOTE, run_tool

SIZE = 100 * 1024
PATTERN = bytes(range(256)) * 16  # 4 KiB, every byte value (0x03, 0x04, 0x0a, 0x0d, 0x18...)


@pytest.fixture(params=["socket", "rfc2217"])
def url(request, served) -> str:
    return served.socket_url if request.param == "socket" else served.rfc2217_url


def mpremote(url: str, *args: str) -> bytes:
    return run_tool(MPREMOTE, "connect", url, *args).stdout


def test_exec_and_eval(url):
    assert mpremote(url, "exec", "print('a\\nb')") == b"a\r\nb\r\n"
    assert mpremote(url, "eval", "[x * x for x in range(4)]") == b"[0, 1, 4, 9]\r\n"


def test_cp_both_ways_byte_identical(served, tmp_path):
    url = served.socket_url  # (rfc2217:// is as good, and twice as slow for mpremote)
    data = os.urandom(SIZE)
    (tmp_path / "up.bin").write_bytes(data)
    mpremote(url, "fs", "cp", str(tmp_path / "up.bin"), ":up.bin")
    assert (served.root / "up.bin").read_bytes() == data
    back = data[::-1]
    (served.root / "down.bin").write_bytes(back)
    mpremote(url, "fs", "cp", ":down.bin", str(tmp_path / "down.bin"))
    assert (tmp_path / "down.bin").read_bytes() == back


def test_fs_mkdir_ls_sha256sum_rm(served, tmp_path):
    url = served.socket_url
    data = os.urandom(5000)
    (tmp_path / "x.bin").write_bytes(data)
    mpremote(url, "fs", "mkdir", ":d")
    assert (served.root / "d").is_dir()
    mpremote(url, "fs", "cp", str(tmp_path / "x.bin"), ":d/x.bin")
    listing = mpremote(url, "fs", "ls", ":d")
    assert b"5000 x.bin" in listing
    assert b" d/" in mpremote(url, "fs", "ls", ":")
    digest = mpremote(url, "fs", "sha256sum", ":d/x.bin")
    assert hashlib.sha256(data).hexdigest().encode() in digest
    mpremote(url, "fs", "rm", ":d/x.bin")
    assert not (served.root / "d" / "x.bin").exists()
    mpremote(url, "fs", "rmdir", ":d")
    assert not (served.root / "d").exists()


def test_mount_board_writes_and_reads_binary_and_imports_a_package(url, tmp_path):
    folder = tmp_path / "project"
    (folder / "pkg").mkdir(parents=True)
    src = os.urandom(4096)
    (folder / "src.bin").write_bytes(src)
    (folder / "pkg" / "__init__.py").write_text("from . import mod\n")
    (folder / "pkg" / "mod.py").write_text(
        "def blob():\n    return open(__file__.rsplit('/', 1)[0] + '/blob.bin', 'rb').read()\n"
    )
    (folder / "pkg" / "blob.bin").write_bytes(PATTERN)
    code = (
        "import hashlib, binascii, pkg\n"
        "d = open('src.bin', 'rb').read()\n"
        "f = open('copy.bin', 'wb'); f.write(d); f.close()\n"
        "f = open('pattern.bin', 'wb'); f.write(bytes(range(256)) * 16); f.close()\n"
        "print(len(d), binascii.hexlify(hashlib.sha256(pkg.mod.blob()).digest()).decode())\n"
    )
    out = mpremote(url, "mount", str(folder), "exec", code)
    assert (folder / "copy.bin").read_bytes() == src  # read from the host, written back
    assert (folder / "pattern.bin").read_bytes() == PATTERN  # written by the board
    assert out.endswith(f"4096 {hashlib.sha256(PATTERN).hexdigest()}\r\n".encode())


def test_resume_keeps_the_board_as_it_was(url):
    mpremote(url, "exec", "kept = b'\\x00\\x03\\n'")
    assert mpremote(url, "resume", "eval", "kept") == b"b'\\x00\\x03\\n'\r\n"
