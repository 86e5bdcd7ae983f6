"""A virtual board: the MicroPython unix port under a PTY, indistinguishable from a USB board.

The unix port differs from a board in ways tools notice; this module hides each of them:
- output: the PTY does no processing; text output (print, sys.stdout.write) is cooked in the
  runtime and sys.stdout.buffer bytes pass unchanged, as on a board (see output.py);
- Ctrl-C: the PTY makes no signals (a board's 0x03 is data unless code runs with the interrupt
  character on: `micropython.kbd_intr`). We look whether the port has its SIGINT handler
  installed (it has exactly while code runs with Ctrl-C enabled; checked while the process is
  stopped): then a signal that marks KeyboardInterrupt pending, as a board's Ctrl-C does
  (runtime.py: SAFE_INTERRUPT), else the byte goes in as data (the REPL's Ctrl-C, or binary
  input);
- where a board soft-reboots (Ctrl-D, `machine.soft_reset()`, `sys.exit()`) the process exits:
  we print `MPY: soft reboot`, start a new one, hide its banner and resume the raw REPL if it
  was raw, holding the host's input until the new process can take it;
- `machine.reset()` restarts it as after power-on;
- its `/` is a folder of its own (see mpy/startup.py);
- a link profile (link.py) puts a real-time wire between host and board (wire.py): a UART's
  rate and 256-byte stdin ring, USB's packets, a small board's heap, faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import pty
import signal
import subprocess
import tty
from pathlib import Path

from mptui.errors import MptuiError
from mptui.paths import virtual_board_root
from mptui.virtual.board_wire import WireHooks
from mptui.virtual.fd_pipe import FdPipe
from mptui.virtual.link import FAST, Link
from mptui.virtual.output import BOOT_PY_DONE, BOOTED, FS_READY, OutputDemux
from mptui.virtual.process import interrupt_code, start_on_terminal
from mptui.virtual.runtime import MPY_DIR, SAFE_INTERRUPT, RuntimeOptions
from mptui.virtual.wire import TtyProbe, Wire

SOFT_REBOOT = b"MPY: soft reboot\r\n"
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
FRIENDLY_BANNER_END = b'Type "help()" for more information.\r\n'
HARD_RESET_EXIT = 0x5A  # machine.reset() in mpy/_mptui_machine.py
BOOT_PY_WAIT = 5.0  # start() waits this long at most for boot.py (one that never ends: a host's
# Ctrl-C then stops it, as it would on a board)


class VirtualBoardError(MptuiError, RuntimeError):
    pass


class VirtualBoard(WireHooks):
    """One virtual board. `await start()`, then `write()` bytes in and `await read()` them out."""

    def __init__(
        self,
        name: str = "default",
        *,
        root: str | os.PathLike | None = None,
        options: RuntimeOptions | None = None,
        usb_reset: bool = False,
        link: Link | None = None,
        boot_wait: float = BOOT_PY_WAIT,
    ) -> None:
        """usb_reset: a hard reset or power cycle drops the link, as a USB board's does:
        read() raises ConnectionResetError once (output not yet read is lost, and input
        written until then); reads then go on with the boot output. link: the wire's profile (default: the fast PTY link).
        boot_wait: start() returns once boot.py has run (this long at most), as a board plugged
        in a while ago has run it before anyone types: a host's first Ctrl-C stops main.py, not
        boot.py half done. 0: start() returns at once (input held back until `/` is ready)."""
        self.name = name
        self.usb_reset = usb_reset
        self._link_dropped = False
        self.root = Path(root) if root else virtual_board_root(name)
        self.link = link or FAST
        self.options = (options or RuntimeOptions()).with_heap(self.link.heap)
        self.wire: Wire | None = None  # made at start() for a link that needs one
        self._probe: TtyProbe | None = None
        self.boot_wait = boot_wait
        self._boot_py_done = asyncio.Event()
        self.soft_resets = 0
        self.hard_resets = 0
        self._proc: subprocess.Popen | None = None
        self._pipe: FdPipe | None = None  # the PTY's master end
        self._out = bytearray()
        self._out_ready = asyncio.Event()
        self._held_in = bytearray()  # kept back while a new process boots
        self._raw = False  # the REPL mode, as seen in the board's output
        self._tail = b""  # last bytes of output, to find the raw banner split across reads
        self._booting = False  # until BOOTED arrives
        self._interrupt_pending = False  # a held Ctrl-C waits for code that takes it
        self._fs_ready = False  # until FS_READY arrives (input is held back till then)
        self._demux: OutputDemux | None = None
        self._resume_raw = False  # the new process must be put back in the raw REPL
        self._hide_banner = False  # swallow output until the raw banner
        self._closed = False
        self._early_exits = 0
        self._mode_tail = b""
        self._drained: asyncio.Future | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _started_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the virtual board was not started")
        return self._loop

    # -- public API -----------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.options.executable()  # fail early and clearly when there is no runtime
        self.root.mkdir(parents=True, exist_ok=True)
        if self.link.paced:
            self.wire = Wire(self.link, deliver=self._write_now, pending=self._stdin_pending,
                             overflow=self._overflow, release=self._release,
                             hold_tx=self._hold_tx, stall=self._stall)
        self._spawn(raw=False)
        if self.boot_wait > 0:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._boot_py_done.wait(), self.boot_wait)

    async def __aenter__(self) -> VirtualBoard:  # noqa: PYI034
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    @property
    def running(self) -> bool:
        return not self._closed and self._proc is not None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    async def read(self) -> bytes:
        """The board's next output (all that is buffered); b"" once the board is stopped."""
        while not self._out or self._link_dropped:
            if self._link_dropped:
                self._link_dropped = False
                raise ConnectionResetError("the board reset (its USB link dropped)")
            if self._closed:
                return b""
            self._out_ready.clear()
            await self._out_ready.wait()
        data = bytes(self._out)
        self._out.clear()
        self._resume_reading()
        return data

    def write(self, data: bytes) -> None:
        """Send bytes to the board, as typed on its USB serial line. Never blocks."""
        if self._closed:
            raise VirtualBoardError("the virtual board is stopped")
        if self._link_dropped:
            return  # into a USB port gone with the reset: lost, never typed into the new boot
        if self.wire is not None:
            self.wire.send(data)  # on to _write_now as the wire carries it
        else:
            self._write_now(data)

    def _write_now(self, data: bytes) -> None:
        if self._closed:
            return
        if self._proc is None or not self._fs_ready or self._held_in:
            self._held_in += data  # nothing may stop the set-up of `/`; keep the order
            return
        if b"\x03" in data:
            if self._interrupt():  # code runs with Ctrl-C on: KeyboardInterrupt
                data = data.replace(b"\x03", b"")
            elif self._booting:
                # No handler between boot's steps: as on a board, the Ctrl-C waits to stop
                # the next code that runs (main.py), or reaches the REPL as a byte; what
                # follows it waits too, to keep the order.
                self._held_in += data
                self._interrupt_when_possible(self._proc)
                return
            # else: nothing runs with Ctrl-C on (the REPL reads it, or kbd_intr(-1)): data
        if self._booting and self._resume_raw:
            self._held_in += data  # in raw-resume, input waits for the raw prompt
            return
        self._send(data)

    def _write_if_running(self, data: bytes) -> None:
        if not self._closed:
            self.write(data)

    async def drain(self, limit: int = 1 << 16) -> None:
        """Wait until the runtime has taken all but `limit` bytes of the input sent (with a
        wire: until the wire has all but a host's write buffer of it)."""
        if self.wire is not None:
            await self.wire.drain()
            return
        while self._unsent() > limit and not self._closed:
            self._drained = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(asyncio.shield(self._drained), 0.05)
            except asyncio.TimeoutError:
                pass  # held input (a reboot in progress) is not signalled; look again

    def power_cycle(self) -> None:
        """Kill the runtime as a power loss would; it comes back as after power-on."""
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._proc.pid, signal.SIGKILL)

    def discard_output(self) -> None:
        self._out.clear()
        if self.wire is not None:
            self.wire.discard_output()
        self._resume_reading()

    async def stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._out_ready.set()
        self._teardown()
        if self.wire is not None:
            self.wire.close()

    @property
    def unique_id(self) -> bytes:
        """What its machine.unique_id() returns: 8 bytes (as an RP2040's flash id), its own
        for each board name and the same at every start, as a chip's is."""
        return hashlib.sha256(f"mptui-virtual-board:{self.name}".encode()).digest()[:8]

    # -- process management -----------------------------------------------------------------

    def _spawn(self, raw: bool) -> None:
        master, slave = pty.openpty()
        tty.setraw(slave)  # no output processing, no signals: bytes in and out as they are
        tag = "mptui" + os.urandom(8).hex()  # marks the runtime's control sequences
        env = dict(os.environ)
        env.update(
            MPTUI_VB_ROOT=str(self.root.resolve()),
            MPTUI_VB_LIB=str(MPY_DIR),
            MPTUI_VB_RAW="1" if raw else "0",
            MPTUI_VB_TAG=tag,
            MPTUI_VB_UID=self.unique_id.hex(),
            MPTUI_VB_FS=str(self.link.fs or 0),  # the filesystem's size; 0: the host disk's
        )
        cmd = [*self.options.command(), "-i", str(MPY_DIR / "startup.py")]
        try:
            self._proc = start_on_terminal(cmd, slave, env=env, cwd=str(self.root))
            if self.wire is not None:
                self._probe = TtyProbe(slave, self._proc)
                self.wire.new_runtime()
        finally:
            os.close(slave)
        self._booting = True
        self._fs_ready = False
        self._boot_py_done.clear()
        self._resume_raw = raw
        self._hide_banner = False
        self._demux = OutputDemux(tag.encode())
        self._pipe = FdPipe(master, on_data=self._on_output, on_eof=self._child_exited,
                            backlog=lambda: len(self._out), on_written=self._signal_drained)

    def _teardown(self) -> None:
        if self._probe is not None:
            self._probe.close()
            self._probe = None
        if self._demux is not None:
            held, self._demux = self._demux.flush(), None
            if held:
                self._emit(held)
        if self._pipe is not None:
            fd = self._pipe.detach()
            if fd is not None:
                os.close(fd)
            self._pipe = None
        proc, self._proc = self._proc, None
        if proc and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        if proc:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2)

    def _child_exited(self) -> None:
        proc = self._proc
        code = proc.wait() if proc else 0
        booted = not self._booting
        self._teardown()
        if self._closed:
            return
        self._early_exits = 0 if booted else self._early_exits + 1
        if self._early_exits > 5:
            msg = f"\r\n[virtual board stopped: the runtime keeps exiting (status {code})]\r\n"
            self._emit(msg.encode())
            self._closed = True
            self._out_ready.set()
            self._boot_py_done.set()  # (start() waits no more)
            return
        if code == HARD_RESET_EXIT or (code < 0 and code != -signal.SIGUSR1):
            # machine.reset(), or killed: a power cycle (SIGUSR1: sys.exit() in boot/main.py)
            self.hard_resets += 1
            self._raw = False
            self._held_in.clear()  # a board drops what was in flight when it resets
            if self.usb_reset:
                self._out.clear()
                if self.wire is not None:
                    self.wire.host_to_board.clear()
                    self.wire.discard_output()
                self._link_dropped = True
                self._out_ready.set()
        else:
            self.soft_resets += 1
            self._emit(SOFT_REBOOT)
        self._spawn(raw=self._raw)

    # -- PTY I/O ----------------------------------------------------------------------------

    def _resume_reading(self) -> None:
        if self._pipe is not None:
            self._pipe.resume_reading()

    def _send(self, data: bytes) -> None:
        if self._pipe is None:
            self._held_in += data
        else:
            self._pipe.send(data)

    def _unsent(self) -> int:
        return len(self._pipe.pending if self._pipe else b"") + len(self._held_in)

    def _signal_drained(self) -> None:
        waiter = self._drained
        if waiter and not waiter.done() and self._pipe and len(self._pipe.pending) <= 1 << 16:
            waiter.set_result(None)

    # -- output processing ------------------------------------------------------------------

    def _on_output(self, data: bytes) -> None:
        # (what may start a control sequence waits for the next output: the runtime's C code
        # rarely ends a write with ESC, and a frame's header cut by a full PTY must stay whole)
        if self._demux is None:
            return  # (closed)
        for kind, chunk in self._demux.feed(data):
            if kind == FS_READY:
                self._fs_is_ready()
            elif kind == BOOT_PY_DONE:
                self._boot_py_done.set()
            elif kind == BOOTED:
                self._booted()
            elif self._hide_banner:
                self._until_raw_banner(chunk)
            else:
                self._emit(chunk)

    def _fs_is_ready(self) -> None:
        self._fs_ready = True
        if self._held_in:  # through write(), later: a Ctrl-C in it needs care
            held, self._held_in = bytes(self._held_in), bytearray()
            self._started_loop().call_soon(self._write_if_running, held)

    def _booted(self) -> None:
        """boot.py (and main.py) are done; in raw-resume, enter the raw REPL unseen."""
        if self._resume_raw:
            self._hide_banner = True
            self._send(b"\x01")
        else:
            self._finish_boot()

    def _until_raw_banner(self, data: bytes) -> None:
        """Raw-resume: hide the friendly banner; show from the raw REPL's banner on."""
        buf = self._tail + data
        i = buf.find(RAW_BANNER)
        if i < 0:
            self._tail = buf[-len(RAW_BANNER) :]
            return
        self._finish_boot()
        self._emit(buf[i:])

    def _finish_boot(self) -> None:
        self._booting = False
        self._hide_banner = False
        self._tail = b""
        if self._held_in:
            held, self._held_in = bytes(self._held_in), bytearray()
            self.write(held)

    def _emit(self, data: bytes) -> None:
        self._track_mode(data)
        if self.wire is not None:
            self.wire.from_board(data)  # on to _release as the wire carries it
        else:
            self._release(data)

    def _release(self, data: bytes) -> None:
        self._out += data
        self._out_ready.set()

    def _track_mode(self, data: bytes) -> None:
        window = self._mode_tail + data
        raw_at = window.rfind(RAW_BANNER)
        friendly_at = window.rfind(FRIENDLY_BANNER_END)
        if raw_at > friendly_at:
            self._raw = True
        elif friendly_at > raw_at:
            self._raw = False
        self._mode_tail = window[-len(FRIENDLY_BANNER_END) :]

    def _interrupt(self) -> bool:
        """A Ctrl-C for running code: KeyboardInterrupt made pending if code runs with Ctrl-C
        on (process.interrupt_code); else False (the caller keeps the byte)."""
        return self._proc is not None and interrupt_code(self._proc.pid, SAFE_INTERRUPT)

    def _interrupt_when_possible(self, proc) -> None:
        """Retry a held Ctrl-C while the board boots, until code runs that takes it (main.py,
        however slow the machine is to get there); the end of boot, or a reset, releases the
        held input by itself. One retry chain at a time."""
        if not self._interrupt_pending:
            self._interrupt_pending = True
            self._retry_interrupt(proc, 0.002)

    def _retry_interrupt(self, proc, wait: float) -> None:
        if self._proc is not proc or self._closed or not self._booting \
                or b"\x03" not in self._held_in:
            self._interrupt_pending = False
            return
        if self._interrupt():
            self._interrupt_pending = False
            held, self._held_in = self._held_in.replace(b"\x03", b""), bytearray()
            self.write(bytes(held))
            return
        self._started_loop().call_later(wait, self._retry_interrupt, proc, min(wait * 2, 0.05))
