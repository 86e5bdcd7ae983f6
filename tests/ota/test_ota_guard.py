"""The boot guard: a release that keeps crashing is replaced by the previous one."""

from __future__ import annotations

from agentboards import PASSWORD, app_files, make_project, release_tree

from mptui.services.ota import push, status
from mptui.services.ota.links import AgentLink


async def _mark_good(board):
    link = AgentLink("127.0.0.1", board.port, PASSWORD)
    await link.open()
    try:
        await link.cmd("good")
    finally:
        await link.close()


async def test_crashing_release_rolled_back_after_three_boots(make_board, secrets, tmp_path):
    board = await make_board(good_after=0)  # good only when told (the app or the host)
    v1 = make_project(tmp_path, "1.0", app_files("1.0"), secrets)
    assert (await push(board.address, v1)).ok
    await board.wait_run("1.0")
    await _mark_good(board)

    bad = app_files("2.0", drop=True)
    bad["main.py"] = b"raise RuntimeError('broken release')\n"
    assert (await push(board.address, make_project(tmp_path, "2.0", bad, secrets))).ok
    runs = len(board.runs())
    for boots in (1, 2, 3):  # each boot of 2.0 crashes; a watchdog or a person resets it
        await board.wait_for(lambda b=boots: board.state().get("n") == b, what=f"boot {boots}")
        assert release_tree(board.root) == bad
        board.power_cycle()
    await board.wait_run("1.0", count=runs + 1)  # the 4th boot restored 1.0, which runs again
    assert release_tree(board.root) == v1.files()
    st = await status(board.address, secrets)
    assert st.release == "1.0" and st.good and st.previous is None
    assert "rolled back 2.0 after 3 unclean boots" in st.last


async def test_reset_loop_rolls_back_by_itself(make_board, secrets, tmp_path):
    board = await make_board(good_after=0)
    v1 = make_project(tmp_path, "1.0", app_files("1.0"), secrets)
    assert (await push(board.address, v1)).ok
    await board.wait_run("1.0")
    await _mark_good(board)
    loop = app_files("3.0")
    loop["main.py"] = b"import machine\nmachine.reset()\n"
    runs = len(board.runs())
    result = await push(board.address, make_project(tmp_path, "3.0", loop, secrets))
    await board.wait_for(lambda: len(board.runs()) > runs, what="1.0 to run again")
    assert board.runs()[-1] == "1.0 ok"
    assert release_tree(board.root) == v1.files()
    assert "rolled back 3.0" in board.state()["last"]
    # The host may catch 3.0 answering between two resets; mostly it sees the rollback.
    assert result.ok or result.error_kind == "rolledback", result.error
