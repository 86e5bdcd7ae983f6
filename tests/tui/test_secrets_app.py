"""The app never shows a WebREPL password: neither the one that works nor a wrong one, in its
notifications, on screen, or in any file it writes (its data and config dirs)."""

from __future__ import annotations

from helpers import WEBREPL_PW
from textual.notifications import Notify

from mptui.board.session import ERROR, IDLE
from mptui.ui.widgets.device_list import DeviceList

from .apphelp import painted
from .conftest import wait_until

WRONG = "Wq5#zr8Y"


async def test_passwords_from_the_config_never_show(make_app, config_file, webrepl_board,
                                                     monkeypatch, isolated):
    url = webrepl_board.url
    config_file.write_text(f'[boards.kitchen]\naddress = "{url}"\npassword = "env:KITCHEN_PW"\n')
    monkeypatch.setenv("KITCHEN_PW", WRONG)
    messages, screens = [], []
    app = make_app()
    async with app.run_test(size=(100, 30), message_hook=messages.append,
                            notifications=True) as pilot:
        devices = app.screen.query_one(DeviceList)
        await wait_until(lambda: url in devices.boards, what="the configured board")
        devices.select_board(url)
        await pilot.press("enter")
        await wait_until(lambda: app.manager.board(url).state == ERROR, what="refused")
        await wait_until(lambda: "Access denied" in painted(app), what="the notification")
        screens.append(painted(app))
        monkeypatch.setenv("KITCHEN_PW", WEBREPL_PW)
        await pilot.press("enter")  # again, with the right one
        await wait_until(lambda: app.manager.board(url).state == IDLE, what="connected")
        await pilot.pause()
        screens.append(painted(app))
    shown = [str(m.notification) for m in messages if isinstance(m, Notify)]
    assert any("Access denied" in text for text in shown)
    files = [p.read_bytes() for p in isolated.rglob("*") if p.is_file()
             and "boards" not in p.relative_to(isolated).parts]  # a board's flash is its own
    for secret in (WRONG, WEBREPL_PW):
        assert not [text for text in shown + screens if secret in text]
        assert not [data for data in files if secret.encode() in data]
