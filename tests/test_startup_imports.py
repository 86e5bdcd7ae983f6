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
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
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


def test_the_app_imports_its_first_screen_only():
    modules = modules_after("import mptui.ui.launch, mptui.ui.app, mptui.ui.screens.main")
    assert "textual.app" in modules and "mptui.ui.widgets.repl_terminal" in modules
    assert loaded(modules, LATER_TABS) == []
    assert loaded(modules, DIALOGS) == []
