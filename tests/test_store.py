"""Plain values between the host and boards (services/store.py, `mptui store`): each type
round trips through a board's RAM and a board file and from board to board; values are parsed
as literals only, so neither a hostile value nor a hostile board answer runs anything."""

from __future__ import annotations

import pytest
from helpers import run_cli

from mptui.board import Session
from mptui.errors import UsageError
from mptui.services import store
from mptui.transports.address import parse_address

VALUES = {
    "an_int": -(2**70),
    "a_float": 2.5,
    "a_str": "héllo\n'\"\\ wörld",
    "some_bytes": bytes(range(256)),
    "a_list": [1, "two", b"3", None, True],
    "a_tuple": (1, (2, 3)),
    "a_dict": {"k": [1.5, None], 2: {"nested": b"\x00"}},
    "a_set": {1, 2, 3},
    "nothing": None,
    "empty": [],
}
# board-side checks that the value is real there, not text: (expression, its value)
ON_BOARD = {
    "an_int": ("an_int + 1", -(2**70) + 1),
    "a_str": ("len(a_str)", len(VALUES["a_str"])),
    "some_bytes": ("some_bytes[255]", 255),
    "a_list": ("a_list[1].upper()", "TWO"),
    "a_dict": ("a_dict[2]['nested']", b"\x00"),
    "a_set": ("3 in a_set and len(a_set)", 3),
}
HOSTILE = [
    "__import__('os').system('touch {marker}')",
    "'; import os; os.system('touch {marker}'); x = '",
    "\nimport os\nos.system('touch {marker}')\n",
]


async def test_every_type_round_trips_through_ram_and_a_file(session):
    for name, value in VALUES.items():
        await store.put(session, name, value)
        assert await store.get(session, name) == value, name
        await store.put(session, name, value, path=f"/v_{name}.txt")
        assert await store.get(session, name, path=f"/v_{name}.txt") == value, name
    for expr, expected in ON_BOARD.values():
        assert await session.eval(expr) == expected, expr
    listed = dict(await store.names(session))
    assert listed["a_list"] == "list" and listed["some_bytes"] == "bytes"
    assert set(VALUES) <= set(listed)


async def test_board_to_board(tmp_path, session):
    await store.put(session, "calib", VALUES["a_dict"])
    async with Session(parse_address("virtual:other"), root=tmp_path / "other") as other:
        await store.put(other, "calib", await store.get(session, "calib"))
        assert await other.eval("calib[2]['nested']") == b"\x00"
        assert await store.get(other, "calib") == VALUES["a_dict"]


async def test_hostile_values_run_nothing(session, tmp_path):
    marker = tmp_path / "ran"
    for text in HOSTILE:
        code = text.format(marker=marker)
        with pytest.raises(store.StoreError, match="not a plain Python value"):
            store.parse_value(code)  # as a literal it is none: refused
        await store.put(session, "s", code)  # as a string it is only a string, there too
        assert await session.eval("s") == code and await store.get(session, "s") == code
    # a board whose answer is code (an object's repr): refused, never evaluated here
    await session.exec("class X:\n def __repr__(self):\n"
                       f"  return \"__import__('os').system('touch {marker}')\"\nx = X()")
    with pytest.raises(store.StoreError, match="x on the board is not a plain"):
        await store.get(session, "x")
    assert not marker.exists()
    for bad in ("os.system", "import", "_private", "a b", "x=1"):
        with pytest.raises(UsageError):
            await store.put(session, bad, 1)


def test_cli_put_get_ls_cp(isolated_env, tmp_path):
    boards = isolated_env / "data" / "boards"
    (tmp_path / "v.txt").write_text("{'gain': 1.25, 'tags': ['a', b'b']}\n")
    r = run_cli("-d", "virtual:a", "store", "put", "cal", f"@{tmp_path / 'v.txt'}",
                "--file", ":cal.txt")
    assert r.returncode == 0, r.stderr
    assert (boards / "a" / "cal.txt").read_text() == "{'gain': 1.25, 'tags': ['a', b'b']}"
    r = run_cli("store", "cp", "cal", "-d", "virtual:a", "-d", "virtual:b", "--file", ":cal.txt")
    assert r.returncode == 0, r.stderr
    r = run_cli("-d", "virtual:b", "store", "get", "cal", "--file", ":cal.txt")
    assert r.stdout.decode().strip() == "{'gain': 1.25, 'tags': ['a', b'b']}"
    marker = tmp_path / "ran"
    r = run_cli("-d", "virtual:a", "store", "put", "x", f"__import__('os').system('touch {marker}')")
    assert r.returncode == 1 and b"not a plain Python value" in r.stderr
    r = run_cli("-d", "virtual:a", "store", "put", "x", "--text", "--file", ":x.txt",
                f"__import__('os').system('touch {marker}')")
    assert r.returncode == 0, r.stderr
    r = run_cli("-d", "virtual:a", "store", "get", "x", "--file", ":x.txt")
    assert r.stdout.decode().strip() == repr(f"__import__('os').system('touch {marker}')")
    assert not marker.exists()
    r = run_cli("-d", "virtual:a", "store", "get", "nothing_here")
    assert r.returncode == 1 and r.stderr.decode().strip() == (
        "mptui: nothing_here is not set on the board")
    r = run_cli("-d", "virtual:a", "store", "ls")
    assert r.returncode == 0 and r.stdout == b""  # a board just started holds no values
