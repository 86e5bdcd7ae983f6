"""The real mpremote CLI against the bridge, over socket:// and rfc2217:// (the `url` fixture)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time

import pytest

SIZE = 100 * 1024


def test_exec(url, mpremote):
    assert mpremote(url, "exec", "print(6 * 7)").stdout.strip() == "42"


def test_eval(url, mpremote):
    assert mpremote(url, "eval", "1 + 2").stdout.strip() == "3"


def test_soft_reset_clears_state(url, bridge, mpremote):
    resets = bridge.board.soft_resets
    out = mpremote(url, "exec", "y = 1", "soft-reset", "eval", "'y' in globals()").stdout
    assert out.strip() == "False"
    assert bridge.board.soft_resets >= resets + 2  # mpremote's own on connect, then ours


def test_resume_keeps_state_across_connections(url, mpremote):
    mpremote(url, "exec", "x = 5")
    assert mpremote(url, "resume", "eval", "x").stdout.strip() == "5"


def test_fs_ls(url, bridge, mpremote):
    (bridge.root / "hello.py").write_text("print('hi')\n")
    (bridge.root / "lib").mkdir()
    out = mpremote(url, "fs", "ls", ":").stdout
    assert "hello.py" in out and "lib/" in out


def test_cp_up_is_byte_identical(url, bridge, mpremote, tmp_path):
    data = os.urandom(SIZE)
    local = tmp_path / "up.bin"
    local.write_bytes(data)
    mpremote(url, "fs", "cp", str(local), ":up.bin")
    assert (bridge.root / "up.bin").read_bytes() == data


def test_fs_sha256sum(url, bridge, mpremote):
    data = os.urandom(SIZE)
    (bridge.root / "data.bin").write_bytes(data)
    out = mpremote(url, "fs", "sha256sum", ":data.bin").stdout
    assert hashlib.sha256(data).hexdigest() in out


def test_cp_down_is_byte_identical(url, bridge, mpremote, tmp_path):
    data = os.urandom(SIZE)
    (bridge.root / "down.bin").write_bytes(data)
    local = tmp_path / "down.bin"
    mpremote(url, "fs", "cp", ":down.bin", str(local))
    assert local.read_bytes() == data


def test_mount(url, mpremote, tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "m.py").write_text("X = 42\n")
    out = mpremote(url, "mount", str(folder), "exec", "import m; print(m.X)").stdout
    assert out.splitlines()[-1].strip() == "42"


def test_board_sees_its_own_folder_not_the_host(url, bridge, mpremote):
    (bridge.root / "mine.txt").write_text("x")
    listing = mpremote(url, "exec", "import os; print(sorted(os.listdir('/')))").stdout
    assert listing.strip() == "['mine.txt']"
    mpremote(url, "exec", "open('/x.txt', 'w').write('written on the board')")
    assert (bridge.root / "x.txt").read_text() == "written on the board"
    # above the root, a board's littlefs says EINVAL (lfs2_dir_find): nothing beyond is seen
    escape = "import os\ntry:\n os.listdir('/../../..')\nexcept OSError as e:\n print(e)"
    assert mpremote(url, "exec", escape).stdout.strip() == "[Errno 22] EINVAL"


def test_mpremote_stops_a_looping_main_py(start_bridge, mpremote):
    bridge = start_bridge(files={"main.py": "while True:\n    pass\n"})
    for url in (bridge.socket_url, bridge.rfc2217_url):
        assert mpremote(url, "exec", "print('in charge')").stdout.strip() == "in charge"


def test_client_killed_mid_transfer_leaves_the_bridge_serving(url, bridge, mpremote, tmp_path):
    data = os.urandom(SIZE)
    local = tmp_path / "big.bin"
    local.write_bytes(data)
    proc = subprocess.Popen(
        mpremote.argv(url, "fs", "cp", str(local), ":big.bin"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until(lambda: _size(bridge.root / "big.bin") > 4096, proc)
    finally:
        proc.kill()
        proc.wait()
    assert mpremote(url, "exec", "print('still here')").stdout.strip() == "still here"
    assert mpremote(url, "eval", "2 ** 10").stdout.strip() == "1024"


def _size(path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _wait_until(condition, proc, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"mpremote ended (status {proc.returncode}) before the transfer began")
        if time.monotonic() > deadline:
            pytest.fail("the transfer did not start")
        time.sleep(0.02)  # polling: the deadline above ends it
