"""The Files tab on a folder made by `mptui ota init`: F2 (sync) never sends the secrets file
or a private key and its plan says so; F5 of every entry, the secrets file marked too, refuses
it by name."""

from __future__ import annotations

import subprocess
import sys

from textual.notifications import Notify

from mptui.ui.screens.confirm import ConfirmScreen
from mptui.ui.screens.sync_plan import SyncPlanScreen

from .conftest import wait_until
from .filehelp import make_tree, open_files, transfer_done, tree

SIZE = (100, 30)
SECRETS = ".mptui-secrets.toml"
PEM = b"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB0=\n-----END EC PRIVATE KEY-----\n"


def notices(messages) -> list[str]:
    return [m.notification.message for m in messages if isinstance(m, Notify)]


def ota_init(folder) -> None:
    r = subprocess.run([sys.executable, "-m", "mptui", "ota", "init"], cwd=folder,
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    make_tree(folder, {"certs/dev.key": PEM, "lib/util.py": "U = 1\n", ".git/HEAD": "x\n"})


async def test_f2_and_f5_never_send_the_secrets_file(make_app, project, board_root):
    ota_init(project)
    app = make_app()
    messages = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        tab = await open_files(app, pilot)
        await pilot.press("f2")
        await wait_until(lambda: isinstance(app.screen, SyncPlanScreen), what="the plan")
        screen = app.screen
        await wait_until(lambda: screen.plan is not None, what="the plan made")
        shown = str(screen.query_one("#sync-plan").render())
        assert f"warning: {SECRETS}: mptui's OTA secrets file (built in): never sent" in shown
        assert "warning: certs/dev.key: looks like a private key (PEM EC): skipped" in shown
        assert "mptui sync --allow-secrets" in shown
        assert f"new      {SECRETS}" not in shown and "ignored" not in shown
        await pilot.press("e")  # and what the ignore set leaves out, by which rule
        shown = str(screen.query_one("#sync-plan").render())
        assert "· ignored  .git/ (default rule '.git')" in shown
        await pilot.press("enter")
        await transfer_done(tab)
        sent = {"mptui.toml", ".gitignore", "app/main.py", "lib/util.py"}
        assert set(tree(board_root)) == sent

        for rel in sent:  # F5 of everything, the secrets file and the key marked too
            (board_root / rel).unlink()
        await pilot.press("asterisk", "f5")
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        messages.clear()
        await pilot.press("enter")
        await transfer_done(tab)
        assert set(tree(board_root)) == sent | {".git/HEAD"}  # marked, so chosen: it goes
        said = "\n".join(notices(messages))
        assert f"{project / SECRETS}: mptui's OTA secrets file (built in): never sent" in said
        assert "certs/dev.key: looks like a private key" in said
        assert "mptui cp --allow-secrets" in said
