"""The OTA tab driven with Pilot against virtual boards running the real agent: one board
through the engine (the app's own Session), ten over TCP with one key, errors in plain words,
the history, and no project at all."""

from __future__ import annotations

import asyncio

from agentboards import app_files, board_tree, free_port, release_tree, stall_transfers

from mptui.services.ota import actions as ota  # make_link is looked up there
from mptui.services.ota.history import History
from mptui.services.ota.install import agent_version, install
from mptui.services.ota.project import load_project
from mptui.ui.screens.confirm import ConfirmScreen
from mptui.ui.screens.help import HelpScreen
from mptui.ui.screens.ota_history import OtaHistoryScreen
from mptui.ui.screens.prompt import PromptScreen
from mptui.ui.widgets.ota_empty import OtaEmptyState

from .conftest import wait_until
from .ota_help import asked, cells, detail, open_tab, ota_secrets, write_project

SIZE = (120, 40)
PUSH_WAIT = 60  # seconds; only turns a hang into a failure


async def test_push_to_one_board_shows_phases_and_the_result(make_app, isolated, monkeypatch):
    secrets = ota_secrets(isolated)
    files = app_files("1.0")
    monkeypatch.chdir(write_project(isolated / "proj", "1.0", files, boards=[], secrets=secrets))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        # the app's own virtual board, through its Session (as a USB board would be)
        session = await app.manager.connect("virtual")
        await install(session, {"port": free_port(), "good_after": 0.3}, secrets)
        await session.hard_reset()
        tab = await open_tab(app, pilot)
        await asked(tab, "virtual")
        assert cells(tab, "virtual")[1:3] == [agent_version(), "none"]  # no release yet

        painted: list[str] = []
        update_rows = tab.table.update_rows
        sending_shown = asyncio.Event()

        def record(rows):
            update_rows(rows)
            for row in rows:
                if row.key == "virtual":
                    painted.append(cells(tab, "virtual")[3])
                    if painted[-1].startswith("sending"):
                        sending_shown.set()

        tab.table.update_rows = record
        link_for = tab.fleet._link_for

        def held_link(target):
            """The real link; its first file waits until a repaint has shown the transfer
            under way (however loaded the machine, one phase is seen as it happens)."""
            link = link_for(target)
            send_file = link.send_file

            async def send_when_shown(*args, **kwargs):
                await asyncio.wait_for(sending_shown.wait(), PUSH_WAIT)
                await send_file(*args, **kwargs)

            link.send_file = send_when_shown
            return link

        tab.fleet._link_for = held_link
        await pilot.press("p")
        row = tab.fleet.boards["virtual"]
        await wait_until(lambda: row.last is not None, timeout=PUSH_WAIT, what="the result")
        assert row.last[1].ok, row.last[1].error
        assert row.phases == ["connect", "verify", "transfer", "commit", "reboot", "online",
                              "done"]
        # asked again after the push: the release it runs now
        await wait_until(lambda: cells(tab, "virtual")[2:4] == ["1.0", "✓ 1.0 running"])
        shown = detail(tab)
        assert "✓ verify ✓ transfer 5/5 files" in shown and "✓ back online" in shown
        assert "✓ 1.0 running (5 files," in shown
        # the repaints showed the phases as they came, in order (how many of them a repaint
        # catches depends on the machine's load: "sending" for certain, never out of order)
        words = [w.split()[0] for w in painted if w.endswith(("…", "%"))]
        order = ["starting…", "connecting…", "verifying…", "sending", "committing…",
                 "rebooting…", "coming"]
        assert "sending" in words and words == sorted(words, key=order.index)

        # fast again: nothing to send; full (P): every file again
        await pilot.press("p")
        await wait_until(lambda: cells(tab, "virtual")[3] == "✓ up to date")
        await pilot.press("P")
        await wait_until(lambda: len(History().load()) == 3, timeout=PUSH_WAIT)
        assert [(r.full, r.results[0].files) for r in History().load()] == [
            (False, 5), (False, 0), (True, 5)]

    root = isolated / "boards" / "default"
    assert release_tree(root) == files
    assert (root / "data/runs.txt").read_text().splitlines()[-2:] == ["1.0 ok", "1.0 ok"]


