"""Cut trials: the power goes at a random point of the transfer or of the commit (20 in all);
after the restart the board runs the complete old release or the complete new one, never a mix.
bench/ota_soak.py runs 200 of these."""

from __future__ import annotations

import random

import pytest
from agentboards import app_files, cut_trial, make_project

from mptui.services.ota import push

TRIALS = 5  # per test; 4 tests


@pytest.mark.parametrize("phase,seed", [("transfer", 1), ("transfer", 2), ("commit", 3), ("commit", 4)])
async def test_power_cut(make_board, secrets, tmp_path, phase, seed):
    rng = random.Random(seed)
    board = await make_board()
    a = make_project(tmp_path, "1.0", app_files("1.0", extra=30), secrets)
    b = make_project(tmp_path, "2.0", app_files("2.0", extra=40, drop=True), secrets)
    assert (await push(board.address, a)).ok
    await board.wait_run("1.0")
    await board.wait_for(lambda: board.state().get("good"), what="settled")
    current, other = a, b
    trials = []
    for _ in range(TRIALS):
        trial = await cut_trial(board, current, other, phase, rng)
        trials.append(trial)
        if trial.outcome == "new":
            current, other = other, current
    print(*trials, sep="\n")
    if phase == "commit":  # the trials did reach the journal, not only the moments around it
        assert any(t.finished_at_boot for t in trials)
