"""One handler for every worker's failure (ui/workers.py, MptuiApp.worker_failed): an error
mptui did not expect is one line in the app and a traceback in the log, the board's state says
it, and the app runs on; an MptuiError is its one line."""

from __future__ import annotations

from textual.notifications import Notify

from mptui import log
from mptui.board import BoardDisconnected
from mptui.board.session import ERROR
from mptui.ui.widgets.device_list import DeviceList

from .conftest import wait_until

SIZE = (100, 30)


def notices(messages) -> list[str]:
    return [m.notification.message for m in messages if isinstance(m, Notify)]


async def test_an_exception_in_a_worker_is_one_line_and_its_traceback_is_in_the_log(
        make_app, isolated, monkeypatch):
    path = log.setup(path=isolated / "state" / "mptui.log", stderr=False)  # as `mptui` does
    app = make_app()
    calls = []

    async def broken(key, console=None):
        calls.append(key)
        raise RuntimeError("injected into the connect worker")

    monkeypatch.setattr(app.manager, "connect", broken)
    messages: list = []
    try:
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            devices = app.screen.query_one(DeviceList)
            await wait_until(lambda: devices.option_count == 1)
            await pilot.press("enter")  # opens the board: a worker
            await wait_until(lambda: notices(messages), what="the notification")
            assert notices(messages) == [
                ("virtual: unexpected error (RuntimeError: injected into the connect worker); "
                f"the details are in {path}")]
            board = app.manager.board("virtual")
            assert (board.state, board.error) == (
                ERROR, notices(messages)[0].removeprefix("virtual: "))
            assert calls == ["virtual"] and app.is_running  # the app runs on
            await pilot.press("enter")  # and the next try works the same way
            await wait_until(lambda: len(notices(messages)) == 2)
        text = path.read_text()
        assert "unexpected error in open_board" in text
        assert "Traceback (most recent call last)" in text
        assert 'raise RuntimeError("injected into the connect worker")' in text
    finally:
        log.close()


async def test_an_mptui_error_in_a_worker_is_its_one_line(make_app, isolated, monkeypatch):
    app = make_app()
    disconnect = app.manager.disconnect

    async def lost(key):
        monkeypatch.setattr(app.manager, "disconnect", disconnect)  # once
        raise BoardDisconnected("virtual: the link was closed")

    monkeypatch.setattr(app.manager, "disconnect", lost)
    messages: list = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        devices = app.screen.query_one(DeviceList)
        await wait_until(lambda: devices.option_count == 1)
        await pilot.press("enter")
        await wait_until(lambda: app.manager.board("virtual").connected, what="connected")
        app.screen.action_disconnect()
        await wait_until(lambda: notices(messages), what="the notification")
        assert notices(messages) == ["virtual: the link was closed"]
        assert not (isolated / "state" / "mptui.log").exists()  # no bug: nothing to report
