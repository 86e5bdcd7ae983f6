"""Shared fixtures: every test gets its own data dir and config and boards of its own; a bridge
serving a fresh virtual board; the real mptui and mpremote commands.

The bridge runs on an event loop of its own in a thread, so that a test may block (run
mpremote, talk through pyserial) while the board is being served.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import BLE_NAME, WEBREPL_PW, session_on

from mptui.transports.webrepl import ENV_PASSWORD
from mptui.virtual.board import VirtualBoard
from mptui.virtual.bridge import ANY_PORT, OFF, RFC2217, SOCKET, Bridge

URL_KINDS = (SOCKET, RFC2217)
MPREMOTE_TIMEOUT = 60  # seconds; only to turn a hang into a failure

def _isolate(base: Path, mp: pytest.MonkeyPatch) -> None:
    """Point everything a test could write outside its own folders into `base`."""
    home = base / "home"
    dirs = {
        "HOME": home,
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_DATA_HOME": home / ".local" / "share",
        "XDG_STATE_HOME": home / ".local" / "state",
        "XDG_CACHE_HOME": home / ".cache",
        "XDG_RUNTIME_DIR": base / "run",
        "TMPDIR": base / "tmp",
        "TMUX_TMPDIR": base / "tmux",
    }
    for name, path in dirs.items():
        path.mkdir(mode=0o700, parents=True)
        mp.setenv(name, str(path))
    mp.delenv("TMUX", raising=False)  # tmux commands would go to the enclosing server
    mp.setattr(tempfile, "tempdir", str(dirs["TMPDIR"]))
    mp.setenv("MPTUI_DATA_DIR", str(base / "data"))
    mp.setenv("MPTUI_CONFIG", str(base / "config.toml"))
    mp.setenv("MPTUI_STATE_DIR", str(base / "state"))  # the log file, kept virtual boards
    mp.setenv("MPTUI_VIRTUAL_IDLE", "0")  # a fresh virtual board per command (unless a test
    # asks for the kept one)


def _clean_up(base: Path) -> None:
    """Stop the tmux servers left on the folder's sockets, then remove it."""
    for socket_path in (base / "tmux").glob("tmux-*/*") if shutil.which("tmux") else ():
        subprocess.run(["tmux", "-S", str(socket_path), "kill-server"], check=False,
                       capture_output=True, timeout=10)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def isolated_session_env(tmp_path_factory):
    """The same as isolated_env, for what module- and session-scoped fixtures start."""
    base = tmp_path_factory.mktemp("session-env")
    with pytest.MonkeyPatch.context() as mp:
        _isolate(base, mp)
        yield base
        left = _stop_kept_boards()
    _clean_up(base)
    assert not left, f"the tests left kept virtual boards running: {left}"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    """Every test runs away from the user's files, and leaves nothing behind it: its own HOME
    (where the MicroPython runtime keeps `.micropython.history`), XDG dirs (config, data,
    state, cache, runtime), TMPDIR (also Python's tempfile), tmux socket folder (TMUX_TMPDIR:
    `tmux -L NAME` lands there; an enclosing tmux is forgotten), mptui data dir and config
    file. Afterwards any tmux server left on those sockets is killed and the whole folder
    removed. Returns the folder: `data/` is MPTUI_DATA_DIR, `config.toml` MPTUI_CONFIG."""
    base = tmp_path_factory.mktemp("env")
    _isolate(base, monkeypatch)
    yield base
    from mptui import log

    log.close()  # a command run in this process set it up
    left = _stop_kept_boards()
    _clean_up(base)
    assert not left, f"the test left kept virtual boards running: {left}"


def _stop_kept_boards() -> list[dict]:
    """No test leaves a kept virtual board (a background process) running: any left is
    stopped (and the test fails for it: the callers assert)."""
    from mptui.virtual import keeper

    return keeper.stop_all()


@pytest.fixture
def board_root(tmp_path):
    root = tmp_path / "board"
    root.mkdir()
    return root


@dataclass(frozen=True)
class LinkCase:
    """A link profile a test runs on (the `link_profile` fixture)."""

    profile: str  # as in virtual:NAME?link=PROFILE

    @property
    def slow(self) -> bool:
        return self.profile != "fast"

    def address(self, name: str) -> str:
        return f"virtual:{name}" + (f"?link={self.profile}" if self.slow else "")

    def size(self, fast: int, slow: int) -> int:
        """A test's data size: enough to prove the point, within CI's time on a slow link."""
        return slow if self.slow else fast


# The profiles the engine suites run on: the fast link, a 115200-baud UART (a 256-byte ring
# that drops), and an ESP8266 (that UART, a 38 KB heap, flash-erase busy spells).
LINK_PROFILES = {"fast": "fast", "uart115200": "uart:115200", "esp8266": "esp8266"}


@pytest.fixture(params=list(LINK_PROFILES.values()), ids=list(LINK_PROFILES))
def link_profile(request) -> LinkCase:
    """Run the test on each link profile; the `session` fixture follows it."""
    return LinkCase(request.param)


@pytest.fixture
async def session(request, board_root):
    """A connected session to a virtual board whose `/` is `board_root` (on the test's
    `link_profile` when it asks for one: then no byte may be lost to a full ring)."""
    link = LinkCase("fast")
    if "link_profile" in request.fixturenames:
        link = request.getfixturevalue("link_profile")
    async with session_on(link.address("test"), board_root) as s:
        yield s


