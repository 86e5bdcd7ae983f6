"""m in the Files tab: the local folder under the cursor mounted at /remote on the board (as
`mptui mount`), its modules imported there; m again unmounts (the real virtual board)."""

from __future__ import annotations

from textual.notifications import Notify

from mptui.services.mount import mounted

from .conftest import wait_until
from .filehelp import go_to, make_tree, open_files


async def test_m_mounts_the_folder_under_the_cursor_and_m_again_unmounts(make_app, project):
    make_tree(project, {"app/shown.py": "WORD = 'from the mount'\n", "top.py": "X = 1\n"})
    (project / "out.py").write_text("SECRET = 1\n")
    (project / "app" / "escape.py").symlink_to(project / "out.py")
    messages = []
    app = make_app()
    async with app.run_test(size=(100, 30), message_hook=messages.append) as pilot:
        tab = await open_files(app, pilot)
        session = app.manager.session("virtual")
        await go_to(pilot, tab.local_pane, "app")
        await pilot.press("m")
        await wait_until(lambda: mounted(session) is not None, what="the mount")
        assert mounted(session).folder == str(project / "app")
        out = await session.exec("import os, shown\nprint(os.getcwd(), shown.WORD, "
                                 "sorted(os.listdir()))")
        assert out == b"/remote from the mount ['shown.py']\r\n"  # the link out is not served
        out = await session.exec("try:\n open('escape.py')\nexcept OSError as e:\n print(e)")
        assert b"EPERM" in out or b"Errno 1" in out, out
        said = [m.notification.message for m in messages if isinstance(m, Notify)]
        assert "~/proj/app is mounted at /remote on virtual (m again: unmount)" in said
        # Ctrl-D at the board's REPL: a soft reset, after which the folder is mounted again
        app.manager.console.input("virtual", b"\x04")
        await wait_until(lambda: any("mounted again at /remote" in m.notification.message
                                     for m in messages if isinstance(m, Notify)),
                         timeout=30, what="the mount again")
        out = await session.exec("import os, shown\nprint(os.getcwd(), shown.WORD)")
        assert out == b"/remote from the mount\r\n"
        await pilot.press("m")
        await wait_until(lambda: mounted(session) is None, what="the unmount")
        assert await session.eval("'/remote' in __import__('os').listdir('/')") is False
