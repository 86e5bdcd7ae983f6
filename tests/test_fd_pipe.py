"""FdPipe, under the virtual board and the bridge's serial device, over a real socket pair:
reading stops at the high-water mark and resumes once the owner takes its bytes, input
queues while the far end is full and goes out as it reads, the far end closing is an EOF."""

from __future__ import annotations

import asyncio
import socket

from mptui.virtual.fd_pipe import HIGH_WATER, FdPipe


class Owner:
    def __init__(self) -> None:
        self.got = bytearray()
        self.eof = asyncio.Event()
        self.written = 0

    def pipe(self, fd: int) -> FdPipe:
        return FdPipe(fd, on_data=self.got.extend, on_eof=self.eof.set,
                      backlog=lambda: len(self.got), on_written=self.count)

    def count(self) -> None:
        self.written += 1


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0.01)


def fill(sock: socket.socket) -> int:
    """Write into sock until it would block; how many bytes went."""
    sent = 0
    while True:
        try:
            sent += sock.send(b"x" * 65536)
        except BlockingIOError:
            return sent


async def test_reading_stops_at_high_water_and_resumes_when_taken():
    ours, far = socket.socketpair()
    far.setblocking(False)
    owner = Owner()
    pipe = owner.pipe(ours.fileno())
    try:
        sent = 0
        while len(owner.got) < HIGH_WATER:
            sent += fill(far)
            await settle()
        # the far end is held up: what it writes now stays in the kernel's buffers
        held = fill(far)
        await settle()
        assert len(owner.got) < sent + held
        stalled = len(owner.got)
        await settle()
        assert len(owner.got) == stalled

        owner.got.clear()
        pipe.resume_reading()
        while len(owner.got) < sent + held - stalled:
            await settle()
        assert len(owner.got) == sent + held - stalled
        assert set(owner.got) == {ord("x")}
    finally:
        pipe.detach()
        ours.close()
        far.close()


async def test_input_queues_while_the_far_end_is_full_and_goes_out_in_order():
    ours, far = socket.socketpair()
    owner = Owner()
    pipe = owner.pipe(ours.fileno())
    try:
        payload = bytes(range(256)) * 4096  # 1 MiB: more than the socket takes at once
        pipe.send(payload)
        assert pipe.pending  # the rest waits for the far end to read
        far.setblocking(False)
        got = bytearray()
        while len(got) < len(payload):
            try:
                got += far.recv(1 << 16)
            except BlockingIOError:
                await asyncio.sleep(0.005)
        assert bytes(got) == payload
        assert not pipe.pending and owner.written >= 2
    finally:
        pipe.detach()
        ours.close()
        far.close()


async def test_far_end_closing_is_an_eof_and_detach_leaves_the_fd_open():
    ours, far = socket.socketpair()
    owner = Owner()
    pipe = owner.pipe(ours.fileno())
    far.sendall(b"last words")
    far.close()
    await asyncio.wait_for(owner.eof.wait(), 5)
    assert bytes(owner.got) == b"last words"
    assert pipe.detach() == ours.fileno() and pipe.fd is None and not pipe.pending
    assert ours.fileno() >= 0  # still open: who opened it closes it
    ours.close()
