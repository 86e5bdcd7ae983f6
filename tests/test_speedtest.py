"""`mptui speedtest` and services/speedtest.py: the figures are the link's and the board's own
(a rate near the profile's wire, the window the board granted, its free heap), the JSON is
complete, and a hostile probe answer is refused, never run. Structural checks with wide
margins: no timing is asserted beyond "in the right order of magnitude"."""

from __future__ import annotations

import json

import pytest
from helpers import run_cli

from mptui.board import BoardError
from mptui.services.speedtest import SpeedTest, _answers, speedtest


@pytest.mark.parametrize("link_profile", ["uart:115200", "esp8266"], indirect=True)
async def test_a_uart_measures_near_its_wire(link_profile, session):
    result = await speedtest(session)
    # 115200 baud moves 11,520 B/s: measured within a wide band, each way
    assert 3_000 < result.up < 15_000 and 3_000 < result.down < 15_000
    assert result.up_bytes >= 2048 and result.down_bytes >= 2048
    assert result.raw_paste_window == session.repl.window == 128  # the board's own grant
    free = await session.eval("__import__('gc').mem_free()")
    assert result.heap_free and free / 4 < result.heap_free < free * 4
    if link_profile.profile == "esp8266":
        assert result.heap_free < 64 * 1024  # its 38 KB heap, not the runtime's 2 MB
    assert result.deflate == 1  # this runtime inflates only
    assert result.binascii and "sha256" in result.hashlib
    plan = result.plan
    assert plan and plan.window <= 256 and plan.block > 0  # never more than the ring in flight
    assert plan.block * 16 <= result.heap_free or plan.block <= 256


@pytest.mark.parametrize("link_profile", ["fast", "usb-cdc"], indirect=True)
async def test_a_fast_link_is_far_faster_than_a_uart(link_profile, session):
    result = await speedtest(session)
    assert result.up > 40_000 and result.down > 40_000  # (a UART: 11,520 B/s at most)
    assert result.raw_paste_window == 128
    assert result.up_bytes > 2048  # the second burst grew with the rate
    labels = [label for label, _ in result.rows()]
    assert labels[:3] == ["link", "round trip", "host -> board"] and "transfers" in labels


def test_the_cli_prints_json(isolated_env):
    r = run_cli("-d", "virtual:spd", "speedtest", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["up"] > 0 and d["down"] > 0 and d["raw_paste_window"] == 128
    assert set(d["plan"]) == {"block", "window", "compressed", "why"}


@pytest.mark.parametrize("answer", [b"__import__('os').system('x')", b"[1, 2]", b"\xff\xfe",
                                    b"{'free': 'lots', 'deflate': 9, 'hashlib': 'md5'}"])
def test_a_hostile_answer_is_refused_or_ignored(answer):
    result = SpeedTest()
    try:
        _answers(result, answer)
    except BoardError:
        return
    assert result.heap_free is None and result.deflate == 0 and result.hashlib == []