async def test_ten_boards_pushed_in_parallel_with_one_key(make_app, isolated, agent_boards,
                                                          monkeypatch):
    boards = await agent_boards(*(f"b{i}" for i in range(10)))
    files = app_files("1.0")
    addresses = [b.address for b in boards]
    monkeypatch.chdir(write_project(isolated / "proj", "1.0", files, addresses))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_tab(app, pilot)
        await asked(tab, *addresses)
        await pilot.press("asterisk")  # the fleet: the project's boards, not the app's own
        assert tab.marked == set(addresses)

        at_first_done = {}
        update_rows = tab.table.update_rows

        def record(rows):
            update_rows(rows)
            if not at_first_done and any(r.phases[-1:] == ["done"] for r in rows):
                at_first_done.update({k: list(tab.fleet.boards[k].phases) for k in addresses})

        tab.table.update_rows = record
        await pilot.press("p")
        await wait_until(lambda: all(tab.fleet.boards[a].last for a in addresses),
                         timeout=PUSH_WAIT, what="ten results")
        results = [tab.fleet.boards[a].last[1] for a in addresses]
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]
        # in parallel: every board was past its transfer before the first one was done
        assert all("commit" in phases for phases in at_first_done.values()), at_first_done
        await wait_until(lambda: all(cells(tab, a)[2:4] == ["1.0", "✓ 1.0 running"]
                                     for a in addresses), what="the new release shown")

    for board in boards:
        await board.wait_run("1.0")
        assert release_tree(board.root) == files
        assert board.state()["v"] == "1.0"
    records = History().load()
    assert len(records) == 1 and [r.board for r in records[0].results] == addresses


async def test_cancel_stops_one_boards_push_and_the_others_go_on(make_app, isolated,
                                                                agent_boards, monkeypatch):
    slow, other = await agent_boards("slow", "other")
    files = app_files("2.0")
    addresses = [slow.address, other.address]
    monkeypatch.chdir(write_project(isolated / "proj", "2.0", files, addresses))
    real_link = ota.make_link
    mid_transfer = stall_transfers(monkeypatch, [slow.address])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_tab(app, pilot)
        await asked(tab, *addresses)
        assert not app.screen.active_bindings.get("x")  # no push, no cancel key
        await pilot.press("asterisk", "p")
        await wait_until(mid_transfer.is_set, timeout=PUSH_WAIT, what="a file on the board")
        await wait_until(lambda: "x" in app.screen.active_bindings, what="the cancel key")
        await pilot.press("asterisk")  # unmarked: x stops the board under the cursor
        tab.table.move_to(slow.address)
        await pilot.press("x")
        await wait_until(lambda: all(tab.fleet.boards[a].last for a in addresses),
                         timeout=PUSH_WAIT, what="both results")
        stopped, pushed = (tab.fleet.boards[a].last[1] for a in addresses)
        assert (stopped.ok, stopped.error_kind) == (False, "cancelled") and pushed.ok
        await wait_until(lambda: cells(tab, slow.address)[3] == "✗ cancelled")
        assert "cancelled (a transfer is undone" in detail(tab)
        assert not tab.fleet.running
        await pilot.press("x")  # nothing left to stop: said, not an error
        assert [r.error_kind for r in History().load()[0].results] == ["cancelled", ""]
        assert release_tree(slow.root) == {}  # it keeps what it had: no release, nothing staged
        assert not (slow.root / ".ota" / "stage").exists()

        monkeypatch.setattr(ota, "make_link", real_link)
        await pilot.press("p")  # the board is not left busy: the next push goes through
        await wait_until(lambda: len(History().load()) == 2, timeout=PUSH_WAIT)
        assert History().load()[1].results[0].ok

    for board in (slow, other):
        await board.wait_run("2.0")
        assert release_tree(board.root) == files


async def test_an_older_version_is_refused_then_pushed_with_d(make_app, isolated, agent_boards,
                                                             monkeypatch):
    (board,) = await agent_boards("kitchen")
    newer = write_project(isolated / "new", "2.0", app_files("2.0"), [board.address])
    assert (await ota.push(board.address, load_project(newer))).ok
    await board.wait_run("2.0")
    files = app_files("1.5")
    monkeypatch.chdir(write_project(isolated / "old", "1.5", files, [board.address]))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_tab(app, pilot)
        await asked(tab, board.address)
        await pilot.press("p")  # the board refuses an older version
        row = tab.fleet.boards[board.address]
        await wait_until(lambda: row.last is not None, timeout=PUSH_WAIT)
        assert row.last[1].error_kind == "downgrade"
        await wait_until(lambda: cells(tab, board.address)[3] == "✗ older version")
        await pilot.press("D")  # asks first
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen))
        assert "even where a newer one runs" in app.screen.question
        await pilot.press("enter")
        await wait_until(lambda: row.last[1].ok and not row.pushing, timeout=PUSH_WAIT)
    await board.wait_run("1.5")
    assert release_tree(board.root) == files


