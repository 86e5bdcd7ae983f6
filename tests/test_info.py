"""`mptui info` and services/info.py: every fact is the board's own answer (checked against
what the runtime says when asked directly), gathered in one round trip; a virtual board's
unique id is its own per name and stable; a hostile answer is parsed, never run."""

from __future__ import annotations

import binascii
import json

import pytest
from helpers import run_cli

from mptui.board import BoardError, Session
from mptui.services.info import MARK, board_facts, module_names, parse
from mptui.transports.address import parse_address


async def test_facts_are_the_boards_own_answers(session, board_root):
    (board_root / "mptui_agent").mkdir()  # an agent installed but not running
    (board_root / ".ota").mkdir()
    (board_root / ".ota" / "state.json").write_text('{"v": "1.4.2", "good": true}')
    sent = []
    write = session.repl.send_code

    async def counting(code, *a, **kw):
        sent.append(code)
        return await write(code, *a, **kw)

    session.repl.send_code = counting
    facts = await board_facts(session)
    session.repl.send_code = write
    assert len(sent) == 2 and sent[1] == ""  # the probe, then the timed empty round trip
    ask = session.eval
    impl = await ask("__import__('sys').implementation")
    assert facts.implementation == "micropython " + ".".join(
        str(x) for x in await ask("tuple(__import__('sys').implementation.version[:3])"))
    assert facts.machine == await ask("__import__('sys').implementation._machine")
    assert facts.build == await ask("__import__('sys').implementation._build")
    assert facts.mpy == await ask("__import__('sys').implementation._mpy")
    assert facts.mpy_version == "6.3" and facts.mpy_arch == "x64"  # this machine's port
    assert "micropython" in str(impl)
    uid = await ask("__import__('machine').unique_id()")
    assert facts.unique_id == binascii.hexlify(uid).decode() and len(uid) == 8
    assert facts.freq == await ask("__import__('machine').freq()")
    stat = await ask("__import__('os').statvfs('/')")
    assert facts.fs_size == stat[1] * stat[2]
    # the virtual board's / is this computer's disk: other processes change its free space
    # between the two questions
    assert abs(facts.fs_free - stat[1] * stat[3]) <= 256 * 1024 * 1024
    free, alloc = await ask("(__import__('gc').collect(), __import__('gc').mem_free(), "
                            "__import__('gc').mem_alloc())[1:]")
    assert facts.heap_total == free + alloc  # the heap's size does not change
    assert abs(facts.heap_free - free) < 16384
    for name in ("json", "hashlib", "asyncio", "machine", "sys"):
        assert name in facts.modules
    assert "__main__" not in facts.modules and facts.modules == sorted(facts.modules)
    assert facts.link.startswith("virtual (") and 0 < facts.round_trip < 5
    assert (facts.agent, facts.ota_release) == ("installed", "1.4.2")
    rows = dict(facts.rows())
    assert rows["unique id"] == facts.unique_id and rows["release"] == "1.4.2"


async def test_each_virtual_board_name_has_its_own_stable_unique_id(tmp_path):
    async def uid(name: str) -> bytes:
        async with Session(parse_address(f"virtual:{name}"), root=tmp_path / name) as s:
            return await s.eval("__import__('machine').unique_id()")

    first = await uid("one")
    assert first != await uid("two")
    assert first == await uid("one")  # the same board again: the same id


def test_hostile_answers_are_parsed_never_run(tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(BoardError, match="not a literal"):
        parse(f"__import__('os').system('touch {marker}')\n{MARK}\n")
    with pytest.raises(BoardError, match="not a dict"):
        parse("[1, 2]")
    assert not marker.exists()
    # wrong types are left out, not trusted
    facts = parse("{'uname': 5, 'freq': 'fast', 'heap': (1, 'x'), 'fs': None, 'uid': 3}")
    assert facts.freq is None and facts.heap_free is None and facts.unique_id is None
    assert module_names("a/__init__ b\x1b[2J c\nPlus any modules on the filesystem\nd") == [
        "a", "c"]


def test_cli_info(isolated_env):
    root = isolated_env / "data" / "boards" / "lab"
    r = run_cli("-d", "virtual:lab", "info")
    assert r.returncode == 0, r.stderr
    rows = dict(line.split(None, 1) if "  " not in line else
                [part.strip() for part in line.split("  ", 1)]
                for line in r.stdout.decode().splitlines())
    assert rows["platform"] == "linux" and rows["agent"] == "not installed"
    assert root.is_dir()
    r = run_cli("-d", "virtual:lab", "info", "--json")
    facts = json.loads(r.stdout)
    assert rows["unique id"] == facts["unique_id"] and len(facts["unique_id"]) == 16
    assert facts["heap_total"] > facts["heap_free"] > 0 and "json" in facts["modules"]
