"""Work that can wait waits while board output streams in (mptui/ui/quiet.py)."""

from __future__ import annotations

import asyncio
import time

from textual.app import App

from mptui.ui import quiet


async def test_work_waits_for_the_output_to_stop_then_runs(monkeypatch):
    app = App()
    async with app.run_test():
        checks: list[float] = []
        checked_twice = asyncio.Event()
        set_timer = app.set_timer

        def counting_set_timer(delay, callback, **kwargs):  # each one a look at the output
            checks.append(delay)
            if len(checks) == 2:
                checked_twice.set()
            return set_timer(delay, callback, **kwargs)

        monkeypatch.setattr(app, "set_timer", counting_set_timer)
        done = asyncio.Event()
        quiet.output_came(time.monotonic() + 3600)  # output goes on (for an hour)
        quiet.when_quiet(app, done.set)
        await asyncio.wait_for(checked_twice.wait(), 10)
        assert not done.is_set()  # looked twice: output still streams in
        quiet.output_came(float("-inf"))  # it stopped
        await asyncio.wait_for(done.wait(), 10)


async def test_work_runs_at_once_when_quiet_and_in_the_end_when_not():
    app = App()
    async with app.run_test():
        quiet.output_came(float("-inf"))
        now = asyncio.Event()
        quiet.when_quiet(app, now.set)
        await asyncio.wait_for(now.wait(), 10)
        quiet.output_came(time.monotonic() + 3600)
        later = asyncio.Event()
        quiet.when_quiet(app, later.set, patience=0)  # no patience: it runs anyway
        await asyncio.wait_for(later.wait(), 10)
    quiet.output_came(float("-inf"))


def test_a_new_terminal_keeps_the_app_busy_until_its_first_output():
    quiet.output_came(float("-inf"))
    assert quiet.quiet()
    quiet.output_expected(time.monotonic())  # a terminal was made for a board
    assert not quiet.quiet()
    quiet.output_came(float("-inf"))  # (its prompt, long ago)
    assert quiet.quiet()
