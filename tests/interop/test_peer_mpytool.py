"""mpytool (from PyPI) drives `mptui bridge` over its raw socket port (`-a HOST:PORT`).

mpytool checks a board's littlefs answers to the letter (a file is `os.stat()[0] == 32768`),
so it is the peer that notices a Linux-like filesystem."""

from __future__ import annotations

import os

from peers import MPYTOOL, run_tool

SIZE = 100 * 1024


def mpytool(served, *args: str) -> bytes:
    return run_tool(MPYTOOL, "-a", f"127.0.0.1:{served.socket_port}", *args).stdout


def test_ls_shows_files_and_folders(served):
    (served.root / "lib").mkdir()
    (served.root / "five.bin").write_bytes(b"12345")
    listing = mpytool(served, "ls", ":").splitlines()
    assert any(line.split() == [b"lib/"] for line in listing)
    assert any(line.split() == [b"5B", b"five.bin"] for line in listing), listing


def test_cp_both_ways_byte_identical(served, tmp_path):
    data = os.urandom(SIZE)
    (tmp_path / "up.bin").write_bytes(data)
    mpytool(served, "mkdir", ":/d")
    mpytool(served, "cp", str(tmp_path / "up.bin"), ":/d/up.bin")
    assert (served.root / "d" / "up.bin").read_bytes() == data
    back = data[::-1]
    (served.root / "down.bin").write_bytes(back)
    mpytool(served, "cp", ":/down.bin", str(tmp_path / "down.bin"))
    assert (tmp_path / "down.bin").read_bytes() == back


def test_exec(served):
    assert mpytool(served, "exec", "print('a\\nb', 6 * 7)") == b"a\r\nb 42\r\n"
