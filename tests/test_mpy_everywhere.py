"""One .mpy compiler for cp, sync, watch and OTA (services/mpy.py): compiled for the board's
version and native arch (read from sys.implementation._mpy), cached by content hash in the
user's cache folder, the board's stale .py removed once the .mpy is there; a board that
mpy-cross does not fit is told so and gets the .py."""

from __future__ import annotations

import stat

from helpers import run_cli

from mptui.services.mpy import MpyCompiler, MpyTransform, split_mpy
from mptui.services.ota.project import compile_mpy

NATIVE = b"import micropython\n@micropython.native\ndef f():\n    return 7\nVALUE = 42\n"


def project(base):
    root = base / "proj"
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "util.py").write_bytes(NATIVE)
    (root / "main.py").write_text("import lib.util\n")
    (root / "boot.py").write_text("pass\n")
    return root


def test_cp_mpy_compiles_for_the_board_and_it_runs(isolated_env):
    root = project(isolated_env)
    board = isolated_env / "data" / "boards" / "cpm"
    board.mkdir(parents=True)
    (board / "lib").mkdir()
    (board / "lib" / "util.py").write_text("VALUE = 0\n")  # the stale source it replaces
    r = run_cli("-d", "virtual:cpm", "cp", "-r", "--mpy", str(root / "lib"), str(root / "main.py"),
                str(root / "boot.py"), ":")
    assert r.returncode == 0, r.stderr
    assert b"1 compiled to .mpy (0 from the cache)" in r.stderr
    assert (board / "lib" / "util.mpy").read_bytes()[:1] == b"M"
    assert not (board / "lib" / "util.py").exists()  # removed, after the .mpy was in place
    assert (board / "main.py").read_bytes() == b"import lib.util\n"  # never compiled
    assert (board / "boot.py").exists() and not (board / "boot.mpy").exists()
    r = run_cli("-d", "virtual:cpm", "exec",
                "import lib.util\nprint(lib.util.f(), lib.util.VALUE, lib.util.__file__)")
    # the native function runs: compiled with -march for the board's arch (x64 here)
    assert r.stdout.split()[:2] == [b"7", b"42"] and r.stdout.strip().endswith(b"util.mpy")
    r = run_cli("-d", "virtual:cpm", "cp", "-f", "--mpy", str(root / "lib" / "util.py"), ":lib/")
    assert r.returncode == 0, r.stderr
    assert b"1 compiled to .mpy (1 from the cache)" in r.stderr  # another process, same cache
    cached = list((isolated_env / "home" / ".cache" / "mptui" / "mpy").rglob("*.mpy"))
    assert [p.read_bytes() for p in cached] == [(board / "lib" / "util.mpy").read_bytes()]


def test_a_board_mpy_cross_does_not_fit_gets_the_py(isolated_env, tmp_path):
    old = tmp_path / "mpy-cross"  # an mpy-cross built for another MicroPython
    old.write_text("#!/bin/sh\necho 'MicroPython v1.18; mpy-cross emitting mpy v5'\n")
    old.chmod(old.stat().st_mode | stat.S_IXUSR)
    root = project(isolated_env)
    r = run_cli("-d", "virtual:old", "cp", "--mpy", str(root / "lib" / "util.py"), ":",
                env={"MPTUI_MPY_CROSS": str(old)})
    assert r.returncode == 0, r.stderr
    assert b"the board loads .mpy v6.3 but mpy-cross makes v5.0" in r.stderr
    assert b"copying the .py files as they are" in r.stderr
    board = isolated_env / "data" / "boards" / "old"
    assert (board / "util.py").read_bytes() == NATIVE and not (board / "util.mpy").exists()


async def test_the_cache_serves_every_compiler(session, tmp_path):
    cache = tmp_path / "cache"
    first = MpyCompiler(cache=cache)
    await first.for_board(session)
    assert first.arch == split_mpy(await session.eval(
        "__import__('sys').implementation._mpy"))[1] == "x64"
    name, data = await MpyTransform(first)("lib/util.py", NATIVE)
    assert name == "lib/util.mpy" and (first.hits, first.misses) == (0, 1)
    assert await MpyTransform(first)("main.py", b"x=1\n") == ("main.py", b"x=1\n")
    again = MpyCompiler(cache=cache)  # a new process: the cache on disk
    await again.for_board(session)
    assert await again.compile(NATIVE, "lib/util.py") == data and (again.hits, again.misses) == (1, 0)
    assert await again.compile(NATIVE, "lib/other.py") != data and again.misses == 1  # name counts
    files = sorted(p.name for p in cache.rglob("*.mpy"))
    assert len(files) == 2 and not list(cache.rglob("*.tmp"))


async def test_ota_uses_the_same_compiler_and_cache(session, board_root, isolated_env):
    mpy = await session.eval("__import__('sys').implementation._mpy")
    data = compile_mpy("otamod.py", NATIVE, mpy)  # as an OTA build does, for this board
    cached = list((isolated_env / "home" / ".cache" / "mptui" / "mpy").rglob("*.mpy"))
    assert [p.read_bytes() for p in cached] == [data]
    (board_root / "otamod.mpy").write_bytes(data)
    assert await session.eval("__import__('otamod').f()") == 7
