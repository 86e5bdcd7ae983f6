"""What start-up imports (structural, not timed: bench/cli.py and bench/tui.py time it): a
command imports its own module and what it uses, never the app's (Textual and the rest); the
app imports its first screen, not the other tabs' modules (they come when first needed)."""

from __future__ import annotations

import json
import subprocess
import sys

# Not for a command on a serial-less, network-less board: the TUI and the other transports.
APP_ONLY = ("textual", "rich", "pyte", "plotext", "textual_plotext", "tomlkit", "websockets",
            "bleak", "watchfiles", "textual_serve", "aiohttp", "serial", "mptui.ui",
            "mptui.services.ota", "mptui.services.manager", "mptui.services.sync")
# Not for the app's first screen: the other tabs, and what only they use.
LATER_TABS = ("plotext", "textual_plotext", "tomlkit", "mptui.ui.widgets.files_tab",
              "mptui.ui.widgets.file_pane", "mptui.ui.widgets.ota_tab",
              "mptui.ui.widgets.logs_tab", "mptui.services.ota.actions", "mptui.services.sync")
# Nor the dialogs it does not open (F1, Ctrl-Q's question, a macro's output: its Log widget).
DIALOGS = ("mptui.ui.screens.help", "mptui.ui.screens.confirm", "mptui.ui.screens.macro_output",
           "textual.widgets._log")


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    probe = f"{code}\nimport sys\nloaded = sorted(sys.modules)\nimport json\nprint(json.dumps(loaded))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=60)
    return set(json.loads(done.stdout.splitlines()[-1]))


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def test_version_imports_no_command_and_nothing_of_the_app():
    modules = modules_after(
        "from mptui.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass")
    assert loaded(modules, APP_ONLY) == []
    assert loaded(modules, ("mptui.commands", "asyncio")) == []


def test_exec_imports_its_command_only_and_nothing_of_the_app():
    modules = modules_after(
        "from mptui.cli import main\nassert main(['-d', 'virtual:t', 'exec', 'x = 6 * 7']) == 0")
    assert "mptui.commands.code" in modules and "mptui.board.session" in modules  # it ran
    assert loaded(modules, APP_ONLY) == []
    assert loaded(modules, ("mptui.commands",)) == [
        "mptui.commands", "mptui.commands.broadcast", "mptui.commands.chain",
        "mptui.commands.code", "mptui.commands.common"]  # (a chain of one; -d once or more)


# What running code on one board does not use: the macros, the filesystem and the helper's
# hashing (loaded when first used), JSON (info --json), and ssl (no board link is TLS).
NOT_FOR_EXEC = ("mptui.macros", "mptui.board.fs", "mptui.board.fs_write", "mptui.board.batch",
                "json", "hashlib", "shlex", "ssl", "_ssl")


def test_exec_on_a_socket_board_loads_neither_the_filesystem_nor_ssl(bridge):
    modules = modules_after(
        "from mptui.cli import main\n"
        f"assert main(['-d', {bridge.socket_url!r}, 'exec', 'open(\\'ran\\', \\'w\\').close()']) == 0")
    assert (bridge.root / "ran").exists()  # it ran on the board
    assert loaded(modules, NOT_FOR_EXEC) == []
    assert "asyncio" in modules and "mptui.transports.tcp" in modules


def test_ls_hashes_nothing_so_loads_no_hashlib(bridge):
    """hashlib brings OpenSSL (~2 ms): imported where a file's bytes are checked, not for a
    listing."""
    (bridge.root / "seen.txt").write_text("x")
    probe = ("import io, sys\nfrom mptui.cli import main\nsys.stdout = io.StringIO()\n"
             f"code = main(['-d', {bridge.socket_url!r}, 'ls'])\nout = sys.stdout.getvalue()\n"
             "sys.stdout = sys.__stdout__\nassert code == 0 and out.split() == ['seen.txt'], out")
    modules = modules_after(probe)
    assert loaded(modules, ("hashlib", "_hashlib", "random", "ssl")) == []


def test_ssl_works_after_a_board_command_and_for_commands_that_may_fetch():
    """A board command's asyncio does without ssl, yet `import ssl` still works in that
    process; a command that may fetch (mip) gets an asyncio with ssl."""
    without = modules_after(
        "from mptui.cli import main\ntry:\n    main(['-d', 'socket://127.0.0.1:1', 'ls'])\n"
        "except SystemExit:\n    pass\nassert 'ssl' not in __import__('sys').modules\n"
        "import ssl, urllib.request\nassert urllib.request.HTTPSHandler and ssl.create_default_context()")
    assert "ssl" in without  # imported by the probe, after the command
    mip = modules_after(
        "from mptui.cli import main\ntry:\n    main(['mip'])\nexcept SystemExit:\n    pass\n"
        "import asyncio.sslproto\nassert asyncio.sslproto.ssl is not None")
    assert "ssl" in mip


def test_no_board_address_is_tls():
    """Board commands import asyncio without ssl (cli._asyncio_without_ssl): a TLS link
    (wss://) must take its command out of cli.BOARD_ONLY first."""
    from mptui.transports.address import FORMS

    assert not any(form.lower().startswith(("wss", "https", "ssl", "tls")) for form in FORMS)


def test_the_app_imports_its_first_screen_only():
    modules = modules_after("import mptui.ui.launch, mptui.ui.app, mptui.ui.screens.main")
    assert "textual.app" in modules and "mptui.ui.widgets.repl_terminal" in modules
    assert loaded(modules, LATER_TABS) == []
    assert loaded(modules, DIALOGS) == []


def says_ok(probe: str) -> None:
    """Run `probe` in a fresh interpreter: it prints ok, or its error shows."""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.stdout.strip() == "ok", done.stderr


def test_the_app_imports_asyncio_without_ssl():
    """The app's links are boards' (none is TLS): its asyncio does without ssl, as a board
    command's; mip's fetches (urllib) still get ssl."""
    probe = (
        "import sys\n"
        "import mptui.ui.launch as launch\n"
        "seen = []\n"
        "def run_app(args, run_macro=None):\n"
        "    import asyncio.sslproto, urllib.request, ssl\n"
        "    seen.append((asyncio.sslproto.ssl, bool(ssl.create_default_context())))\n"
        "    return 0\n"
        "launch.run_app = run_app\n"
        "from mptui.cli import main\n"
        "assert main([]) == 0 and seen == [(None, True)], seen\n"
        "print('ok')\n")
    says_ok(probe)


def test_the_cycle_collector_is_on_while_a_command_runs():
    """The program pauses the collector for its start-up only: a long command (repl, bridge)
    must not run without it."""
    probe = (
        "import gc, sys\n"
        "import mptui.commands.common as common\n"
        "seen = []\n"
        "run_steps = common.run_steps\n"
        "common.run_steps = lambda steps: seen.append(gc.isenabled()) or run_steps(steps)\n"
        "sys.argv = ['mptui', '-d', 'virtual:t', 'exec', 'x = 6 * 7']\n"
        "from mptui.cli import main\n"
        "assert main() == 0\n"
        "assert seen == [True], seen\n"
        "print('ok')\n")
    says_ok(probe)
