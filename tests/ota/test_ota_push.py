"""Install, push (fast and full), status, the app on the new release, dropped files removed;
over the agent's TCP server and over the engine."""

from __future__ import annotations

from agentboards import app_files, make_project, release_tree

from mptui.services.ota import push, status
from mptui.services.ota.install import agent_version
from mptui.services.ota.links import EngineLink


async def test_install_push_fast_full_status(make_board, secrets, tmp_path):
    board = await make_board()
    info = await board.wait_agent()
    assert info["agent"] == agent_version() and info["v"] is None
    assert (board.root / "mptui_agent/release.mpy").exists()  # mpy-cross matches the board
    assert b"mptui_agent.boot()" in (board.root / "boot.py").read_bytes()

    v1 = make_project(tmp_path, "1.0", app_files("1.0"), secrets)
    events = []
    r1 = await push(board.address, v1, on_event=events.append)
    assert r1.ok, r1.error
    assert r1.files == len(v1.files())
    phases = [e.phase for e in events]
    for phase in ("connect", "verify", "transfer", "commit", "reboot", "online", "done"):
        assert phase in phases
    assert events[-1].bytes_done == events[-1].bytes_total == r1.bytes
    await board.wait_run("1.0")
    assert release_tree(board.root) == v1.files()

    files2 = app_files("2.0", drop=True)
    v2 = make_project(tmp_path, "2.0", files2, secrets)
    r2 = await push(board.address, v2)
    assert r2.ok, r2.error
    changed = {p for p in files2 if files2[p] != v1.files().get(p)}
    assert r2.files == len(changed) < len(files2)  # fast: the unchanged blob was not sent
    await board.wait_run("2.0")
    assert board.runs()[-1] == "2.0 ok"
    assert release_tree(board.root) == files2  # lib/old_only.py is gone
    assert not (board.root / "lib/old_only.py").exists()

    again = await push(board.address, v2)
    assert again.ok and again.up_to_date and again.files == 0
    full = await push(board.address, v2, full=True)
    assert full.ok and full.files == len(files2)
    await board.wait_run("2.0", count=3)

    st = await status(board.address, secrets)
    assert st.reachable and st.agent == agent_version()
    assert (st.release, st.previous) == ("2.0", "2.0")
    await board.wait_for(lambda: board.state().get("good"), what="the release marked good")
    assert (await status(board.address, secrets)).good


async def test_push_over_the_engine(make_board, secrets, tmp_path):
    """A USB board: the same staging and commit run through the raw REPL."""
    board = await make_board()
    v1 = make_project(tmp_path, "1.0", app_files("1.0"), secrets)
    r = await push(board.name, v1, link=EngineLink(board.session))
    assert r.ok, r.error
    await board.power_up_and_run("1.0")  # (the push's own run may be cut: see there)
    assert release_tree(board.root) == v1.files()
    v2 = make_project(tmp_path, "2.0", app_files("2.0", drop=True), secrets)
    events = []
    r = await push(board.name, v2, link=EngineLink(board.session), on_event=events.append)
    assert r.ok, r.error
    assert "online" in [e.phase for e in events]
    await board.power_up_and_run("2.0")
    assert release_tree(board.root) == app_files("2.0", drop=True)
    st = await status(board.address, secrets)
    assert st.release == "2.0"
