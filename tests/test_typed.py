"""Typed input on a 115200-baud UART board (a 256-byte stdin ring that drops what overflows
it): a paste paced by the board's echo loses nothing, a stop drops the rest of it, and input a
program reads without echoing still gets through (board/typed.py, Session.console_write)."""

from __future__ import annotations

import pytest
from helpers import session_on, until

UART = "uart:115200"


@pytest.fixture
async def console(board_root):
    """A session on a UART board, its console output collected."""
    async with session_on(f"virtual:typed?link={UART}", board_root) as s:
        out = bytearray()
        s.set_console(out.extend)
        await s.console_write(b"\r")
        await until(lambda: out.endswith(b">>> "), what="the prompt")
        yield s, out


def program(lines: int, width: int = 50) -> bytes:
    body = "".join(f"a{i} = {i} + len('{'y' * width}')\n" for i in range(lines))
    return f"\x05{body}print('total', {' + '.join(f'a{i}' for i in range(lines))})\n\x04".encode()


async def test_a_paste_far_bigger_than_the_ring_loses_nothing(console):
    session, out = console
    await session.console_write(program(150))  # ~10 KB; its echo is ~6% longer than it
    total = sum(i + 50 for i in range(150))
    await until(lambda: f"total {total}\r\n>>> ".encode() in out, timeout=30, what="the total")
    assert session.echo.silences == 0  # paced by the echo all the way, never by waiting


async def test_a_paste_of_lines_longer_than_the_window_loses_nothing(console):
    session, out = console
    await session.console_write(program(30, width=300))  # ~9 KB in lines of ~320 bytes
    total = sum(i + 300 for i in range(30))
    await until(lambda: f"total {total}\r\n>>> ".encode() in out, timeout=30, what="the total")
    assert session.echo.silences == 0


async def test_a_stop_drops_the_rest_of_a_paste(console):
    session, out = console
    looks = []

    def stop() -> bool:
        looks.append(len(out))
        return len(looks) > 3  # a Ctrl-C typed after the third piece

    await session.console_write(program(150), stop=stop)
    await session.console_write(b"\x03")  # cancels paste mode: nothing of it runs
    await until(lambda: out.endswith(b">>> "), what="the prompt")
    assert b"total" not in out and len(out) < 2000
    await session.console_write(b"print('after', 6 * 7)\r")
    await until(lambda: b"after 42\r\n>>> " in out, what="the board answering")


async def test_input_read_without_echo_still_gets_through(console):
    session, out = console
    await session.console_write(
        b"import sys; d = sys.stdin.buffer.read(400); print('got', len(d), d.count(b'z'))\r")
    await until(lambda: out.endswith(b"\r\n"), what="the line entered")
    await session.console_write(b"z" * 400)  # the board reads it, echoes nothing
    await until(lambda: b"got 400 400\r\n>>> " in out, timeout=30, what="all 400 read")
    assert session.echo.silences >= 3  # 96 bytes a silence: the echo never came
