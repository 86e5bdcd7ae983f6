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


def test_config_check_reads_with_the_code_that_uses_it(config_file):
    """Each problem the app or a command would meet later is one line with its place: the
    resolver for addresses, the key map for [keys], the theme loader for `theme`."""
    config_file.write_text(
        'theme = "nosuch"\n'                              # 1
        'colour = "red"\n'                                # 2
        '[boards.kitchen]\naddress = "nosuch://x"\n'     # 3-4
        '[boards.shed]\naddress = "ws://h"\nota = "h:99999"\n'  # 5-7
        '[keys]\n"app.nosuch" = "f5"\n"app.quit" = "ctrl+x"\n')  # 8-10
    done = mptui("config", "check")
    assert done.returncode == 1 and done.stdout == ""
    at = f"mptui: {config_file}, line"
    lines = done.stderr.splitlines()
    assert lines[0] == f"{at} 2: unknown setting 'colour' (known: theme, [boards], [keys], " \
        "[repl], [logs], [network], [commands])"
    assert lines[1].startswith(f"{at} 3: board 'kitchen' in the config: bad address "
                               "'nosuch://x'; valid forms:")
    assert lines[2].startswith(f"{at} 5: board 'shed' in the config: bad ota option 'h:99999'")
    assert lines[3] == f"{at} 9: [keys]: unknown binding id 'app.nosuch' (F1 in the app lists them)"
    assert lines[4] == f"{at} 1: unknown theme 'nosuch' (F9 in the app lists the themes)"
    assert len(lines) == 5


def test_config_check_warns_of_a_password_in_clear(config_file):
    secret = "Cl3ar-Text-99"
    config_file.write_text('theme = "mptui-light"\n[boards.lit]\naddress = "ws://h"\n'
                           f'password = "{secret}"\n[boards.ok]\naddress = "ws://g"\n'
                           'password = "env:OK_PW"\n')
    done = mptui("config", "check")
    assert done.returncode == 0
    assert done.stderr == (
        f"mptui: warning: {config_file}, line 2: board 'lit': the password is written in clear "
        'here; write password = "env:VAR" (an environment variable) or password = "file:PATH" '
        "(a file only you can read) instead\n")
    assert secret not in done.stdout + done.stderr