@pytest.fixture(params=["helper", "plain"])
async def fs_session(request, session):
    """`session`, twice: with the file helper, and without (plain raw-REPL code, as when the
    helper cannot load: low memory, odd firmware)."""
    if request.param == "plain":
        session.helper = False
    return session


def pytest_configure(config):
    # pyserial 3.5's RFC 2217 client still calls Thread.setDaemon/setName
    config.addinivalue_line(
        "filterwarnings", r"ignore:set(Daemon|Name)\(\) is deprecated:DeprecationWarning"
    )
    # A run started in the background by a shell without job control (`pytest &` in a script)
    # ignores SIGINT, and so would every `mptui` a test starts: the Ctrl-C tests would hang.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


class BridgeThread:
    """A `Bridge` on free loopback ports, served from a thread. `board` is a factory called
    on the bridge's loop; by default a virtual board on `root`."""

    def __init__(self, root: Path, board=None, link=None) -> None:
        self.root = root
        self._make_board = board or (lambda: VirtualBoard("test", root=root, link=link))
        self.loop = asyncio.new_event_loop()
        self.bridge: Bridge | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> BridgeThread:
        self._thread.start()

        async def start():
            self.bridge = Bridge(self._make_board(), rfc2217_port=ANY_PORT, socket_port=ANY_PORT)
            await self.bridge.start()

        self.call(start())
        return self

    def stop(self) -> None:
        if self.bridge is not None:
            self.call(self.bridge.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    def call(self, coro, timeout: float = 30):
        """Run a coroutine on the bridge's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def board(self) -> VirtualBoard:
        return self.bridge.device.board

    def url(self, kind: str) -> str:
        return self.bridge.url(kind)

    @property
    def socket_url(self) -> str:
        return self.bridge.socket_url

    @property
    def rfc2217_url(self) -> str:
        return self.bridge.rfc2217_url

    def wait_idle(self, timeout: float = 10) -> None:
        """Wait until no client is connected."""
        deadline = time.monotonic() + timeout
        while self.bridge._client is not None:
            if time.monotonic() > deadline:
                pytest.fail("the bridge still has a client")
            time.sleep(0.01)  # polling: the deadline above ends it


@pytest.fixture
def start_bridge(tmp_path):
    """Factory: start_bridge(files={"main.py": "..."}, board=factory, link=Link) -> a running
    BridgeThread. `files` are put in the board's folder before it boots."""
    started = []

    def start(files: dict[str, str] | None = None, board=None, link=None) -> BridgeThread:
        root = tmp_path / f"board{len(started)}"
        root.mkdir()
        for name, text in (files or {}).items():
            (root / name).write_text(text)
        bt = BridgeThread(root, board, link)
        started.append(bt)
        return bt.start()

    yield start
    for bt in started:
        bt.stop()


@pytest.fixture
def bridge(start_bridge) -> BridgeThread:
    """A bridge serving a fresh virtual board whose / is an empty temporary folder."""
    return start_bridge()


@pytest.fixture(params=URL_KINDS)
def url(request, bridge) -> str:
    """The bridge's socket:// or rfc2217:// address (tests using it run for both)."""
    return bridge.url(request.param)


class Mpremote:
    """The real mpremote CLI, run as `python -m mpremote connect URL ...`."""

    def argv(self, url: str, *args: str) -> list[str]:
        return [sys.executable, "-m", "mpremote", "connect", url, *args]

    def __call__(self, url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            self.argv(url, *args),
            check=False,
            capture_output=True,
            text=True,
            timeout=MPREMOTE_TIMEOUT,
        )
        if check and proc.returncode != 0:
            pytest.fail(
                f"mpremote {' '.join(args)} exited {proc.returncode}\n"
                f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
            )
        return proc


@pytest.fixture
def mpremote() -> Mpremote:
    return Mpremote()


# -- wireless boards: WebREPL through the bridge, BLE NUS on Bumble's virtual radio ----------


@dataclass
class WebReplBoard:
    bridge: Bridge
    url: str  # ws://127.0.0.1:PORT
    root: Path  # the board's /


@pytest.fixture
async def webrepl_board(tmp_path, monkeypatch):
    """A virtual board served over WebREPL only (password WEBREPL_PW), in this event loop."""
    monkeypatch.delenv(ENV_PASSWORD, raising=False)
    board = VirtualBoard("wr", root=tmp_path / "wr-board")
    bridge = Bridge(
        board, rfc2217_port=OFF, socket_port=OFF, webrepl_port=ANY_PORT,
        webrepl_password=WEBREPL_PW,
    )
    async with bridge:
        yield WebReplBoard(bridge, bridge.webrepl_url, board.root)


@pytest.fixture
async def radio():
    pytest.importorskip("bumble", reason="the virtual radio needs bumble (Python 3.11+)")
    from ble_bumble import VirtualRadio

    return VirtualRadio()


@pytest.fixture
async def ble_board(radio, tmp_path):
    """A NUS peripheral named BLE_NAME on the virtual radio, a virtual board behind it."""
    from ble_bumble import NusPeripheral

    peripheral = NusPeripheral(VirtualBoard("ble", root=tmp_path / "ble-board"), radio, BLE_NAME)
    await peripheral.start()
    yield peripheral
    await peripheral.stop()
