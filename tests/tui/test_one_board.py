"""One board, one entry (issue 21, item 2): the agent is installed from the OTA tab (with its
progress), the board then announces itself, and the app lists it once, by its id, with every
way to reach it: its REPL link, its agent's OTA and RemoteIO servers. The Logs tab's calls on
that entry reach its agent; the OTA tab asks its agent when its link is busy."""

from __future__ import annotations

import socket

from agentboards import free_port  # tests/ota, on sys.path (conftest.py)

from mptui.ui.ota_text import progress_words
from mptui.ui.screens.call_form import CallScreen
from mptui.ui.screens.confirm import ConfirmScreen
from mptui.ui.widgets.device_list import DeviceList
from mptui.ui.widgets.ota_tab import OtaTab

from .apphelp import notices
from .conftest import wait_until
from .logs_help import open_logs
from .ota_help import write_project

SIZE = (120, 36)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def agent_project(root, monkeypatch, config_file):
    """A project whose agent listens on free ports and announces itself often, on loopback,
    where the app listens; the current folder."""
    udp, ota, rio = free_udp_port(), free_port(), free_port()
    project = write_project(root / "proj", "1.0", {"main.py": b"print('app 1.0')\n"}, [])
    with open(project / "mptui.toml", "a") as f:
        f.write(f"[ota.agent]\nport = {ota}\nremoteio_port = {rio}\nannounce_port = {udp}\n"
                "announce_every = 0.3\n")
    monkeypatch.chdir(project)
    config_file.write_text(f'[network]\nannounce_port = {udp}\nannounce_bind = "127.0.0.1"\n')
    return ota, rio


async def test_install_from_the_ota_tab_then_one_entry_with_every_way(
        make_app, isolated, monkeypatch, config_file):
    ota, rio = agent_project(isolated, monkeypatch, config_file)
    app = make_app(network=True)
    messages = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        manager = app.manager
        devices = app.screen.query_one(DeviceList)
        await wait_until(lambda: "virtual" in devices.boards)
        await pilot.press("ctrl+right_square_bracket", "o")
        tab = app.screen.query_one(OtaTab)
        await wait_until(lambda: "virtual" in tab.fleet.boards, what="the OTA list")
        tab.focus_tab()  # the table (the project was read after the key)
        tab.table.move_to("virtual")
        await pilot.pause()
        shown = []  # what the row says as the install goes (as the table words it)
        on_event = tab.fleet._on_event
        tab.fleet._on_event = lambda event: (on_event(event), shown.append(
            progress_words(event)))
        await pilot.press("i")  # install, after a question
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("enter")
        await wait_until(lambda: any("agent 2.0 installed" in n for n in notices(messages)),
                         timeout=60, what="the install")
        assert shown[0] == "connecting…" and shown[-2:] == ["rebooting…", "done"]
        files = [w for w in shown if w.startswith("installing the agent ")]
        assert files and files[-1].split()[-1] in {f"{n}/{n}" for n in range(5, 20)}
        row = tab.fleet.boards["virtual"]
        await wait_until(lambda: row.status is not None and row.status.agent == "2.0",
                         timeout=30, what="the agent answering")
        board = manager.board("virtual")
        assert board.board_id and row.status.info.get("id") == board.board_id

        # its agent announces itself: the same board, one entry with every way to reach it
        await wait_until(lambda: manager.board("virtual").agent, timeout=30,
                         what="the announcement, merged")
        board = manager.board("virtual")
        assert board.ways == ("virtual", f"rio://127.0.0.1:{rio}", f"ota://127.0.0.1:{ota}")
        assert [b.name for b in manager.boards()].count("virtual") == 1
        assert list(devices.boards) == ["virtual"]
        assert manager.find(f"rio://127.0.0.1:{rio}") == board
        tab.boards_changed()
        assert list(tab.fleet.boards) == ["virtual"]  # not a second row for its agent

        # the Logs tab's call on this entry reaches its agent
        devices.focus()
        logs = await open_logs(pilot)
        assert logs.model.callable_boards() == ["virtual"]
        logs.action_call()
        await wait_until(lambda: isinstance(app.screen, CallScreen), what="the form")
        form = app.screen
        await pilot.pause()
        assert form.value("board") == "virtual"
        form.query_one("#call-name").value = "ping"
        form.call()
        await wait_until(lambda: form.result.startswith(("✓", "✗")), what="the answer")
        assert form.result.startswith("✓ ping"), form.result


async def test_an_agent_installed_elsewhere_is_found_the_same_board_and_asked_at_its_agent(
        make_app, isolated, monkeypatch, config_file):
    from mptui.board import Session
    from mptui.board.session import RUNNING
    from mptui.services.ota.install import board_settings, install
    from mptui.services.ota.project import load_project

    ota, rio = agent_project(isolated, monkeypatch, config_file)
    project = load_project()
    root = isolated / "boards" / "default"  # the app's virtual board, as `mptui ota install` does
    async with Session("virtual", root=root) as session:
        await install(session, board_settings(project.agent, session.address), project.secrets)
    app = make_app(network=True)
    async with app.run_test(size=SIZE) as pilot:
        manager = app.manager
        devices = app.screen.query_one(DeviceList)
        await wait_until(lambda: "virtual" in devices.boards)
        await pilot.press("c")  # it boots with its agent, which announces itself; the board,
        # idle at its prompt, is asked its agent's id (no key typed is lost meanwhile)
        await pilot.press("enter", "6", "*", "7", "enter")
        await wait_until(lambda: manager.board("virtual").agent == f"rio://127.0.0.1:{rio}",
                         timeout=30, what="the merge")
        await wait_until(lambda: list(devices.boards) == ["virtual"], what="one entry")
        terminal = app.focused
        await wait_until(lambda: "42" in "\n".join(terminal.model.display()), what="6*7")
        text = "\n".join(terminal.model.display()).rstrip()
        assert text.endswith("\n>>> 6*7\n42\n>>>") and text.count("MicroPython") == 1, text
        await pilot.press("ctrl+right_square_bracket", "o")
        tab = app.screen.query_one(OtaTab)
        await wait_until(lambda: "virtual" in tab.fleet.boards, what="the OTA list")
        assert list(tab.fleet.boards) == ["virtual"]
        assert tab.fleet.boards["virtual"].agent == f"ota://127.0.0.1:{ota}"
        # the tab's first look asks the idle board through its link (keys typed meanwhile
        # would wait for it): the board is idle again before the test's own operation
        await wait_until(lambda: tab.fleet.boards["virtual"].status is not None,
                         what="the OTA tab's first look at the board")

        manager.console.input("virtual", b"while True: pass\r\r")  # its link is busy now
        await manager.wait_state("virtual", RUNNING)
        row = tab.fleet.boards["virtual"]
        row.status = None
        await tab.fleet.refresh(["virtual"], explicit=True)
        assert row.status.reachable and row.status.agent == "2.0"  # asked at its agent
        assert row.status.board == f"ota://127.0.0.1:{ota}"
        assert manager.board("virtual").state == RUNNING  # the program was left running
        manager.console.input("virtual", b"\x03")
