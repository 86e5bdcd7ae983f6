"""The virtual board's Ctrl-C is a board's: it marks KeyboardInterrupt pending, raised where
bytecode looks for it (a jump, the end of the input or file), never from inside a C function
(the unix port's own Ctrl-C jumps out of whatever C code runs and may leave a lock held:
the runtime then hangs at its next import or allocation). A Ctrl-C during boot.py stops
boot.py; main.py runs all the same, as on a board."""

from __future__ import annotations

from mptui.virtual.board import VirtualBoard


async def read_until(vb: VirtualBoard, marker: bytes, out: bytes = b"") -> bytes:
    while marker not in out:
        out += await vb.read()
    return out


async def test_a_c_function_runs_to_its_end_then_the_interrupt_lands(board_root):
    async with VirtualBoard("t", root=board_root) as vb:
        await read_until(vb, b">>> ")
        # One input with no jump in it (print is native code, as on a board, and looks for
        # no interrupt either): a Ctrl-C during the sum is raised as the input ends.
        vb.write(b"print('go'); s = sum(range(50000000))\r")
        out = await read_until(vb, b"go\r\n")
        vb.write(b"\x03")  # while the sum runs: it takes far longer than sending this
        out = await read_until(vb, b">>> ", out)
        assert out.endswith(b"go\r\nKeyboardInterrupt: \r\n>>> "), out  # (a board's bytes)
        vb.write(b"print(s)\r")
        assert b"1249999975000000\r\n>>> " in await read_until(vb, b"000000\r\n>>> ")


async def test_a_ctrl_c_during_boot_py_stops_it_and_main_py_runs(board_root):
    (board_root / "boot.py").write_text("print('booting')\nwhile True:\n    pass\n")
    (board_root / "main.py").write_text("print('main ran')\n")
    async with VirtualBoard("t", root=board_root, boot_wait=0) as vb:
        out = await read_until(vb, b"booting\r\n")
        vb.write(b"\x03")
        out = await read_until(vb, b">>> ", out)
        assert out == (b"booting\r\nTraceback (most recent call last):\r\n"
                       b'  File "boot.py", line 3, in <module>\r\nKeyboardInterrupt: \r\n'
                       b"main ran\r\nMicroPython " + out.split(b"MicroPython ", 1)[1])
        vb.write(b"print(1 + 1)\r")
        assert b"2\r\n>>> " in await read_until(vb, b"2\r\n>>> ")

