"""FdPipe, under the virtual board and the bridge's serial device, over a real socket pair:
reading stops at the high-water mark and resumes once the owner takes its bytes, input
queues while the far end is full and goes out as it reads, the far end closing is an EOF."""

from __future__ import annotations

import asyncio
import socket

import pytest
from helpers import until

from mptui.virtual.fd_pipe import HIGH_WATER, FdPipe


class Owner:
    """A pipe over one end of a socket pair (`ours`), keeping what it reads; `far` is the
    other end."""

    def __init__(self) -> None:
        self.ours, self.far = socket.socketpair()
        self.got = bytearray()
        self.eof = asyncio.Event()
        self.written = 0
        self.pipe = FdPipe(self.ours.fileno(), on_data=self.got.extend, on_eof=self.eof.set,
                           backlog=lambda: len(self.got), on_written=self.count)

    def count(self) -> None:
        self.written += 1


@pytest.fixture
async def owner():
    owner = Owner()
    yield owner
    owner.pipe.detach()
    owner.ours.close()
    owner.far.close()


def fill(sock: socket.socket) -> int:
    """Write into sock until it would block; how many bytes went."""
    sent = 0
    while True:
        try:
            sent += sock.send(b"x" * 65536)
        except BlockingIOError:
            return sent


async def test_reading_stops_at_high_water_and_resumes_when_taken(owner):
    far = owner.far
    far.setblocking(False)
    sent = 0
    while owner.pipe._reading:  # the far end writes until the pipe stops taking it
        sent += fill(far)
        await until(lambda n=sent: len(owner.got) == n or not owner.pipe._reading,
                    what="the pipe to take what was sent, or to stop")
    assert len(owner.got) >= HIGH_WATER
    # no reader on the fd any more: what the far end writes now stays in the kernel's buffers
    held = fill(far)
    stalled = len(owner.got)
    assert stalled < sent + held and not owner.pipe._reading

    owner.got.clear()
    owner.pipe.resume_reading()
    await until(lambda: len(owner.got) >= sent + held - stalled, what="the held bytes")
    assert len(owner.got) == sent + held - stalled
    assert set(owner.got) == {ord("x")}


async def test_input_queues_while_the_far_end_is_full_and_goes_out_in_order(owner):
    payload = bytes(range(256)) * 4096  # 1 MiB: more than the socket takes at once
    owner.pipe.send(payload)
    assert owner.pipe.pending  # the rest waits for the far end to read
    owner.far.setblocking(False)
    got = bytearray()

    def take() -> bool:
        try:
            got.extend(owner.far.recv(1 << 16))
        except BlockingIOError:
            pass
        return len(got) >= len(payload)

    await until(take, what="the whole payload at the far end", interval=0.005)
    assert bytes(got) == payload
    assert not owner.pipe.pending and owner.written >= 2


async def test_far_end_closing_is_an_eof_and_detach_leaves_the_fd_open(owner):
    owner.far.sendall(b"last words")
    owner.far.close()
    await asyncio.wait_for(owner.eof.wait(), 5)
    assert bytes(owner.got) == b"last words"
    pipe = owner.pipe
    assert pipe.detach() == owner.ours.fileno() and pipe.fd is None and not pipe.pending
    assert owner.ours.fileno() >= 0  # still open: who opened it closes it
