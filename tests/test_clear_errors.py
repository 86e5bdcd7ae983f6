"""Bad input from the user's own files gets one clear line, never a traceback: a config file
that is not UTF-8 or not TOML (every command, and the app), a password file that is missing,
a bridge root that is a file."""

from __future__ import annotations

import pytest
from helpers import run_cli

from mptui.config import SecretError, load_config, resolve_secret

NOT_UTF8 = b'# mine\ntheme = "caf\xe9"\n'  # Latin-1, as an old editor saves it
NOT_TOML = b'theme = "x"\n[boards\n'
COMMANDS = [  # each reads the config; board commands on the virtual board
    ("config", "check"), ("-d", "virtual", "exec", "print(6*7)"), ("-d", "virtual", "ls"),
    ("devices", "--webrepl"), ("sync", "--help"), ("logs", "--help"),
]


@pytest.fixture
def config(isolated_env):
    return isolated_env / "config.toml"


@pytest.mark.parametrize("content, why", [(NOT_UTF8, "line 2: not UTF-8 text"),
                                          (NOT_TOML, "Expected ']'")])
def test_a_bad_config_file_is_one_line_in_every_command(config, content, why):
    config.write_bytes(content)
    for args in COMMANDS:
        done = run_cli(*args)
        err = done.stderr.decode()
        assert "Traceback" not in err, (args, err)
        if "--help" not in args:
            [line] = [x for x in err.splitlines() if str(config) in x]
            assert why in line, (args, err)
    assert load_config().error.startswith(f"{config}")
    ran = run_cli("-d", "virtual", "exec", "print(6*7)")  # the defaults serve meanwhile
    assert ran.returncode == 0 and ran.stdout == b"42\r\n"


async def test_the_app_starts_with_a_config_that_is_not_utf8(config):
    from textual.notifications import Notify

    from mptui.services.manager import DeviceManager
    from mptui.ui.app import MptuiApp

    config.write_bytes(NOT_UTF8)
    cfg = load_config()
    messages = []
    app = MptuiApp(cfg, DeviceManager(cfg, network=False))
    async with app.run_test(message_hook=messages.append) as pilot:
        await pilot.pause()
        shown = [m.notification.message for m in messages if isinstance(m, Notify)]
        why = f"{config}, line 2: not UTF-8 text (TOML files are UTF-8)"
        assert shown == [f"config ignored: {why}"]
        assert app.is_running


def test_a_password_file_that_is_missing_is_named(config, tmp_path):
    missing = tmp_path / "no-such" / "pw"
    with pytest.raises(SecretError, match=f"{missing} does not exist"):
        resolve_secret(f"file:{missing}")
    config.write_text(f'[boards.kitchen]\naddress = "ws://127.0.0.1:9"\n'
                      f'password = "file:{missing}"\n')
    done = run_cli("-d", "kitchen", "ls")
    assert done.returncode == 2
    assert done.stderr.decode() == (f"mptui: config: board 'kitchen': password \"file:{missing}\""
                                    f": {missing} does not exist\n")


async def test_the_app_names_a_missing_password_file(config, tmp_path):
    from mptui.board import BoardError
    from mptui.board.session import ERROR
    from mptui.services.manager import DeviceManager

    missing = tmp_path / "pw"
    config.write_text(f'[boards.kitchen]\naddress = "ws://127.0.0.1:9"\n'
                      f'password = "file:{missing}"\n')
    async with DeviceManager(load_config(), network=False, usb=None) as manager:
        with pytest.raises(BoardError, match=f"{missing} does not exist"):
            await manager.connect("ws://127.0.0.1:9")
        board = manager.board("ws://127.0.0.1:9")
        assert board.state == ERROR and f"{missing} does not exist" in board.label


def test_bridge_root_that_is_a_file(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for root in (afile, afile / "sub"):
        done = run_cli("bridge", "--root", str(root), "-p", "0", "-s", "0", "--webrepl-port",
                       "1", "--password", "pw")
        assert done.returncode == 2
        assert done.stderr.decode() == (f"mptui bridge: error: --root {root}: {afile} is a file, "
                                        "not a folder (try 'mptui bridge --help')\n")
    assert afile.read_text() == "x"
