"""The virtual board's output is what a board sends: the runtime's frames (mpy/_mptui_stdio.py)
taken apart by OutputDemux, whatever the PTY reads cut, and frames cut by a Ctrl-C then sent
again; and end to end, a Ctrl-C into a program that prints leaves no trace of the framing."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from mptui.virtual.board import VirtualBoard
from mptui.virtual.output import BOOTED, FS_READY, OUT, OutputDemux

TAG = b"mptui0123456789abcdef"


def frame(seq: int, payload: bytes) -> bytes:
    """As the runtime writes one (emit in _mptui_stdio.py)."""
    return b"\x1b_" + TAG + b"o%02x" % seq + payload.replace(b"\x1b", b"\x1b!") + b"\x1b\\"


def run(stream: bytes, cuts: list[int]) -> tuple[bytes, list[str]]:
    demux = OutputDemux(TAG)
    out, signals = b"", []
    at = 0
    for cut in [*sorted(cuts), len(stream)]:
        for kind, data in demux.feed(stream[at:cut]):
            if kind == OUT:
                out += data
            else:
                signals.append(kind)
        at = max(at, cut)
    return out + demux.flush(), signals


def test_text_is_cooked_frames_are_not_signals_are_taken_out():
    stream = (
        b"boot\n" + b"\x1b_" + TAG + b"f\x1b\\" + b"tb\r\nline\n" + frame(1, b"A\nB\r\n\x1b\x04")
        + b"\x1b_" + TAG + b"r\x1b\\" + b">>> "
    )
    for cuts in ([], list(range(len(stream)))):
        out, signals = run(stream, cuts)
        assert out == b"boot\r\ntb\r\nline\r\nA\nB\r\n\x1b\x04>>> "
        assert signals == [FS_READY, BOOTED]


def test_a_frame_cut_anywhere_then_sent_again_counts_once():
    whole = frame(9, b"ab\x1bcd")
    for n in range(2, len(whole) - 1):
        for cuts in ([], [n], list(range(len(whole) * 2))):
            assert run(whole[:n] + whole, cuts)[0] == b"ab\x1bcd", (n, cuts)


def test_foreign_escape_sequences_stay_output():
    stream = b"\x1b[K\x1b_other\x1b\\\x1b_" + TAG[:4] + b"x" + frame(7, b"ok")
    assert run(stream, [])[0] == b"\x1b[K\x1b_other\x1b\\\x1b_" + TAG[:4] + b"xok"


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(
        st.tuples(st.sampled_from(["text", "frame", "cut"]), st.binary(max_size=40),
                  st.integers(0, 200)),
        max_size=12,
    ),
    seed=st.integers(0, 2**32),
)
def test_any_reads_any_cuts(parts, seed):
    rng = random.Random(seed)
    stream, expected, seq = b"", b"", 0
    for kind, data, where in parts:
        if kind == "text":
            data = data.replace(b"\x1b", b"").replace(b"\r", b"").replace(b"\n", b"")
            stream += data
            expected += data
            continue
        seq = (seq + 1) & 0xFF
        whole = frame(seq, data)
        if kind == "cut":  # a Ctrl-C cut the write somewhere (maybe twice), then it went whole
            for _ in range(1 + where % 2):
                stream += whole[: 2 + (where * 7 + rng.randrange(99)) % (len(whole) - 3)]
        stream += whole
        expected += data
    cuts = [rng.randrange(len(stream) + 1) for _ in range(rng.randrange(6))]
    assert run(stream, cuts)[0] == expected


async def test_ctrl_c_into_a_printing_loop_leaves_only_a_boards_bytes(board_root):
    async with VirtualBoard("t", root=board_root) as vb:
        out = b""
        while b">>> " not in out:
            out += await vb.read()
        for _ in range(5):
            vb.write(b"while True: print('spam \\x1b!')\r\r")
            out = b""
            while out.count(b"spam") < 50:
                out += await vb.read()
            vb.write(b"\x03")
            while not out.endswith(b">>> "):
                out += await vb.read()
            body, _, tail = out.partition(b"\r\n... \r\n")[2].partition(b"Traceback")
            assert set(body.split(b"\r\n")) <= {b"spam \x1b!", b""}, body[-200:]
            assert tail == b' (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\nKeyboardInterrupt: \r\n>>> '
