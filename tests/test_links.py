"""Link profiles (mptui/virtual/link.py, wire.py) against the real runtime: a UART's ring drops
what the board does not read (but never a Ctrl-C), USB holds the host back and loses
nothing, a board profile's heap is the board's, faults are seeded; mptui and mpremote through
a bridge on such a link."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal
import subprocess
import sys

import pytest
from helpers import free_port, until
from test_bridge_cli import BridgeProcess

from mptui.board import BoardError, Session
from mptui.transports import AddressError, parse_address
from mptui.virtual.link import BOARDS, MIN_HEAP, LinkError, parse_link, parse_size
from mptui.virtual.wire import TICK, Faults

MPTUI = [sys.executable, "-m", "mptui"]


# -- profiles and addresses -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, canonical, rate, ring, drops",
    [
        ("", "fast", None, None, False),
        ("fast", "fast", None, None, False),
        ("uart:115200", "uart:115200", 11520, 256, True),
        ("UART:9600", "uart:9600", 960, 256, True),
        ("usb-cdc", "usb-cdc", 1_000_000, 512, False),
        ("esp8266", "esp8266", 11520, 256, True),
        ("esp32", "esp32", 11520, 260, True),
        ("rp2040", "rp2040", 1_000_000, 768, False),
        ("lossy:0.01+uart:115200", "uart:115200+lossy:0.01", 11520, 256, True),
        ("esp8266+lossy:0.001:7", "esp8266+lossy:0.001:7", 11520, 256, True),
    ],
)
def test_profiles_parse_and_print_back(text, canonical, rate, ring, drops):
    link = parse_link(text)
    assert (str(link), link.rate, link.ring, link.drops) == (canonical, rate, ring, drops)
    assert parse_link(str(link)) == link


@pytest.mark.parametrize(
    "bad", ["slow", "uart", "uart:fast", "uart:12", "esp8266+esp32", "lossy:0", "lossy:2",
            "lossy:0.1+lossy:0.2", "usb-cdc+"]
)
def test_bad_profiles_name_the_valid_ones(bad):
    with pytest.raises(LinkError) as e:
        parse_link(bad)
    assert "uart:BAUD" in str(e.value) and "lossy:P" in str(e.value)


def test_board_profiles_carry_their_heaps():
    assert [BOARDS[b].heap // 1024 for b in ("esp8266", "esp32", "rp2040")] == [38, 110, 190]
    assert parse_size("40k") == parse_size("40KB") == 40 * 1024
    assert parse_size("2m") == 2 << 20


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("virtual?link=esp8266", "virtual?link=esp8266"),
        ("virtual:b1?link=UART:115200", "virtual:b1?link=uart:115200"),
        ("virtual:b1?heap=40KB&link=uart:9600+lossy:0.01",
         "virtual:b1?link=uart:9600+lossy:0.01&heap=40k"),
        ("virtual:b1?link=fast", "virtual:b1"),
        ("virtual:b1?fs=1024K&heap=40k", "virtual:b1?heap=40k&fs=1m"),
    ],
)
def test_virtual_addresses_carry_link_heap_and_fs(text, canonical):
    a = parse_address(text)
    assert str(a) == canonical and parse_address(str(a)) == a
    assert a.link == dict(a.options).get("link") and a.fs == dict(a.options).get("fs")


@pytest.mark.parametrize(
    "bad", ["virtual:x?link=bogus", "virtual:x?speed=1", "virtual:x?heap=1", "virtual:x?heap",
            "virtual:x?fs=1", "virtual:x?fs=1m&fs=2m",
            "virtual:x?link=fast&link=esp32", "virtual:bad name?link=esp32"]
)
def test_bad_virtual_options_are_address_errors(bad):
    with pytest.raises(AddressError) as e:
        parse_address(bad)
    assert "virtual" in str(e.value)


def test_faults_are_seeded_and_as_likely_as_asked():
    data = bytes(range(256)) * 400
    a = Faults(0.01, 3, "in").apply(data)
    assert a == Faults(0.01, 3, "in").apply(data)
    assert a != Faults(0.01, 4, "in").apply(data)
    f = Faults(0.01, 3, "in")
    out = b"".join(f.apply(data[i : i + 100])[0] for i in range(0, len(data), 100))
    assert out == a[0]  # the same faults however the bytes are cut
    assert 700 < sum(f.seen.values()) < 1350  # about 1% of 102400
    assert set(f.seen) == {"drop", "duplicate", "corrupt", "stall"}


# -- the wire against the runtime -------------------------------------------------------------

WAIT_GO = (
    "import os\nprint('ready')\nwhile True:\n try:\n  os.stat('/go')\n  break\n except OSError:\n"
    "  pass\n"
)
READ_ALL = (
    "import select, sys\np = select.poll()\np.register(sys.stdin, select.POLLIN)\nn = 0\n"
    "while p.poll(100):\n n += len(sys.stdin.buffer.read(1))\nprint(n)\n"
)


async def _send_while_board_is_busy(session: Session, root, data: bytes) -> tuple[int, int]:
    """The board runs code that does not read stdin while `data` crosses the wire; then it
    reads what its stdin holds. Returns how many bytes it got, and how many the wire held
    back on the host meanwhile."""
    wire = session.transport.board.wire
    async with session.operation() as repl:
        await repl.send_code(WAIT_GO + READ_ALL)
        await repl.read_until(b"ready\r\n")
        end = wire.delivered + wire.dropped + len(data)
        writing = asyncio.create_task(repl.write(data))  # (a held-back host waits in write)
        # all of it has crossed the wire, or the board holds the rest back (USB)
        await until(lambda: wire.delivered + wire.dropped >= end or wire.host_to_board.held,
                    what="the wire's end")
        held = wire.unsent
        (root / "go").touch()
        await writing
        got = int(await repl.follow())
    return got, held


async def test_a_uart_ring_drops_what_the_board_does_not_read(board_root):
    async with Session("virtual:ring?link=uart:115200", root=board_root) as s:
        got, held = await _send_while_board_is_busy(s, board_root, b"a" * 1000)
        assert held == 0  # a UART never holds the host back
        wire = s.transport.board.wire
        burst = int(11520 * TICK)
        assert 256 <= got <= 256 + 2 * burst  # (the PTY may count a burst late)
        assert got + wire.dropped == 1000


async def test_a_ctrl_c_reaches_a_uart_board_whose_ring_is_full(board_root):
    async with Session("virtual:ring?link=uart:115200", root=board_root) as s:
        seen = bytearray()
        task = asyncio.create_task(s.run("print('spinning')\nwhile True:\n pass", seen.extend))
        await until(lambda: b"spinning" in seen, what="the program's start")
        wire = s.transport.board.wire
        end = wire.delivered + wire.dropped + 600
        await s.repl.write(b"b" * 600)  # the program reads none of it
        await until(lambda: wire.delivered + wire.dropped >= end, what="the wire's end")
        assert wire.dropped > 0
        await s.interrupt()
        with pytest.raises(BoardError) as e:
            await asyncio.wait_for(task, 10)
        assert "KeyboardInterrupt" in str(e.value)
        assert await s.eval("1+1") == 2  # the ring's leftovers did not derail the session


async def test_usb_holds_the_host_back_and_loses_nothing(board_root):
    async with Session("virtual:usb?link=usb-cdc", root=board_root) as s:
        data = os.urandom(20_000).replace(b"\x03", b"")  # (0x03 would stop the program)
        got, held = await _send_while_board_is_busy(s, board_root, data)
        assert got == len(data) and s.transport.board.wire.dropped == 0
        # the host was held back (not dropped); how much the board took before the hold depends
        # on how late the pacer ran on a loaded machine: not asserted
        assert held > 0


async def test_esp8266_heap_is_an_esp8266s(board_root):
    async with Session("virtual:small?link=esp8266", root=board_root) as s:
        free = await s.eval("(__import__('gc').collect(), __import__('gc').mem_free())[1]")
        assert 0.97 * 38 * 1024 < free < 1.03 * 38 * 1024  # what the board reads: ?heap= is free heap
        with pytest.raises(BoardError) as e:
            await s.exec("b = bytearray(60 * 1024)")
        assert "MemoryError" in str(e.value)
    async with Session("virtual:small?heap=64k", root=board_root) as s:
        free = await s.eval("(__import__('gc').collect(), __import__('gc').mem_free())[1]")
        assert 0.97 * 64 * 1024 < free < 1.03 * 64 * 1024


async def test_the_least_heap_boots_and_less_is_refused_in_one_line(board_root):
    async with Session(f"virtual:least?heap={MIN_HEAP}", root=board_root) as s:
        free = await s.eval("(__import__('gc').collect(), __import__('gc').mem_free())[1]")
        assert 0.95 * MIN_HEAP < free < 1.05 * MIN_HEAP  # (the fixed set-up weighs more here)
    with pytest.raises(ValueError, match=r"^heap size out of range \(28k to 1024m\): '27k'; in "):
        Session("virtual:less?heap=27k", root=board_root)


@pytest.mark.parametrize("faults, rare", [("lossy:0.002:2", False), ("lossy:0.003:3", False),
                                          ("lossy:0.0003:5", True), ("lossy:0.0003:6", True)])
async def test_a_lossy_link_never_leaves_a_wrong_file(board_root, faults, rare):
    """Dropped, doubled and corrupted bytes both ways: every write leaves the new file (checked
    by its hash on the board, a damaged file sent again) or fails with a line and leaves the
    old one and no temporary file; every read gives the file's bytes or fails; several files
    at once likewise. At 0.2% most 2 KB writes fail (each try meets several faults): only the
    rare-fault links say that writes get through at all."""
    old = b"old contents\n" * 20
    (board_root / "f.bin").write_bytes(old)
    wrote = read = 0
    async with Session(f"virtual:lossy?link=uart:115200+{faults}", root=board_root) as s:
        for i in range(4):
            data = bytes(range(256)) * 8 + bytes([i]) * 100
            try:
                await s.fs.write("/f.bin", data)
            except BoardError as e:
                assert "\n" not in str(e)
                assert (board_root / "f.bin").read_bytes() == old  # failed: the old file stays
            else:
                assert (board_root / "f.bin").read_bytes() == data, f"write {i} was wrong"
                old, wrote = data, wrote + 1
            try:
                assert await s.fs.read("/f.bin") == old, f"read {i} was wrong (helper {s.helper}, caps {s.caps})"
                read += 1
            except BoardError as e:
                assert "\n" not in str(e)
        many = [(f"/m{k}.py", f"X = {k}\n".encode() * 150, None) for k in range(5)]
        errors = await s.fs.write_many(many)  # (never raises: an error per file)
        for (path, data, _), error in zip(many, errors, strict=True):
            on_board = board_root / path[1:]
            if error is None:
                assert on_board.read_bytes() == data, f"{path} was wrong"
            else:
                assert "\n" not in str(error)
                assert not on_board.exists() or on_board.read_bytes() == data
        assert await _usable(s), "the link is not usable after the writes"
    # no file under a name mptui did not write (a damaged name), and no temporary file beside
    # a file whose write failed (its clean-up, lost on the way too, is swept, checked)
    names = {p.name for p in board_root.iterdir()} - {"f.bin", *(p[1:] for p, _, _ in many)}
    assert names == set(), names
    if rare:  # on a link that damages little, writes and reads do get through
        assert wrote >= 3 and read >= 3 and errors.count(None) >= 3, (wrote, read, errors)


async def _usable(s: Session) -> bool:
    """The session answers (a few tries: the question or its answer may be damaged too)."""
    for _ in range(5):
        with contextlib.suppress(BoardError):
            if await s.eval("6*7") == 42:
                return True
    return False


# -- peers and mptui through a bridge on a link -----------------------------------------------


async def test_mptui_through_a_socket_bridge_never_overruns_an_esp8266(start_bridge, tmp_path):
    bridge = start_bridge(link=parse_link("esp8266"))
    data = os.urandom(12_000)  # three busy spells on the way
    async with Session(bridge.socket_url) as s:
        await s.fs.write("/x.bin", data)
        assert (bridge.root / "x.bin").read_bytes() == data
        assert await s.fs.read("/x.bin") == data
    assert bridge.board.wire.dropped == 0


async def test_the_helper_loads_again_in_an_esp8266s_fragmented_heap(start_bridge):
    # Each session loads the helper again: with the last one and a transfer's leftovers in a
    # 38 KB heap, compiling it fails with MemoryError unless the old one is let go first
    # (data that deflates: the helper's way, not the one-shot write of random bytes)
    bridge = start_bridge(link=parse_link("esp8266"))
    data = b"".join(b"value_%d = %d  # a line of source\n" % (i, i * 7) for i in range(200))
    for _ in range(3):
        async with Session(bridge.socket_url, reconnect=False) as s:
            await s.fs.write("/x.bin", data)
            assert s.helper is True
    assert (bridge.root / "x.bin").read_bytes() == data


def test_mpremote_through_mptui_bridge_on_a_uart_link(tmp_path, mpremote):
    root = tmp_path / "board"
    port = free_port()
    bridge = BridgeProcess(tmp_path, "-p", "0", "-s", str(port), "--root", str(root),
                           "--link", "uart:115200")
    url = f"socket://127.0.0.1:{port}"
    try:
        assert "link uart:115200" in bridge.wait_for("Ctrl-C stops it.")
        assert mpremote(url, "exec", "print(6 * 7)").stdout.strip() == "42"
        data = os.urandom(3000)
        (tmp_path / "up.bin").write_bytes(data)
        mpremote(url, "fs", "cp", str(tmp_path / "up.bin"), ":up.bin")
        assert (root / "up.bin").read_bytes() == data
        mpremote(url, "fs", "cp", ":up.bin", str(tmp_path / "down.bin"))
        assert (tmp_path / "down.bin").read_bytes() == data
        out = mpremote(url, "fs", "sha256sum", ":up.bin").stdout
        assert hashlib.sha256(data).hexdigest() in out
        assert bridge.stop(signal.SIGTERM) == 0
    finally:
        bridge.kill()


@pytest.mark.parametrize("args, said", [
    (["--link", "bogus"], "argument --link: unknown link profile 'bogus'; valid: fast, "),
    (["--heap", "1"], "argument --heap: heap size out of range (28k to 1024m): '1'"),
    (["--heap", "27k"], "argument --heap: heap size out of range (28k to 1024m): '27k'"),
    (["--fs", "7k"], "argument --fs: fs size out of range (8k to 1024m): '7k'"),
    (["--fs", "2g"], "argument --fs: not a size: '2g'"),
    (["--serial", "/dev/ttyACM0", "--fs", "1m"],
     "--fs: for the virtual board only, not with --serial"),
    (["--serial", "/dev/ttyACM0", "--link", "esp8266"],
     "--link: for the virtual board only, not with --serial"),
])
def test_bridge_link_options_are_checked(args, said):
    proc = subprocess.run([*MPTUI, "bridge", *args], capture_output=True, text=True, timeout=30,
                          check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"mptui bridge: error: {said}"), proc.stderr
