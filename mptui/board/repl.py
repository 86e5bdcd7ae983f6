"""The REPL protocol over a transport: friendly passthrough, raw REPL, raw-paste, exec.

The bytes come through the reader it builds on (board/repl_reader.py): its pump, buffer and
reads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from mptui.board.errors import BoardError, BoardTimeout, RawReplError, exec_error
from mptui.board.repl_reader import EXEC_TIMEOUT, ReplReader, deadline_after
from mptui.transports.base import Transport

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
RAW_PROMPT = RAW_BANNER + b">"
SOFT_REBOOT = b"soft reboot\r\n"
FRIENDLY_BANNER_END = b'Type "help()" for more information.\r\n'
ABORT_SETTLE = 0.1  # seconds of silence after the raw REPL's end that say a stopped run is over
ABORT_ENDS = 50  # ends seen (each followed by more bytes) before an abort gives up waiting


class Repl(ReplReader):
    """The REPL protocol: the raw REPL, raw-paste with flow control, exec, abort, soft reset."""

    def __init__(self, transport: Transport) -> None:
        super().__init__(transport)
        self.raw_paste: bool | None = None  # None until the board has answered once
        self.window = 128
        self._prompt_due = False  # a '>' from the last exec is still to be read
        self.running = False  # code we sent may still run (or be arriving): its end not yet read
        # where a program's output went when its run was cut short on this side (cancelled)
        # while that output was read: the rest of it goes there as the program is stopped
        self.cut_output: Callable[[bytes], None] | None = None
        self._cut_in_send = False  # (the cut came as the code was sent: its answer comes first)
        self.enter_timeouts = (0.5, 1.5, 3.0)  # patience per attempt at entering the raw REPL
        # bytes that end a write stream the board may still be in (Ctrl-C off) after the link
        # was lost during it: 'A's, as many as a frame and a unit (batch.py); 0: none open
        self.open_stream = 0

    # -- raw REPL ---------------------------------------------------------------------------

    async def enter_raw(self) -> bytes:
        """Get to the raw REPL prompt, interrupting whatever runs; retry with growing patience.
        Returns what the board sent on the way (a program's last output, its traceback)."""
        cut, self.cut_output = self.cut_output, None
        if self.in_raw:
            await self._read_prompt()
            return b""
        if self.open_stream:  # the board may be reading a stream with Ctrl-C off: end it
            n, self.open_stream = self.open_stream, 0
            await self.write(b"A" * n)
        seen = bytearray()
        for attempt, timeout in enumerate(self.enter_timeouts):
            seen += self._buf
            self._buf.clear()
            # Ctrl-C stops a program (more of them on later tries: a program may catch one);
            # Ctrl-A needs an empty line, hence the CR before it.
            await self.write(b"\r" + b"\x03" * (attempt + 1))
            if attempt:
                await asyncio.sleep(0.02 * attempt)
            await self.write(b"\r\x01")
            try:
                seen += await self.read_until(RAW_PROMPT, timeout)
            except BoardTimeout:
                continue
            if attempt:
                await self._settle()
            self.in_raw = True
            self._prompt_due = False
            if cut is not None and (rest := _cut_rest(bytes(seen), self._cut_in_send)):
                cut(rest)  # printed before it stopped, not read when it was cut
            return bytes(seen)
        seen += self._buf
        shown = bytes(seen[-160:]).decode("utf-8", "replace") or "nothing"
        raise RawReplError(
            f"could not enter the raw REPL; the board sent: {shown!r}. Try: reset the board, "
            "close other programs using the port, check the baud rate, or remove a main.py "
            "that disables Ctrl-C"
        )

    async def _settle(self, quiet: float = 0.1, patience: float = 2.0) -> None:
        """After several tries, the board may still answer the earlier ones (a second raw
        banner): let it fall silent, then take one fresh prompt."""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            self._buf.clear()
            try:
                await self._wait_data(deadline_after(quiet))
            except BoardTimeout:
                break
        self._buf.clear()
        await self.write(b"\x01")  # at the raw REPL: a fresh banner and prompt
        await self.read_until(RAW_PROMPT, 2.0)

    async def exit_raw(self) -> None:
        """Back to the friendly REPL (the board prints its banner)."""
        if self.in_raw:
            await self.write(b"\r\x02")
            self.in_raw = False
            self._prompt_due = False

    async def _read_prompt(self) -> None:
        if not self._prompt_due:
            return
        self._prompt_due = False
        try:
            b = await self.read_exact(1, timeout=1.0)
        except BoardTimeout:
            b = b""
        if b != b">":
            # Not at the prompt after all (a reset or stray output): start over.
            self.in_raw = False
            self._buf[:0] = b
            await self.enter_raw()

    async def exec(
        self,
        code: str | bytes,
        on_output: Callable[[bytes], None] | None = None,
        timeout: float | None = EXEC_TIMEOUT,
    ) -> bytes:
        """Run code at the raw REPL; return its stdout (also streamed to `on_output`).

        Raises BoardExecError (or BoardOSError) carrying the board's traceback.
        """
        await self.send_code(code)
        return await self.follow(on_output, timeout)

    async def send_code(self, code: str | bytes,
                        on_output: Callable[[bytes], None] | None = None) -> None:
        """Send code to run (raw-paste with flow control, else plain raw REPL). `on_output`:
        where its output is to go (see cut_output: the send may be cut short as it ends)."""
        data = code.encode() if isinstance(code, str) else code
        self.running = True  # from here until follow() reads its end, a stop needs an abort
        await self.enter_raw()
        try:
            await self._send(data)
        except asyncio.CancelledError:
            self.cut_output, self._cut_in_send = on_output, True
            raise

    async def _send(self, data: bytes) -> None:
        if self.raw_paste is False or not await self._try_raw_paste(data):
            await self._plain_raw(data)
        self._prompt_due = True

    async def _try_raw_paste(self, data: bytes) -> bool:
        """True once sent by raw-paste; False on firmware without it. A request answered as
        no firmware answers (damaged on the way), or answered "no" by a board that said yes
        before (out of step), is made once more from a fresh raw prompt."""
        known = self.raw_paste
        for attempt in (1, 2):
            try:
                if await self._raw_paste(data):
                    return True
                if not known:
                    return False
            except _Garbled:
                pass
            if attempt == 1:
                self.raw_paste, self.in_raw = known, False
                await self.enter_raw()
        raise BoardError("raw-paste failed twice on a board that supports it")

    async def follow(
        self, on_output: Callable[[bytes], None] | None = None, timeout: float | None = EXEC_TIMEOUT
    ) -> bytes:
        out = bytearray()

        def sink(b: bytes) -> None:
            out.extend(b)
            if on_output:
                on_output(b)

        self.cut_output = None
        try:
            try:
                await self.stream_until(4, sink, timeout)
            except asyncio.CancelledError:
                self.cut_output, self._cut_in_send = on_output, False
                raise
            err = bytearray()
            await self.stream_until(4, err.extend, timeout)
        except BoardTimeout:
            self.in_raw = False  # whatever runs is left running; the next op interrupts it
            raise
        self.running = False
        if err:
            raise exec_error(err.decode("utf-8", "replace"), out.decode("utf-8", "replace"))
        return bytes(out)

    async def _raw_paste(self, data: bytes) -> bool:
        """Raw-paste mode. False if the board does not support it (it is then remembered)."""
        window = self.window
        pre = b""
        if self.raw_paste:  # known to work: send the first window with the request
            pre = data[:window]
        end = b"\x04" if len(pre) == len(data) and self.raw_paste else b""
        await self.write(b"\x05A\x01" + pre + end)
        reply = await self.read_exact(2)
        if reply == b"R\x00":  # understood but refused: the raw REPL prompts again
            self.raw_paste = False
            await self.read_until(b">")
            return False
        if reply != b"R\x01":
            if reply != RAW_BANNER[:2]:
                raise _Garbled(reply)
            # firmware too old: only the Ctrl-A was understood; it reset the raw REPL
            self.raw_paste = False
            await self.read_until(b"w REPL; CTRL-B to exit\r\n>")
            return False
        self.raw_paste = True
        self.window = window = int.from_bytes(await self.read_exact(2), "little")
        remaining = window - len(pre)  # the board's extra first \x01 arrives as a credit
        if remaining < 0:  # the window shrank (another board?): cannot undo what was sent
            raise BoardError("raw-paste window mismatch; reconnect")
        sent = len(pre)
        if not end:
            while sent < len(data):
                while self._buf or remaining <= 0:
                    if not self._buf:
                        await self._wait_data(deadline_after(EXEC_TIMEOUT))
                        continue
                    flag = self._buf[0]
                    del self._buf[0]
                    if flag == 1:
                        remaining += window
                    elif flag == 4:  # the board ends early (a syntax error while compiling)
                        await self.write(b"\x04")
                        return True
                    else:
                        raise BoardError(f"raw-paste: unexpected byte {flag:#04x} from the board")
                n = min(remaining, len(data) - sent)
                await self.write(data[sent : sent + n])
                sent += n
                remaining -= n
            await self.write(b"\x04")
        # Wait for the board's \x04 ("received and compiled"), skipping late credits.
        while True:
            b = await self.read_exact(1)
            if b == b"\x04":
                return True
            if b != b"\x01":
                raise BoardError(f"raw-paste: unexpected byte {b!r} from the board")

    async def _plain_raw(self, data: bytes) -> None:
        for i in range(0, len(data), 256):
            await self.write(data[i : i + 256])
            await asyncio.sleep(0.01)  # old firmware has no flow control here
        await self.write(b"\x04")
        ok = await self.read_exact(2)
        if ok != b"OK":
            raise BoardError(f"raw REPL: expected OK, got {ok + self.tail(60)!r}")

    async def abort(self, stop: bytes = b"\x03") -> None:
        """Stop the code running from our last send_code (Ctrl-C, or `stop`: bytes the code
        itself takes as the end) and wait for its end; the next operation starts over."""
        self.in_raw = self.running = False
        try:
            await self.write(stop)
            for _ in range(ABORT_ENDS):
                await self.read_until(b"\x04>", timeout=2.0)
                # a file's bytes streamed as they are may hold the marker too: the end is
                # the marker the board's silence follows
                await self.wait_data(ABORT_SETTLE)
        except BoardError:
            return
        # The rest of what was in flight may reach the raw REPL's line after this: the next
        # operation starts over (Ctrl-C clears the line, Ctrl-A resets the raw REPL).

    # -- resets -----------------------------------------------------------------------------

    async def soft_reset(self, timeout: float = 10.0) -> bytes:
        """Soft-reboot and come back to the raw REPL. Returns what boot printed."""
        await self.enter_raw()
        await self.write(b"\x04")
        await self.read_until(SOFT_REBOOT, timeout)
        boot = await self.read_until(RAW_PROMPT, timeout)
        self.in_raw = True
        self._prompt_due = False
        return boot[: -len(RAW_PROMPT)]


class _Garbled(Exception):
    """A raw-paste request's answer that no firmware gives: damaged on the way."""


def _cut_rest(seen: bytes, in_send: bool) -> bytes:
    """What a program cut short printed before it was stopped, from what the board sent since
    the cut: its output runs up to the first Ctrl-D (its traceback follows). A cut as the code
    was sent leaves the board's answers to it first: raw-paste's reply and window, credits,
    and its Ctrl-D once it has all the code; or the plain raw REPL's OK. Without them the code
    did not arrive whole: nothing ran."""
    if in_send:
        rest = seen[4:] if seen.startswith(b"R\x01") else seen
        rest = rest.lstrip(b"\x01")
        if rest[:1] == b"\x04" or rest[:2] == b"OK":
            seen = rest[1:] if rest[:1] == b"\x04" else rest[2:]
        else:
            return b""
    end = seen.find(b"\x04")
    return seen[:end] if end > 0 else b""
