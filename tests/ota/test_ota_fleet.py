"""A fleet of 10 virtual boards pushed in parallel by the CLI (`mptui ota push --all`), and
pull mode (an agent polling `mptui ota serve`'s bundle folder)."""

from __future__ import annotations

import asyncio
import sys

import pytest
from agentboards import KEY, app_files, make_project, release_tree, stall_transfers

from mptui.services.ota import CANCELLED, push_fleet
from mptui.services.ota.project import Secrets
from mptui.services.ota.serve import BundleServer, write_bundle


async def _cli(*args, cwd) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mptui", *args, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, out.decode(), err.decode()


async def test_cli_pushes_ten_boards_in_parallel(make_board, secrets, tmp_path):
    boards = await asyncio.gather(*(make_board(f"b{i}") for i in range(10)))
    files = app_files("1.0")
    for rel, data in files.items():
        (tmp_path / "app" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "app" / rel).write_bytes(data)
    listed = ", ".join(f'"{b.address}"' for b in boards)
    (tmp_path / "mptui.toml").write_text(f'[ota]\nversion = "1.0"\nboards = [{listed}]\n')
    secrets.save()

    code, out, err = await _cli("ota", "push", "--all", cwd=tmp_path)
    assert code == 0, err
    assert out.count(": ok 1.0") == 10
    lines = err.splitlines()
    first_done = min(i for i, line in enumerate(lines) if line.endswith(": done 1.0 running"))
    last_transfer = max(i for i, line in enumerate(lines) if ": transfer " in line)
    assert last_transfer < first_done  # all ten were under way before any finished
    for b in boards:
        await b.wait_run("1.0")
        assert release_tree(b.root) == files

    code, out, err = await _cli("ota", "status", "--all", cwd=tmp_path)
    assert code == 0 and out.count("release 1.0") == 10
    assert secrets.password not in out + err and KEY not in out + err


async def test_a_cancelled_fleet_push_leaves_every_board_as_it_was(make_board, secrets,
                                                                   tmp_path, monkeypatch):
    boards = await asyncio.gather(make_board("c0"), make_board("c1"))
    targets = [b.address for b in boards]
    project = make_project(tmp_path, "1.0", app_files("1.0"), secrets)
    all_sent = stall_transfers(monkeypatch, targets)
    running: dict = {}
    failed = asyncio.Queue()

    def on_event(event) -> None:
        if event.phase == "failed":
            failed.put_nowait((event.board, event.message))

    pushing = asyncio.ensure_future(push_fleet(targets, project, running=running,
                                               on_event=on_event))
    await asyncio.wait_for(all_sent.wait(), 60)
    assert set(running) == set(targets)
    running[targets[0]].cancel()  # one board (the tab's x): said at once, the other goes on
    assert await asyncio.wait_for(failed.get(), 30) == (targets[0], CANCELLED)
    assert not running[targets[1]].done() and not pushing.done()
    pushing.cancel()  # then the whole push (the app quits, Ctrl-C)
    with pytest.raises(asyncio.CancelledError):
        await pushing
    assert not running and await failed.get() == (targets[1], CANCELLED)
    for board in boards:  # each transfer was undone on the board: nothing staged, no release
        assert release_tree(board.root) == {}
        assert not (board.root / ".ota" / "stage").exists()
        assert (await board.wait_agent()).get("v") is None


async def test_pull_mode_picks_up_a_served_bundle(make_board, secrets, tmp_path):
    folder = tmp_path / "bundle"
    folder.mkdir()
    v1 = make_project(tmp_path, "1.0", app_files("1.0"), secrets)
    requests: list[str] = []  # the server's log: "127.0.0.1 GET /manifest.json 200"
    server = await BundleServer(folder, port=0, log=requests.append).start()

    async def three_polls() -> list[str]:
        """Until the agent has asked for the manifest three more times (so at least two polls
        have seen the folder as it is now, and one has ended); the requests meanwhile."""
        start = len(requests)
        await board.wait_for(lambda: sum(" /manifest.json " in r for r in requests[start:]) >= 3,
                             what="three more polls")
        return requests[start:]

    try:
        board = await make_board(pull=f"http://127.0.0.1:{server.port}/", pull_every=0.2)
        write_bundle(v1, folder)  # signed for the boards installed with these keys: this one
        await board.wait_run("1.0")
        assert release_tree(board.root) == v1.files()

        v2 = make_project(tmp_path, "2.0", app_files("2.0", drop=True), secrets)
        write_bundle(v2, folder)
        await board.wait_run("2.0")
        assert release_tree(board.root) == v2.files()

        await board.wait_for(lambda: board.state().get("good"), what="2.0 marked good")
        before = release_tree(board.root)
        forged = Secrets(tmp_path / "x.toml", signing_key="not the board's key")
        write_bundle(make_project(tmp_path, "3.0", app_files("3.0"), forged), folder)
        runs = len(board.runs())
        polled = await three_polls()
        assert not [r for r in polled if " /f/" in r]  # refused before fetching a file
        assert release_tree(board.root) == before and len(board.runs()) == runs
        assert (await board.wait_agent())["v"] == "2.0"

        looping = app_files("4.0")
        looping["main.py"] = b"import machine\nmachine.reset()\n"
        write_bundle(make_project(tmp_path, "4.0", looping, secrets), folder)
        await board.wait_for(lambda: board.state().get("bad") == "4.0", what="4.0 rolled back")
        await board.wait_run("2.0", count=runs + 1)
        polled = await three_polls()
        assert not [r for r in polled if " /f/" in r]  # 4.0, rolled back from, is not taken again
        assert board.state()["v"] == "2.0" and len(board.runs()) == runs + 1
        assert release_tree(board.root) == before
    finally:
        await server.stop()


async def test_cli_passwd_changes_boards_and_keeps_the_old_one_while_needed(make_board, secrets,
                                                                            tmp_path):
    from mptui.services.ota import status
    from mptui.services.ota.project import load_secrets

    boards = await asyncio.gather(make_board("p0"), make_board("p1"))
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("pass\n")
    (tmp_path / "mptui.toml").write_text('[ota]\nversion = "1.0"\n')
    secrets.save()
    away = "ota://127.0.0.1:1"  # a board that cannot be reached right now
    code, out, err = await _cli("ota", "passwd", "--generate", "-d", boards[0].address,
                                "-d", boards[1].address, "-d", away, cwd=tmp_path)
    assert code == 1 and f"{away}: FAILED: board unreachable" in out
    new = load_secrets(secrets.path)
    assert new.password != secrets.password
    assert new.password not in out + err and secrets.password not in out + err
    assert new.previous_password == secrets.password  # kept for the board that was away
    for b in boards:
        assert (await status(b.address, new)).reachable
    assert not (await status(boards[0].address, secrets)).reachable  # the old one is refused
    new.previous_password = ""
    assert (await status(boards[1].address, new)).reachable
