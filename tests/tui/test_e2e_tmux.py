"""End to end: the installed `mptui -d virtual`, in a real terminal (tmux), typed at."""

from __future__ import annotations

import asyncio
import os
import pty
import shutil
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from typing_extensions import Self

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
MPTUI = Path(sys.executable).with_name("mptui")  # the console script pip installed


class Tmux:
    def __init__(self, name: str) -> None:
        self.base = ["tmux", "-L", name]

    def __call__(self, *args: str, check: bool = True) -> str:
        done = subprocess.run([*self.base, *args], check=False, capture_output=True, text=True,
                              timeout=10)
        if check and done.returncode:
            raise AssertionError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "e2e")

    def alive(self) -> bool:
        return not subprocess.run([*self.base, "has-session", "-t", "e2e"], check=False,
                                  capture_output=True).returncode

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if text in shown:
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen:\n{shown}")
            time.sleep(0.05)  # polling: the deadline above ends it


def processes_with(marker: str) -> list[int]:
    """Our processes whose environment holds `marker` (the test's own data dir)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_installed_mptui_in_tmux(isolated):
    assert MPTUI.exists(), f"{MPTUI} is missing: pip install the project first"
    marker = f"MPTUI_DATA_DIR={isolated / 'data'}"
    tmux = Tmux(f"mptui-e2e-{os.getpid()}")
    command = (
        f"env {marker} MPTUI_CONFIG={isolated / 'config' / 'config.toml'} {MPTUI} -d virtual"
    )
    tmux("new-session", "-d", "-s", "e2e", "-x", "100", "-y", "30", command)
    try:
        tmux.wait_for(">>>")
        tmux("send-keys", "-t", "e2e", "6*7", "Enter")
        tmux.wait_for("42\n")

        tmux("send-keys", "-t", "e2e", "while True: pass", "Enter", "Enter")
        tmux.wait_for("running a program")
        tmux("send-keys", "-t", "e2e", "C-c")
        tmux.wait_for("KeyboardInterrupt")

        tmux("send-keys", "-t", "e2e", "C-d")
        tmux.wait_for("MPY: soft reboot")

        assert len(processes_with(marker)) >= 2  # mptui and the board's MicroPython
        tmux("send-keys", "-t", "e2e", "C-q")
        deadline = time.monotonic() + 15
        while tmux.alive() or processes_with(marker):
            assert time.monotonic() < deadline, f"left behind: {processes_with(marker)}"
            time.sleep(0.05)  # polling: the deadline above ends it  # polling: the deadline above ends it
    finally:
        tmux("kill-server", check=False)


class ThreadedPtyBoard:
    """A virtual board behind a serial port (a PTY: /dev/pts/N, a USB board's path), served
    from a thread of its own while the app runs in tmux."""

    def __init__(self, root: Path) -> None:
        from mptui.virtual import VirtualBoard

        self.board = VirtualBoard("e2e-serial", root=root)
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.typed = bytearray()  # what the app sent the board
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._serve(),),
                                       daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        assert self.ready.wait(20), "the board did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(20)
        os.close(self.master)
        os.close(self.slave)

    async def _serve(self) -> None:
        self.stop = asyncio.Event()
        await self.board.start()
        loop = asyncio.get_running_loop()

        def typed() -> None:
            data = os.read(self.master, 65536)
            self.typed += data
            self.board.write(data)

        loop.add_reader(self.master, typed)

        async def out() -> None:
            while data := await self.board.read():
                os.write(self.master, data)

        pump = loop.create_task(out())
        self.ready.set()
        await self.stop.wait()
        loop.remove_reader(self.master)
        pump.cancel()
        await self.board.stop()


def test_a_serial_board_in_tmux(isolated):
    """`mptui -d /dev/pts/N`: the port opened while the app starts, the REPL's prompt shown (the
    app's Enter, the board being quiet), then typed at; the port is the app's alone until it
    quits."""
    import serial

    tmux = Tmux(f"mptui-e2e-serial-{os.getpid()}")
    with ThreadedPtyBoard(isolated / "board") as board:
        command = (f"env MPTUI_DATA_DIR={isolated / 'data'} "
                   f"MPTUI_CONFIG={isolated / 'config' / 'config.toml'} {MPTUI} -d {board.path}")
        tmux("new-session", "-d", "-s", "e2e", "-x", "100", "-y", "30", command)
        try:
            tmux.wait_for("idle at the REPL")
            tmux.wait_for(">>>")
            assert bytes(board.typed[:1]) == b"\r"  # the app's Enter showed the prompt
            with pytest.raises(serial.SerialException, match="exclusively lock"):
                serial.Serial(board.path, exclusive=True)
            tmux("send-keys", "-t", "e2e", "6*7", "Enter")
            tmux.wait_for("42\n")
            tmux("send-keys", "-t", "e2e", "C-q")
            deadline = time.monotonic() + 15
            while tmux.alive():
                assert time.monotonic() < deadline, "the app did not quit"
                time.sleep(0.05)  # polling: the deadline above ends it
            serial.Serial(board.path, exclusive=True).close()  # let go
        finally:
            tmux("kill-server", check=False)


def test_files_tab_edits_a_board_file_in_a_real_editor(isolated):
    """Shift-F4 hands the terminal to $EDITOR (app.suspend) and takes it back; the file goes up."""
    board = isolated / "data" / "boards" / "default"
    board.mkdir(parents=True)
    (board / "main.py").write_text("print('v1')\n")
    project = isolated / "proj"
    project.mkdir()
    editor = isolated / "editor.py"
    editor.write_text("import sys\nprint('in the editor')\n"
                      "open(sys.argv[1], 'a').write('print(2)\\n')\n")
    marker = f"MPTUI_DATA_DIR={isolated / 'data'}"
    tmux = Tmux(f"mptui-e2e-files-{os.getpid()}")
    command = (f"env {marker} MPTUI_CONFIG={isolated / 'config' / 'config.toml'} "
               f"VISUAL='{sys.executable} {editor}' {MPTUI} -d virtual")
    tmux("new-session", "-d", "-s", "e2e", "-x", "100", "-y", "30", "-c", str(project), command)
    try:
        tmux.wait_for(">>>")
        tmux.wait_for("Leave")  # the REPL has the focus (its keys in the footer)
        tmux("send-keys", "-t", "e2e", "C-]")  # out of the REPL, into the board list
        tmux.wait_for("Open")
        tmux("send-keys", "-t", "e2e", "f")
        tmux.wait_for("virtual:/")
        tmux.wait_for("main.py")
        tmux("send-keys", "-t", "e2e", "Tab")
        tmux.wait_for("main.py  12 B")  # the board pane is the active one (the line under them)
        tmux("send-keys", "-t", "e2e", "S-F4")
        tmux.wait_for("Uploaded main.py")  # the app is back on screen
        assert (board / "main.py").read_text() == "print('v1')\nprint(2)\n"
        tmux("send-keys", "-t", "e2e", "C-q")
        deadline = time.monotonic() + 15
        while tmux.alive() or processes_with(marker):
            assert time.monotonic() < deadline, f"left behind: {processes_with(marker)}"
            time.sleep(0.05)  # polling: the deadline above ends it  # polling: the deadline above ends it
    finally:
        tmux("kill-server", check=False)


def test_the_app_keeps_running_while_the_editor_has_the_terminal(isolated):
    """Shift-F4 on a local file while a board program floods the REPL: the editor lets the program
    start, and waits for it to finish, which it can only do if the app keeps reading its
    output (a blocked event loop leaves it stuck on a full pipe: the editor gives up)."""
    board = isolated / "data" / "boards" / "default"
    board.mkdir(parents=True)
    project = isolated / "proj"
    project.mkdir()
    (project / "notes.txt").write_text("v1\n")
    editor = isolated / "editor.py"
    editor.write_text(
        "import pathlib, sys, time\n"
        f"board = pathlib.Path({str(board)!r})\n"
        "(board / 'go').write_text('1')\n"
        "deadline = time.monotonic() + 30\n"
        "while not (board / 'done').exists():\n"
        "    if time.monotonic() > deadline:\n"
        "        sys.exit(3)\n"
        "    time.sleep(0.02)\n"  # (the editor's poll, with its deadline above)
        "open(sys.argv[1], 'a').write('edited\\n')\n")
    program = ("import os,time\\nwhile 'go' not in os.listdir('/'):time.sleep(0.01)\\n"  # (the board's)
               "for i in range(3000):print('x'*100)\\nopen('/done','w').write('1')")
    marker = f"MPTUI_DATA_DIR={isolated / 'data'}"
    tmux = Tmux(f"mptui-e2e-loop-{os.getpid()}")
    command = (f"env {marker} MPTUI_CONFIG={isolated / 'config' / 'config.toml'} "
               f"VISUAL='{sys.executable} {editor}' {MPTUI} -d virtual")
    tmux("new-session", "-d", "-s", "e2e", "-x", "100", "-y", "30", "-c", str(project), command)
    try:
        tmux.wait_for(">>>")
        tmux("send-keys", "-t", "e2e", "-l", f'exec("{program}")')
        tmux("send-keys", "-t", "e2e", "Enter")
        tmux.wait_for("running a program")
        tmux("send-keys", "-t", "e2e", "C-]")  # out of the REPL, into the board list
        tmux.wait_for("Open")
        tmux("send-keys", "-t", "e2e", "f")
        tmux.wait_for("notes.txt")
        tmux("send-keys", "-t", "e2e", "Down")  # from '..' to notes.txt
        tmux("send-keys", "-t", "e2e", "S-F4")
        deadline = time.monotonic() + 60
        while (project / "notes.txt").read_text() == "v1\n":
            assert time.monotonic() < deadline, "the editor never finished"
            assert "exited with status 3" not in tmux.screen(), "the board program was stuck"
            time.sleep(0.05)  # polling: the deadline above ends it
        assert (project / "notes.txt").read_text() == "v1\nedited\n"
        assert (board / "done").exists()
        tmux.wait_for("Palette")  # the app is back on screen (its footer)
        tmux("send-keys", "-t", "e2e", "C-q")
        deadline = time.monotonic() + 15
        while tmux.alive() or processes_with(marker):
            assert time.monotonic() < deadline, f"left behind: {processes_with(marker)}"
            time.sleep(0.05)  # polling: the deadline above ends it
    finally:
        tmux("kill-server", check=False)

