"""The mount's host side without a board: requests taken out of the output stream wherever the
reads cut them, hostile requests and names answered with an error, never a crash."""

from __future__ import annotations

import asyncio
import errno

import pytest
from helpers import until
from hypothesis import given, settings
from hypothesis import strategies as st

from mptui.board.mount import MountServer, board_errno, escape, reply
from mptui.services.mount import LocalFolder


def request(op: bytes, payload: bytes) -> bytes:
    return b"\x18M" + op + b"%06x" % len(payload) + payload


def unescape(data: bytes) -> bytes:
    for letter, byte in ((b"A", 1), (b"B", 2), (b"C", 3), (b"D", 4), (b"R", 13), (b"N", 10)):
        data = data.replace(b"\x1b" + letter, bytes([byte]))
    return data.replace(b"\x1bE", b"\x1b")


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "served"
    d.mkdir()
    (d / "a.py").write_bytes(b"A = 1\n")
    return d


def server_for(folder, chunk=64):
    sent: list[bytes] = []

    async def write(data: bytes) -> None:
        sent.append(data)

    return MountServer(LocalFolder(str(folder)), write, chunk), sent


@given(cuts=st.lists(st.integers(min_value=0, max_value=80), max_size=6))
@settings(max_examples=60, deadline=None)
def test_requests_come_out_of_the_output_wherever_the_reads_cut(cuts, tmp_path_factory):
    folder = tmp_path_factory.mktemp("f")
    server, _ = server_for(folder)
    stream = (b"before \x18 x\x18MZ" + request(b"S", b"/a.py") + b"middle\x18" +
              request(b"O", b"rb\x00/a.py") + b"after\x18")
    pieces, last = [], 0
    for cut in sorted(set(cuts)):
        pieces.append(stream[last:cut])
        last = max(last, cut)
    pieces.append(stream[last:])
    out = b"".join(server.feed(p) for p in pieces) + server.feed(b"!")
    assert out == b"before \x18 x\x18MZmiddle\x18after\x18!"
    queued = [server._queue.get_nowait() for _ in range(server._queue.qsize())]
    assert queued == [(ord("S"), b"/a.py"), (ord("O"), b"rb\x00/a.py")]


def test_the_answers_are_escaped_replies_in_order(folder):
    async def go():
        server, sent = server_for(folder)
        server.start()
        server.feed(request(b"S", b"/a.py") + request(b"O", b"rb\x00/a.py") +
                    request(b"S", b"/missing") + request(b"L", b"0 /"))
        await until(lambda: len(sent) >= 4, what="the four answers")
        await server.stop()
        return sent

    sent = asyncio.run(go())
    assert sent[0][:2] == b"\x18+" and unescape(sent[0][8:]).split()[:2] == [b"8000", b"6"]
    assert unescape(sent[1][8:]) == bytes([255]) + b"A = 1\n"  # all of it: no handle kept
    assert sent[2] == reply(error=errno.ENOENT)
    assert unescape(sent[3][8:]) == b".8000 6 a.py\x00"
    assert all(int(s[2:8], 16) == len(s) - 8 for s in sent)


@given(st.binary(max_size=300))
@settings(max_examples=200, deadline=None)
def test_escaped_payloads_hold_no_byte_a_repl_acts_on(data):
    body = escape(data)
    assert not set(body) & {1, 2, 3, 4, 10, 13}
    assert unescape(body) == data


@given(op=st.sampled_from(list(b"SVLORWKCDMXN")), payload=st.binary(max_size=40))
@settings(max_examples=300, deadline=None)
def test_hostile_requests_get_an_error_never_a_crash(op, payload, tmp_path_factory):
    base = tmp_path_factory.mktemp("f")
    folder = base / "served"
    folder.mkdir()
    (folder / "keep.txt").write_text("x")
    (base / "beside.txt").write_text("y")
    server, _ = server_for(folder)
    try:
        server.answer(op, payload)
    except OSError as e:
        assert 0 < board_errno(e) < 256
    except (ValueError, UnicodeDecodeError, KeyError):
        pass  # the server turns these into EINVAL
    finally:
        server.handler.close_all()
    assert (base / "beside.txt").read_text() == "y"
    assert sorted(p.name for p in base.iterdir()) == ["beside.txt", "served"]


@pytest.mark.parametrize("path", [
    "..", "/..", "../x", "a/../../x", "/remote/../../etc/passwd", "./../x",
])
def test_paths_that_climb_out_are_refused(folder, path):
    with pytest.raises(OSError) as e:
        LocalFolder(str(folder)).resolve(path)
    assert e.value.errno == errno.EPERM


@pytest.mark.parametrize("path,rel", [
    ("/", ""), ("", ""), ("/etc/passwd", "etc/passwd"), ("//a.py", "a.py"),
    ("x/../a.py", "a.py"), ("./a.py/.", "a.py"),
])
def test_every_board_path_is_inside_the_folder(folder, path, rel):
    full, got = LocalFolder(str(folder)).resolve(path)
    assert got == rel and full == str(folder.joinpath(*rel.split("/")) if rel else folder)


def test_names_with_a_nul_or_a_bad_mode_are_refused(folder):
    handler = LocalFolder(str(folder))
    with pytest.raises(OSError) as e:
        handler.resolve("a.py\x00.txt")
    assert e.value.errno == errno.EINVAL
    for mode in ("", "rw", "r++", "z", "rbb", "wrbt+"):
        with pytest.raises(OSError) as e:
            handler.open("a.py", mode, 64)
        assert e.value.errno == errno.EINVAL


def test_a_fifo_is_not_opened(folder):
    import os

    os.mkfifo(folder / "pipe")
    with pytest.raises(OSError) as e:
        LocalFolder(str(folder)).open("pipe", "rb", 64)  # would block the whole session
    assert e.value.errno == errno.EACCES


def test_file_handles_are_few_and_closed(folder):
    (folder / "big").write_bytes(b"x" * 200)
    handler = LocalFolder(str(folder))
    fds = [handler.open("big", "rb", 64)[0] for _ in range(255)]
    assert fds == list(range(255))
    with pytest.raises(OSError) as e:
        handler.open("big", "rb", 64)
    assert e.value.errno == errno.EMFILE
    handler.close_all()
    assert handler.files == {}
