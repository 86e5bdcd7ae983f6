"""The rest of mpremote's daily commands (issue 12 item 5), the real `mptui` against virtual
boards and a bridge: tree, fs X, resume, disconnect, sleep, bootloader, exec/run --no-follow,
repl --inject-code/--inject-file/--escape-non-printable, and the device forms port:PATH,
id:SERIAL, a0..a3/u0..u3/c0..c3 in the one resolver; each with its errors and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from helpers import EXPECT_TIMEOUT, run_cli, wait_until

from mptui.config import load_config
from mptui.errors import UsageError
from mptui.paths import virtual_board_root
from mptui.services.boards import Resolver
from mptui.transports import AddressError, TransportError

# -- tree ---------------------------------------------------------------------------------------

MAKE_TREE = ("import os\nos.mkdir('/lib')\nos.mkdir('/lib/sub')\n"
             "open('/lib/a.py','w').write('x'*2000)\nopen('/lib/sub/b.txt','w').write('hi')\n"
             "open('/main.py','w').write('print(1)')\nopen('/lib/\\x1b[2Jbad','w').close()")


def test_tree_draws_the_folder_as_mpremote_does():
    done = run_cli("-d", "virtual:tree", "exec", MAKE_TREE, "+", "fs", "tree", "+", "tree",
                   "-h", "/lib", "+", "tree", "-s", "/lib/sub")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == (
        ":/\n"
        "├── lib\n"
        "│   ├── \\x1b[2Jbad\n"  # a board's name never reaches the terminal as an escape
        "│   ├── a.py\n"
        "│   └── sub\n"
        "│       └── b.txt\n"
        "└── main.py\n"
        ":/lib\n"
        "├── [     0]  \\x1b[2Jbad\n"
        "├── [  2.0K]  a.py\n"
        "└── sub\n"
        "    └── [     2]  b.txt\n"
        ":/lib/sub\n"
        "└── [        2]  b.txt\n")


def test_tree_errors():
    done = run_cli("-d", "virtual:tree2", "exec", "open('/f','w').close()", "+", "tree", "/f")
    assert (done.returncode, done.stderr) == (1, b"mptui: tree: '/f' is not a folder\n")
    done = run_cli("-d", "virtual:tree2", "tree", "/nothing")
    assert done.returncode == 1 and b"ENOENT" in done.stderr
    done = run_cli("-d", "virtual:tree2", "tree", "-s", "-h")
    assert done.returncode == 2 and b"not allowed with argument" in done.stderr
    done = run_cli("fs")
    assert done.returncode == 2 and b"invalid choice: 'fs'" in done.stderr


# -- resume, disconnect, sleep --------------------------------------------------------------


def counting_clients(bridge) -> list:
    clients = []
    attach = bridge.bridge._attach

    def counted(client):
        clients.append(client.peer)
        attach(client)

    bridge.bridge._attach = counted
    return clients


def test_disconnect_closes_the_link_and_the_next_command_opens_it_again(start_bridge):
    bridge = start_bridge()
    clients = counting_clients(bridge)
    done = run_cli("-d", bridge.socket_url, "exec", "a=6", "+", "resume", "+", "eval", "a*7",
                   "+", "disconnect", "+", "eval", "a")
    assert (done.returncode, done.stdout) == (0, b"42\r\n6\r\n"), done.stderr
    assert len(clients) == 2  # the bridge's board lives on between its clients: `a` too
    # a virtual board lives as long as its link: after disconnect it is a new one
    done = run_cli("-d", "virtual:dis", "exec", "a=1", "+", "disconnect", "+", "eval",
                   "'a' in globals()")
    assert (done.returncode, done.stdout) == (0, b"False\r\n"), done.stderr
    # alone, as mpremote's, resume opens the REPL (here its input ends at once: it leaves)
    done = run_cli("-d", "virtual:res", "resume", input=b"")
    assert done.returncode == 0 and b"Connected to virtual:res" in done.stderr


def test_sleep_waits_between_commands_and_refuses_what_is_not_seconds():
    # the board's own clock says the wait happened (a lower bound: a loaded machine only
    # makes it longer)
    done = run_cli("-d", "virtual:sl", "exec", "import time; t = time.ticks_ms(); print(1)",
                   "+", "sleep", "0.3", "+", "exec",
                   "print(2, time.ticks_diff(time.ticks_ms(), t) >= 300)")
    assert (done.returncode, done.stdout) == (0, b"1\r\n2 True\r\n"), done.stderr
    for bad in ("-1", "x", "nan", "1e9"):
        done = run_cli("-d", "virtual:sl", "exec", "open('/made','w').close()", "+", "sleep",
                       bad)
        assert done.returncode == 2, (bad, done.stderr)
        assert f"sleep: {bad!r} is not a number of seconds".encode() in done.stderr
        assert not (virtual_board_root("sl") / "made").exists()  # checked before anything ran


# -- bootloader ---------------------------------------------------------------------------------

FAKE_BOOTLOADER = ("import sys\nclass M:\n @staticmethod\n def bootloader():\n"
                   "  with open('/entered','w') as f: f.write('yes')\n  while True: pass\n"
                   "sys.modules['machine'] = M")


def test_bootloader_calls_machine_bootloader_and_lets_the_board_go(start_bridge):
    done = run_cli("-d", "virtual:bl", "bootloader")
    assert done.returncode == 1
    assert done.stderr == b"mptui: virtual:bl: this board has no machine.bootloader()\n"
    # a board that has one (here given to it, behind a bridge, which keeps it when mptui lets
    # go): called, the link dropped; the next command of the chain opens it again
    bridge = start_bridge()
    clients = counting_clients(bridge)
    done = run_cli("-d", bridge.socket_url, "exec", FAKE_BOOTLOADER, "+", "bootloader", "+",
                   "eval", "'M' in globals()")
    assert (done.returncode, done.stdout) == (0, b"True\r\n"), done.stderr
    assert (bridge.root / "entered").read_text() == "yes"
    assert len(clients) == 2


# -- --no-follow ----------------------------------------------------------------------------

WAITS = ("import os\nopen('/started','w').close()\n"
         "while 'go' not in os.listdir('/'): pass\nopen('/done','w').close()")


@pytest.mark.parametrize("command", ["exec", "run"])
def test_no_follow_returns_at_once_leaving_the_program_running(start_bridge, tmp_path, command):
    bridge = start_bridge()
    script = tmp_path / "waits.py"
    script.write_text(WAITS)
    what = WAITS if command == "exec" else str(script)
    # the program ends only once /go exists, which is made after mptui returned: had it
    # followed the program, it would never have returned
    done = run_cli("-d", bridge.socket_url, command, "--no-follow", what, timeout=60)
    assert (done.returncode, done.stdout) == (0, b""), done.stderr
    wait_until(lambda: (bridge.root / "started").exists(), what="the program started")
    assert not (bridge.root / "done").exists()
    (bridge.root / "go").mkdir()
    wait_until(lambda: (bridge.root / "done").exists(), what="the program ran on")
    # the next command gets the board back
    done = run_cli("-d", bridge.socket_url, "eval", "6*7")
    assert (done.returncode, done.stdout) == (0, b"42\r\n"), done.stderr


def test_the_next_command_of_a_chain_stops_a_program_left_running():
    done = run_cli("-d", "virtual:nf", "exec", "--no-follow", "while True: pass", "+", "eval",
                   "6*7")
    assert (done.returncode, done.stdout) == (0, b"42\r\n"), done.stderr


# -- repl's options -------------------------------------------------------------------------


class Repl:
    """`mptui repl` with its stdin a pipe: keys sent, output read as it comes."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "mptui", *args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out = b""
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while chunk := os.read(self.proc.stdout.fileno(), 4096):
            with self._lock:
                self.out += chunk

    def send(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def wait_for(self, text: bytes) -> None:
        wait_until(lambda: text in self.out, timeout=EXPECT_TIMEOUT * 3, what=repr(text))

    def close(self) -> int:
        self.proc.stdin.close()
        code = self.proc.wait(30)
        self._reader.join(10)
        return code


def test_repl_injects_code_at_ctrl_j_and_a_file_at_ctrl_k(tmp_path):
    script = tmp_path / "inject.py"
    script.write_text("print('from the file', 6*7)\nimport sys\nsys.stdout.write('\\x01')\n")
    repl = Repl("-d", "virtual:inj", "repl", "--inject-code", "x = 6*7\\nprint('x is', x)\\n",
                "--inject-file", str(script), "--escape-non-printable")
    try:
        repl.wait_for(b">>> ")
        repl.send(b"\x0a")  # Ctrl-J
        repl.wait_for(b"x is 42\r\n>>> ")
        repl.send(b"\x0b")  # Ctrl-K
        repl.wait_for(b"[01]>>> ")
    finally:
        code = repl.close()
    assert code == 0
    assert b"Injecting " + str(script).encode() + b"\r\nfrom the file 42\r\n[01]" in repl.out


def test_without_the_options_ctrl_j_and_ctrl_k_are_keys_and_bytes_pass_as_they_are():
    repl = Repl("-d", "virtual:inj2", "repl")
    try:
        repl.wait_for(b">>> ")
        repl.send(b"import sys; sys.stdout.write('\\x01')\x0a")  # Ctrl-J is Enter's LF here
        repl.wait_for(b"\x01")
    finally:
        repl.close()
    assert b"[01]" not in repl.out


def test_repl_inject_file_errors(tmp_path):
    done = run_cli("-d", "virtual:inj3", "repl", "--inject-file", str(tmp_path / "none.py"))
    assert done.returncode == 2
    assert done.stderr.decode().endswith(f"repl: cannot read {tmp_path / 'none.py'}\n")
    bad = tmp_path / "bad.py"
    bad.write_text("1/0\n")
    repl = Repl("-d", "virtual:inj3", "repl", "--inject-file", str(bad))
    try:
        repl.wait_for(b">>> ")
        repl.send(b"\x0b")
        repl.wait_for(b"ZeroDivisionError")
        repl.wait_for(b"\r\n>>> ")
    finally:
        assert repl.close() == 0


# -- device forms ---------------------------------------------------------------------------


def test_port_and_mpremote_shortcuts_name_serial_ports():
    resolver = Resolver(load_config())
    for text, key in [("a0", "/dev/ttyACM0"), ("A3", "/dev/ttyACM3"), ("u1", "/dev/ttyUSB1"),
                      ("c2", "COM2"), ("port:/dev/ttyS3", "/dev/ttyS3"), ("port:COM7", "COM7"),
                      ("port:serial:///dev/x", "/dev/x")]:
        ref = resolver.resolve(text)
        assert (ref.key, ref.address.kind) == (key, "serial"), text
    assert resolver.resolve("a0").text == "a0"  # as written; its key: the port's
    for bad in ("a4", "port:", "id:"):
        with pytest.raises(AddressError, match="valid forms: "):
            resolver.resolve(bad)


def test_id_names_the_usb_board_with_that_serial_number(monkeypatch):
    from mptui.services import discovery

    ports = [discovery.UsbPort("/dev/ttyACM1", "E66058", 0x2E8A, 5, "Pico"),
             discovery.UsbPort("/dev/ttyUSB0", "0001", 0x10C4, 0xEA60, "CP2102")]
    monkeypatch.setattr(discovery, "usb_boards", lambda: ports)  # no USB here: its listing
    resolver = Resolver(load_config())
    assert (resolver.resolve("id:0001").key, resolver.resolve("id:0001").text) == (
        "/dev/ttyUSB0", "id:0001")
    assert resolver.resolve("id:E66058").key == "/dev/ttyACM1"
    with pytest.raises(TransportError, match=r"no USB board with serial number 'X1' \(found: "
                                             r"'E66058', '0001'"):
        resolver.resolve("id:X1")
    assert not issubclass(TransportError, UsageError)  # exit status 1: a board not found


def test_device_forms_from_the_command_line():
    done = run_cli("-d", "id:NOSUCH", "ls")
    assert done.returncode == 1
    assert done.stderr.startswith(b"mptui: no USB board with serial number 'NOSUCH'")
    done = run_cli("-d", "port:/dev/nonexistent-mptui", "ls")
    assert done.returncode == 1 and b"/dev/nonexistent-mptui" in done.stderr
    # a shortcut is also a command, as in mpremote: `mptui u3 ls` connects to /dev/ttyUSB3
    done = run_cli("u3", "ls")
    assert done.returncode == 1 and b"/dev/ttyUSB3" in done.stderr
    done = run_cli("-d", "virtual:sc", "exec", "print(1)", "+", "c3", "exec", "print(2)")
    assert done.returncode == 1 and done.stdout == b"1\r\n" and b"COM3" in done.stderr
