"""`mptui config path|check`: where the config is, and one clear error for a bad one."""

from __future__ import annotations

import subprocess
import sys


def mptui(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mptui", *args], check=False,
                          capture_output=True, text=True, timeout=30)


def test_config_path_follows_the_environment(config_file):
    done = mptui("config", "path")
    assert (done.returncode, done.stdout) == (0, f"{config_file}\n")


def test_config_check(config_file):
    assert mptui("config", "check").returncode == 0
    config_file.write_text("[boards.lab]\naddress = 5\n")
    done = mptui("config", "check")
    assert done.returncode == 1
    assert done.stderr == f"mptui: {config_file}, line 1: board 'lab' needs an 'address' string\n"