async def test_wrong_password_and_bad_signature_in_plain_words_and_the_history(
        make_app, isolated, agent_boards, monkeypatch):
    (board,) = await agent_boards("kitchen")
    wrong = ota_secrets(isolated, password="not the board's")
    project = write_project(isolated / "proj", "2.0", app_files("2.0"), [board.address], wrong)
    monkeypatch.chdir(project)
    before = board_tree(board.root)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_tab(app, pilot)
        await asked(tab, board.address)
        assert "wrong OTA password" in detail(tab)

        await pilot.press("p")
        row = tab.fleet.boards[board.address]
        await wait_until(lambda: row.last is not None, timeout=PUSH_WAIT)
        assert row.last[1].error_kind == "denied"
        await wait_until(lambda: cells(tab, board.address)[3] == "✗ wrong password")
        await wait_until(lambda: "✗ wrong OTA password" in detail(tab))

        # the right password, another signing key; the project read again (Ctrl-O)
        ota_secrets(project, key="not the board's key").save()
        await pilot.press("ctrl+o")
        await wait_until(lambda: isinstance(app.screen, PromptScreen))
        await pilot.press("enter")  # the current project's folder is offered
        await wait_until(lambda: tab.fleet.boards.get(board.address) is not row)
        row = tab.fleet.boards[board.address]
        await asked(tab, board.address)
        assert row.status.reachable and row.status.release is None
        await pilot.press("p")
        await wait_until(lambda: row.last is not None and row.last[1].version == "2.0"
                         and not row.pushing, timeout=PUSH_WAIT)
        assert row.last[1].error_kind == "signature"
        await wait_until(lambda: cells(tab, board.address)[3] == "✗ bad signature")
        await wait_until(lambda: "bad signature (the board's signing key differs" in detail(tab))

        await pilot.press("h")
        await wait_until(lambda: isinstance(app.screen, OtaHistoryScreen))
        listed = str(app.screen.query_one("#ota-history-list").render())
        first, second = listed.index("bad signature"), listed.index("wrong OTA password")
        assert first < second  # newest first
        assert listed.count("release 2.0, fast push to 1 board: 1 failed") == 2
        await pilot.press("escape")

    assert board_tree(board.root) == before  # nothing on the board changed
    assert [r.results[0].error_kind for r in History().load()] == ["denied", "signature"]


async def test_no_project_says_how_to_make_one_and_another_opens(make_app, isolated,
                                                                 monkeypatch):
    monkeypatch.chdir(isolated)
    elsewhere = write_project(isolated / "elsewhere", "1.0", app_files("1.0"),
                              ["ota://127.0.0.1:1"])  # nothing listens there
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_tab(app, pilot)
        await wait_until(lambda: tab.empty.display and "mptui ota init" in str(
            tab.empty.render()), what="the empty state")
        assert isinstance(app.focused, OtaEmptyState)
        assert not tab.check_action("push", ())
        palette = [title for title, _, _ in app.screen.palette_commands()]
        assert "OTA: Open another OTA project (a folder with an mptui.toml)" in palette
        assert not any(title.startswith("OTA: Push") for title in palette)

        await pilot.press("ctrl+o")
        await wait_until(lambda: isinstance(app.screen, PromptScreen))
        app.screen.query_one("Input").value = str(elsewhere)
        await pilot.press("enter")
        await asked(tab, "ota://127.0.0.1:1")
        await wait_until(lambda: cells(tab, "ota://127.0.0.1:1")[::3] == [
            "□ 127.0.0.1:1", "✗ unreachable"], what="the board shown unreachable")
        assert app.focused is tab.table

        palette = [title for title, _, _ in app.screen.palette_commands()]
        assert {("OTA: Push the release to the marked boards (or the one under the cursor) in "
                 "parallel: changed files only"), "OTA: Push the release, every file (a full push)",
                "OTA: Ask the boards which agent and release they run",
                "OTA: The history of pushes"} <= set(palette)
        await pilot.press("f1")
        await wait_until(lambda: isinstance(app.screen, HelpScreen))
        ids = {entry.id for entry in app.screen.keys}
        assert {"ota.mark", "ota.mark-all", "ota.push", "ota.push-full", "ota.refresh",
                "ota.history", "ota.project"} <= ids
