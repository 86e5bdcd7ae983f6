"""The history of pushes: kept across restarts, bounded, unharmed by garbage or by pushes that
finish together."""

from __future__ import annotations

import threading

from mptui.services.ota import PushResult
from mptui.services.ota.history import History, last_results


def _record(i: int, ok: bool = True):
    result = PushResult(f"ota://10.0.0.{i % 3}:2018", ok, f"1.{i}", files=i, error="" if ok else "x")
    return History.record([result], f"1.{i}", full=i % 2 == 1, project="/p/mptui.toml",
                          when=1000.0 + i)


def test_kept_in_order_and_bounded(tmp_path):
    history = History(tmp_path / "h.jsonl", limit=5)
    for i in range(8):
        history.add(_record(i, ok=i != 6))
    records = History(tmp_path / "h.jsonl", limit=5).load()  # as after a restart
    assert [r.version for r in records] == ["1.3", "1.4", "1.5", "1.6", "1.7"]
    assert len((tmp_path / "h.jsonl").read_text().splitlines()) == 5
    assert records[3].failed == 1 and records[4].full and records[4].results[0].files == 7
    last = last_results(records)
    assert {board: r.version for board, (_, r) in last.items()} == {
        "ota://10.0.0.0:2018": "1.6", "ota://10.0.0.1:2018": "1.7", "ota://10.0.0.2:2018": "1.5"}


def test_garbage_lines_are_skipped_and_replaced(tmp_path):
    path = tmp_path / "h.jsonl"
    history = History(path)
    history.add(_record(1))
    with path.open("a") as f:
        f.write('not json\n{"when": 1}\n\x00\xff\n[1, 2]\n{"when": "x", "version": 1}\n')
    history.add(_record(2))
    assert [r.version for r in history.load()] == ["1.1", "1.2"]
    assert len(path.read_text().splitlines()) == 2


def test_pushes_finishing_together_are_all_kept(tmp_path):
    history = History(tmp_path / "h.jsonl")
    threads = [threading.Thread(target=history.add, args=(_record(i),)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.results[0].files for r in history.load()) == list(range(20))
