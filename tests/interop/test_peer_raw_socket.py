"""A client written to the REPL protocol (MicroPython docs, reference/repl.rst) on the raw TCP
port of `mptui bridge`: the board's output must arrive byte for byte as a board sends it.
A board cooks text output (print, sys.stdout.write: "\\n" -> "\\r\\n") and sends
sys.stdout.buffer bytes unchanged (shared/runtime/sys_stdio_mphal.c, stdout_helpers.c)."""

from __future__ import annotations

import socket
import time

import pytest

TIMEOUT = 20.0


class RawClient:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), TIMEOUT)
        self.buf = b""

    def until(self, marker: bytes) -> bytes:
        deadline = time.monotonic() + TIMEOUT
        while marker not in self.buf:
            if time.monotonic() > deadline:
                pytest.fail(f"expected {marker!r}, got {self.buf!r}")
            self.buf += self.sock.recv(65536)
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def raw_exec(self, code: bytes) -> bytes:
        """Raw REPL: everything from OK to the prompt that follows."""
        self.sock.sendall(code + b"\x04")
        return self.until(b"\x04>")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def client(served):
    c = RawClient(served.socket_port)
    c.sock.sendall(b"\r\x03\x03")  # stop whatever runs
    c.sock.sendall(b"\x01")
    c.until(b"raw REPL; CTRL-B to exit\r\n>")
    yield c
    c.close()


def test_every_byte_value_passes_unchanged(client):
    out = client.raw_exec(b"import sys\nsys.stdout.buffer.write(bytes(range(256)))")
    assert out == b"OK" + bytes(range(256)) + b"\x04\x04>"


def test_text_output_is_cooked_as_on_a_board(client):
    out = client.raw_exec(b"print('a\\nb'); import sys; sys.stdout.write('c\\r\\nd\\n')")
    assert out == b"OKa\r\nb\r\nc\r\r\nd\r\n\x04\x04>"
    out = client.raw_exec(b"import sys; print('e', file=sys.stderr); sys.stderr.buffer.write(b'\\n')")
    assert out == b"OKe\r\n\n\x04\x04>"


def test_friendly_repl_echo_prompts_and_results(client):
    client.sock.sendall(b"\x02")
    client.until(b'Type "help()" for more information.\r\n>>> ')
    client.sock.sendall(b"print('x\\ny'); 'r'\r")
    assert client.until(b">>> ") == b"print('x\\ny'); 'r'\r\nx\r\ny\r\n'r'\r\n>>> "
    client.sock.sendall(b"for i in (1, 2): print(i)\r")  # a compound statement: more to come
    assert client.until(b"... ") == b"for i in (1, 2): print(i)\r\n... "
    client.sock.sendall(b"\r")
    assert client.until(b">>> ") == b"\r\n1\r\n2\r\n>>> "
    client.sock.sendall(b"\x03")  # Ctrl-C at the prompt: a new line and a new prompt
    assert client.until(b">>> ") == b"\r\n>>> "


def test_ctrl_c_is_data_when_the_program_turns_it_off(client):
    # mpremote mount does this: kbd_intr(-1), then binary file data on stdin
    client.sock.sendall(
        b"import micropython, sys\nmicropython.kbd_intr(-1)\nprint('ready')\n"
        b"d = sys.stdin.buffer.read(4)\nmicropython.kbd_intr(3)\nprint(d)\x04"
    )
    assert client.until(b"ready\r\n") == b"OKready\r\n"
    client.sock.sendall(b"\x03\x04\x03z")
    assert client.until(b"\x04>") == b"b'\\x03\\x04\\x03z'\r\n\x04\x04>"


def test_ctrl_c_stops_a_program(client):
    client.sock.sendall(b"print('go')\nwhile True: pass\x04")
    assert client.until(b"go\r\n") == b"OKgo\r\n"
    client.sock.sendall(b"\x03")
    assert client.until(b"\x04>").endswith(b"KeyboardInterrupt: \r\n\x04>")
