"""Wireless boards in the DeviceManager and the app: a configured WebREPL board served by the
bridge's WebREPL port, and a BLE board on Bumble's virtual radio found by the scan key, both
with the real MicroPython runtime behind them."""

from __future__ import annotations

import pytest
from helpers import BLE_NAME, WEBREPL_PW
from textual.notifications import Notify
from textual.widgets import Input

from mptui.board import BoardAccessDenied
from mptui.board.session import ERROR, IDLE
from mptui.services.sources import BleSource
from mptui.transports.webrepl import ENV_PASSWORD
from mptui.ui.screens.prompt import PromptScreen
from mptui.ui.widgets.device_list import DeviceList
from mptui.ui.widgets.repl_terminal import ReplTerminal
from mptui.ui.widgets.status_line import StatusLine

from .conftest import wait_until

PW = WEBREPL_PW
SIZE = (100, 30)


@pytest.fixture
def kitchen(config_file, webrepl_board):
    """The WebREPL board in the config as `kitchen`, with no password of its own."""
    config_file.write_text(f'[boards.kitchen]\naddress = "{webrepl_board.url}"\n')
    return webrepl_board.url


def ble_source(radio, mtu: int | None = 247) -> BleSource:
    scanner, client = radio.bleak_backends(mtu=mtu)
    return BleSource(0.3, scanner_backend=scanner, client_backend=client)


def shown(terminal: ReplTerminal) -> str:
    return "\n".join(terminal.model.display())


def notices(messages) -> list[Notify]:
    return [m for m in messages if isinstance(m, Notify)]


async def repl_answers(app, pilot) -> ReplTerminal:
    """With the REPL focused: Enter gives a prompt, 6*7 gives 42."""
    await wait_until(lambda: isinstance(app.focused, ReplTerminal), what="the REPL focused")
    terminal = app.focused
    await pilot.press("enter")
    await wait_until(lambda: shown(terminal).rstrip().endswith(">>>"), what="the prompt")
    await pilot.press("6", "*", "7", "enter")
    await wait_until(lambda: "6*7\n42\n>>>" in shown(terminal), what="42")
    return terminal


async def answer_password(app, pilot, password: str) -> None:
    await wait_until(lambda: isinstance(app.screen, PromptScreen), what="the password prompt")
    field = app.screen.query_one(Input)
    assert field.password  # typed masked
    assert "kitchen" in str(app.screen.query_one("Label").render())
    field.value = password
    await pilot.press("enter")


# -- the app ----------------------------------------------------------------------------------


async def test_webrepl_board_password_asked_wrong_then_right(make_app, kitchen):
    messages = []
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        devices = app.screen.query_one(DeviceList)
        await wait_until(lambda: kitchen in devices.boards, what="the configured board")
        assert devices.boards[kitchen].name == "kitchen"
        devices.select_board(kitchen)
        await wait_until(lambda: app.screen.selected == kitchen)

        await pilot.press("enter")
        await answer_password(app, pilot, "wrong")
        await wait_until(lambda: notices(messages), what="a message")
        [refused] = notices(messages)
        assert refused.notification.title == "Access denied"
        assert refused.notification.severity == "error"
        assert refused.notification.message.startswith("kitchen: ")
        assert "Access denied: wrong WebREPL password" in refused.notification.message
        assert app.manager.board(kitchen).state == ERROR
        assert "Access denied" in str(app.screen.query_one(StatusLine).render())

        await pilot.press("enter")  # try again: asked again
        await answer_password(app, pilot, PW)
        await repl_answers(app, pilot)
        assert app.manager.board(kitchen).state == IDLE
        screen_text = str(app.screen.query_one(StatusLine).render()) + str(
            devices.get_option(kitchen).prompt
        )
    seen = screen_text + " ".join(str(m.notification) for m in notices(messages))
    assert PW not in seen


async def test_ble_board_found_by_the_scan_key(make_app, radio, ble_board):
    app = make_app(ble=ble_source(radio))
    key = f"ble:{BLE_NAME}"
    async with app.run_test(size=SIZE) as pilot:
        devices = app.screen.query_one(DeviceList)
        await wait_until(lambda: devices.option_count == 1, what="the virtual board")
        assert key not in devices.boards  # no scan until asked

        await pilot.press("b")
        await wait_until(lambda: key in devices.boards, what="the BLE board")
        rssi = devices.boards[key].rssi
        assert isinstance(rssi, int) and rssi < 0
        assert f"{BLE_NAME} {rssi} dBm" in str(devices.get_option(key).prompt)

        devices.select_board(key)
        await wait_until(lambda: app.screen.selected == key)
        assert f"{rssi} dBm" in str(app.screen.query_one(StatusLine).render())
        await pilot.press("enter")
        await repl_answers(app, pilot)
        assert app.manager.session(key).transport.mtu == 247


# -- the DeviceManager, no UI -----------------------------------------------------------------


async def test_where_the_webrepl_password_comes_from(make_manager, config_file, webrepl_board, monkeypatch):
    """The command line's, else the environment, else the board's config entry, else asked
    (the order of every command: services/boards.py); each source is tried with wrong
    passwords in every place after it."""
    monkeypatch.setenv("KITCHEN_PW", PW)
    monkeypatch.setenv("WRONG_PW", "wrong")
    asked = []

    async def ask(board):
        asked.append(board.name)
        return answers.pop(0)

    cases = [
        # (config password reference, --password, $MPTUI_WEBREPL_PASSWORD, answers to ask)
        ("env:WRONG_PW", PW, "wrong", ["wrong"]),
        ("env:WRONG_PW", None, PW, ["wrong"]),
        ("env:KITCHEN_PW", None, None, ["wrong"]),
        (None, None, None, [PW]),
    ]
    for ref, cli, env, answers in cases:  # noqa: B007 - ask() above pops from it
        entry = f'password = "{ref}"\n' if ref else ""
        config_file.write_text(f'[boards.kitchen]\naddress = "{webrepl_board.url}"\n{entry}')
        if env:
            monkeypatch.setenv(ENV_PASSWORD, env)
        else:
            monkeypatch.delenv(ENV_PASSWORD, raising=False)
        async with make_manager(password=cli, ask_password=ask) as manager:
            session = await manager.connect(webrepl_board.url)
            assert await session.eval("6*7") == 42
    assert asked == ["kitchen"]  # only when nothing else gave one


async def test_a_refused_password_is_its_own_error(make_manager, kitchen, monkeypatch):
    monkeypatch.setenv(ENV_PASSWORD, "wrong")
    async with make_manager() as manager:
        with pytest.raises(BoardAccessDenied, match="Access denied") as refused:
            await manager.connect(kitchen)
        assert isinstance(refused.value.__cause__, Exception)  # the transport's own error
        board = manager.board(kitchen)
        assert board.state == ERROR and "Access denied" in board.label


async def test_ble_scan_lists_with_rssi_and_connects(make_manager, radio, ble_board):
    async with make_manager(ble=ble_source(radio, mtu=None)) as manager:
        [board] = await manager.scan_ble()
        assert (board.key, board.name, board.kind) == (f"ble:{BLE_NAME}", BLE_NAME, "ble")
        assert board.rssi < 0 and ble_board.address in board.description
        session = await manager.connect(board.key)
        assert session.transport.mtu == 23
        assert await session.eval("6*7") == 42
