"""The host's log model: lines from chunks, the bounded buffer and its counters, numbers for
charts, filters; announcements parsed defensively."""

from __future__ import annotations

import re

import pytest

from mptui.services.announce import parse_announcement
from mptui.services.logs import (
    DROP,
    STATUS,
    LineSplitter,
    LogBuffer,
    LogLine,
    format_line,
    line_filter,
    numbers,
)


def test_chunks_become_lines():
    s = LineSplitter("b")
    assert [x.text for x in s.feed("one\r\ntw", 1.0)] == ["one"]
    assert [x.text for x in s.feed("o\nthree\n", 2.0)] == ["two", "three"]
    assert s.feed("progress 10%\rprogress 90%\rdone\n")[0].text == "done"
    assert s.feed("no newline") == []
    (tail,) = s.flush(3.0)
    assert (tail.text, tail.timestamp, tail.board) == ("no newline", 3.0, "b")
    assert s.flush() == []
    long = s.feed("x" * 20000)
    assert [len(x.text) for x in long] == [8192, 8192] and len(s.partial) == 20000 - 16384


@pytest.mark.parametrize(("text", "found"), [
    ("temp=24.3 hum=61", {"temp": 24.3, "hum": 61.0}),
    ("temp=24.3C t: 100ms", {"temp": 24.3, "t": 100.0}),
    ("x=-5 y=+.5e3 z=1e-2", {"x": -5.0, "y": 500.0, "z": 0.01}),
    ("v=1.2.3 ip=192.168.1.1 id=abc", {}),
    ("a.b=3, c_d = 4; a.b=5", {"a.b": 5.0, "c_d": 4.0}),
    ("12:30 nothing here", {}),
])
def test_numbers_in_a_line(text, found):
    assert numbers(text) == found


def lines(board, *texts, t0=100.0):
    return [LogLine(board, t0 + i, t) for i, t in enumerate(texts)]


def test_the_buffer_is_bounded_and_counts():
    buf = LogBuffer(limit=3)
    buf.extend(lines("a", "1", "2", "3", "4"))
    buf.append(LogLine("b", 200.0, "2 lines dropped", DROP, 2))
    assert [x.text for x in buf] == ["3", "4", "2 lines dropped"]
    assert (buf.evicted, buf.received, buf.board_dropped) == (2, {"a": 4, "b": 1}, {"b": 2})
    buf.set_limit(1)
    assert len(buf) == 1 and buf.evicted == 4
    buf.clear()
    assert len(buf) == 0 and buf.received == {"a": 4, "b": 1}
    with pytest.raises(ValueError):
        LogBuffer(0)


def test_series_keys_and_filters(tmp_path):
    buf = LogBuffer()
    buf.extend(lines("a", "temp=20 hum=50", "boot", "temp=21"))
    buf.extend(lines("b", "temp=30", "ERROR: sensor", t0=200.0))
    buf.append(LogLine("a", 300.0, "temp=99 (a note, not output)", STATUS))
    assert buf.series("temp") == [(100.0, 20.0), (102.0, 21.0), (200.0, 30.0)]
    assert buf.series("temp", board="a") == [(100.0, 20.0), (102.0, 21.0)]
    assert buf.keys() == ["temp", "hum"] and buf.keys("b") == ["temp"]
    assert [x.text for x in buf.matching("error")] == ["ERROR: sensor"]
    assert [x.text for x in buf.matching("error", ignore_case=False)] == []
    assert [x.text for x in buf.matching(r"^temp=2\d", regex=True)] == ["temp=20 hum=50", "temp=21"]
    assert [x.board for x in buf.matching(boards=["b"])] == ["b", "b"]
    with pytest.raises(re.error):
        line_filter("(", regex=True)
    n = buf.save(tmp_path / "log.txt", buf.matching("temp", boards=["a"]))
    saved = (tmp_path / "log.txt").read_text().splitlines()
    assert n == 3 and re.fullmatch(r"\d\d:\d\d:\d\d\.000 \[a\] temp=20 hum=50", saved[0])
    assert format_line(buf.lines[-1]).endswith("[a] -- temp=99 (a note, not output)")


@pytest.mark.parametrize("data", [
    b"", b"\xff\xfe", b"[]", b'{"mptui": 2, "name": "x"}', b"not json", b"{" * 5000,
    b'{"mptui": 1, "name": "x"' + b" " * 2000 + b"}",
])
def test_garbage_is_not_an_announcement(data):
    assert parse_announcement(data, "10.0.0.5") is None


def test_an_announcement_is_read_defensively():
    ann = parse_announcement(b'{"mptui": 1, "name": "k\\u001bitchen", "agent": "1.1", '
                             b'"remoteio": 2019, "ota": 99999, "release": 5, "every": "x"}',
                             "10.0.0.5", 1.0)
    assert (ann.name, ann.remoteio_port, ann.ota_port, ann.release, ann.every) == (
        "kitchen", 2019, 0, None, 5.0)
    assert ann.address == "rio://10.0.0.5:2019" and ann.ota_address is None
    assert ann.describe() == "rio://10.0.0.5:2019 kitchen agent 1.1 no release"


def test_no_textual_below_the_ui():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import mptui.services.remoteio, mptui.services.logs, mptui.services.announce\n"
        "import mptui.commands.logs, mptui.commands.call, mptui.commands.devices\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_console_lines_never_wait_for_a_slow_reader():
    from mptui.services.remoteio import QUEUE, ConsoleLines

    lines = ConsoleLines("usb")
    for i in range(QUEUE + 100):  # nobody reading yet: the last 100 find no room
        lines.feed(f"{i}\n".encode())
    it = aiter(lines)
    got = [(await anext(it)).text for _ in range(QUEUE)]
    lines.feed("caf\xc3".encode("latin-1"))  # half a character ...
    lines.feed(b"\xa9 after\n")  # ... and the rest
    lines.end()
    rest = [line async for line in it]
    assert got == [str(i) for i in range(QUEUE)]
    assert [(x.kind, x.dropped, x.text) for x in rest] == [
        (DROP, 100, "100 lines dropped: this listener fell behind"),
        ("out", 0, "caf\u00e9 after")]
