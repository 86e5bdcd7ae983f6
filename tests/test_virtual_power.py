"""A virtual board's power, as a board's: one started for a host has run boot.py before the
host's first byte (it was plugged in a while ago), and a USB board's reset takes its port away
with the bytes sent into it."""

from __future__ import annotations

from helpers import until
from test_virtual_interrupt import read_until

from mptui.virtual.board import VirtualBoard


async def test_a_board_started_for_a_host_has_run_boot_py_and_its_ctrl_c_stops_main_py(board_root):
    # As a board plugged in a while ago: boot.py ran to its end before the first byte typed
    # (a busy one included); the host's Ctrl-C, at once, lands in main.py's loop.
    (board_root / "boot.py").write_text("for i in range(2000000):\n    pass\nbooted = i\n")
    (board_root / "main.py").write_text("print('main')\nwhile True:\n    pass\n")
    async with VirtualBoard("t", root=board_root) as vb:
        vb.write(b"\x03")
        out = await read_until(vb, b">>> ")
        assert b'File "main.py", line 3' in out and b"boot.py" not in out, out
        vb.write(b"print(booted)\r")
        assert b"1999999\r\n>>> " in await read_until(vb, b"999\r\n>>> ")


async def test_bytes_sent_as_a_usb_board_resets_are_lost_with_its_port(board_root):
    # Written after the power went but before the host saw its link drop: a USB port that is
    # gone takes them nowhere; the board that comes back never reads them at its REPL.
    async with VirtualBoard("t", root=board_root, usb_reset=True) as vb:
        await read_until(vb, b">>> ")
        vb.power_cycle()
        await until(lambda: vb.hard_resets == 1, what="the reset")
        vb.write(b"print('stale' + 'x')\r")
        try:
            while True:
                await vb.read()
        except ConnectionResetError:
            pass
        vb.write(b"print('fresh' + 'y')\r")
        out = await read_until(vb, b"freshy\r\n>>> ")
        assert b"stalex" not in out, out
