"""The REPL protocol at its edges, against the real runtime: a link that delivers one byte at a
time (every marker split everywhere), firmware without raw-paste (its answers to the request
made by the real board), code the board stops reading early, a board deaf to Ctrl-C, and code
that outlives its timeout."""

from __future__ import annotations

import asyncio

import pytest
from helpers import damage_once, spy_writes, until

from mptui.board import BoardDisconnected, BoardError, BoardExecError, BoardTimeout, Session
from mptui.board.errors import RawReplError
from mptui.board.repl import RAW_PROMPT, Repl
from mptui.transports.virtual import VirtualTransport


class ChoppedLink(VirtualTransport):
    """The virtual board behind a link that hands over its bytes one at a time."""

    _pending = b""

    async def read(self) -> bytes:
        if not self._pending:
            self._pending = await super().read()
        else:
            await asyncio.sleep(0)  # not a wait: lets the reader take this byte alone
        byte, self._pending = self._pending[:1], self._pending[1:]
        return byte


class NoRawPasteLink(VirtualTransport):
    """The virtual board as firmware without raw-paste answers its request (Ctrl-E A Ctrl-A):
    `refuse`: "R\\x00" and a new prompt (built without it); else only the Ctrl-A is understood
    and resets the raw REPL (its banner and prompt again). The real board makes the prompt."""

    def __init__(self, name: str, *, root, refuse: bool) -> None:
        super().__init__(name, root=root)
        self.refuse = refuse
        self.requests = 0
        self.mangle = 1 << 30  # how many requests to answer so (the rest reach the board)
        self.garble_ok = False  # the next "OK" of the plain raw REPL arrives as "KO"
        self._answer_next_prompt = False

    async def write(self, data: bytes) -> None:
        if b"\x05A\x01" in data:
            self.requests += 1
        if b"\x05A\x01" in data and self.mangle > 0:
            self.mangle -= 1
            self._answer_next_prompt = self.refuse
            data = data.replace(b"\x05A\x01", b"\x01")
        await super().write(data)

    async def read(self) -> bytes:
        data = await super().read()
        if self.garble_ok and b"OK" in data:
            self.garble_ok = False
            data = data.replace(b"OK", b"KO", 1)
        if self._answer_next_prompt and RAW_PROMPT in data:
            self._answer_next_prompt = False
            data = data.replace(RAW_PROMPT, b"R\x00>", 1)
        return data


async def test_closing_a_session_that_never_connected(board_root):
    s = Session("socket://127.0.0.1:9", reconnect=False)
    with pytest.raises(BoardDisconnected):
        await s.connect()
    await s.close()  # nothing was started: nothing to stop, no error
    assert s.state == "disconnected"


async def test_markers_split_anywhere_are_still_found(board_root):
    (board_root / "boot.py").write_text("print('booted')\n")
    async with Session("virtual:chop", transport=ChoppedLink("chop", root=board_root)) as s:
        assert await s.eval("6*7") == 42
        with pytest.raises(BoardExecError) as e:
            await s.exec("print('before')\n1/0")
        assert e.value.exc_type == "ZeroDivisionError" and e.value.output == "before\r\n"
        assert await s.exec("print('a' * 300)") == b"a" * 300 + b"\r\n"
        assert b"booted" in await s.soft_reset()
        data = bytes(range(256)) * 4
        await s.fs.write("/x.bin", data)
        totals = []
        assert await s.fs.read("/x.bin", progress=lambda done, total: totals.append(total)) == data
        assert set(totals) == {len(data)}  # known from the first report on
    assert (board_root / "x.bin").read_bytes() == data


@pytest.mark.parametrize("refuse", [True, False], ids=["refused", "not-understood"])
async def test_firmware_without_raw_paste_gets_the_plain_raw_repl(board_root, refuse):
    link = NoRawPasteLink("old", root=board_root, refuse=refuse)
    async with Session("virtual:old", transport=link) as s:
        code = "x = 0\n" + "x += 1\n" * 300 + "print(x)"  # several 256-byte pieces
        assert await s.exec(code) == b"300\r\n"
        assert await s.eval("6*7") == 42
        data = bytes(range(256)) * 4
        await s.fs.write("/x.bin", data)
        assert await s.fs.read("/x.bin") == data
        assert s.repl.raw_paste is False and link.requests == 1  # asked once, remembered
    assert (board_root / "x.bin").read_bytes() == data


async def test_plain_raw_repl_without_its_ok_is_an_error(board_root):
    link = NoRawPasteLink("ok", root=board_root, refuse=True)
    async with Session("virtual:ok", transport=link) as s:
        assert await s.eval("1") == 1  # plain raw REPL from now on
        link.garble_ok = True
        with pytest.raises(BoardError, match="raw REPL: expected OK, got b'KO"):
            await s.eval("3")


async def test_a_lost_raw_paste_request_is_made_again(board_root):
    link = NoRawPasteLink("step", root=board_root, refuse=False)
    link.mangle = 0
    async with Session("virtual:step", transport=link) as s:
        assert await s.eval("1") == 1 and s.repl.raw_paste is True
        link.mangle = 1  # the next request arrives as a bare Ctrl-A: out of step, not old
        assert await s.eval("2") == 2
        assert s.repl.raw_paste is True and link.requests == 3  # asked again, still raw-paste
        assert await s.eval("3") == 3 and link.requests == 4


async def test_long_code_the_board_stops_reading_early(session):
    code = "x = = 1\n" + "y = 2\n" * 3000  # the board's parser stops at line 1
    with pytest.raises(BoardExecError) as e:
        await session.exec(code)
    assert e.value.exc_type == "SyntaxError"
    assert await session.eval("1+1") == 2  # in step: none of the rest reached the REPL


async def test_a_board_deaf_to_ctrl_c_is_a_clear_error(board_root):
    (board_root / "main.py").write_text(
        "import micropython\nmicropython.kbd_intr(-1)\nprint('deaf')\nwhile True:\n    pass\n")
    async with Session("virtual:deaf", root=board_root) as s:
        seen = bytearray()
        s.set_console(seen.extend)
        await until(lambda: b"deaf" in seen, what="main.py running")
        s.repl.enter_timeouts = (0.2, 0.3)
        with pytest.raises(RawReplError, match="remove a main.py that disables Ctrl-C"):
            await s.eval("1")


async def test_a_program_that_catches_one_ctrl_c_takes_a_second_try(board_root):
    (board_root / "main.py").write_text(
        "try:\n    print('first loop')\n    while True:\n        pass\nexcept KeyboardInterrupt:\n"
        "    print('caught one')\nwhile True:\n    pass\n")
    async with Session("virtual:catch", root=board_root) as s:
        seen = bytearray()
        s.set_console(seen.extend)
        await until(lambda: b"first loop" in seen, what="main.py running")
        sent = spy_writes(s.transport)
        assert await s.eval("1+2") == 3
        assert sent.startswith(b"\r\x03\r\x01\r\x03\x03\r\x01")  # two tries, more Ctrl-C
        # the board answered both tries: the first one's late banner did not reach the next
        # operation (which would take it for an answer to its raw-paste request)
        assert await s.exec("x = 0\n" + "x += 1\n" * 300 + "print(x)") == b"300\r\n"
        assert s.repl.raw_paste is True


async def test_code_that_outlives_its_timeout_is_stopped_by_the_next_operation(session):
    seen = bytearray()
    with pytest.raises(BoardTimeout):
        await session.exec("print('going')\nwhile True:\n    pass", seen.extend, timeout=0.5)
    assert seen == b"going\r\n" and session.repl.in_raw is False
    assert await session.eval("6*7") == 42


async def test_a_repl_of_its_own_drops_idle_output_and_works(board_root):
    """A Repl with no console, close or idle listeners set (Session sets them): what the board
    says between operations is dropped and the link stays up."""
    link = VirtualTransport("alone", root=board_root)
    await link.open()
    heard = bytearray()
    read = link.read

    async def listen() -> bytes:
        data = await read()
        heard.extend(data)
        return data

    link.read = listen
    repl = Repl(link)
    repl.start()
    try:
        await until(lambda: b">>> " in heard, what="the board's banner, read while idle")
        assert repl.closed is None
        async with repl.capture():
            assert await repl.exec("print(6*7)") == b"42\r\n"
        pump = repl._pump_task
        await repl.stop()  # no reader left on the link
        assert pump.done()
        repl.start()
        async with repl.capture():
            assert await repl.exec("print(7*6)") == b"42\r\n"
        await link.board.stop()  # the board goes: the pump ends cleanly, saying why
        await until(lambda: repl.closed, what="the pump to see the link closed")
        assert repl._pump_task.done() and repl._pump_task.exception() is None
        assert repl.closed == "the virtual board stopped"  # the link's own words
        with pytest.raises(BoardDisconnected):
            await repl.write(b"\r")
    finally:
        await repl.stop()
        await link.close()


async def test_a_reset_between_operations_is_noticed(session, board_root):
    events = []
    session.subscribe(events.append)
    seen = bytearray()
    session.set_console(seen.extend)
    await session.fs.write("/x", b"1")  # the helper in the board's RAM, the board in raw REPL
    await session.console_write(b"\x04")  # Ctrl-D typed at the friendly REPL: a soft reboot
    await until(lambda: any(e.kind == "reset" for e in events), what="the reset noticed")
    assert b"soft reboot" in seen
    assert session.helper is None and not session.repl.in_raw  # what the board forgot
    assert await session.fs.read("/x") == b"1"


async def started_repl(link: VirtualTransport) -> Repl:
    await link.open()
    repl = Repl(link)
    repl.start()
    return repl


async def test_what_a_capture_leaves_unread_goes_to_the_console(board_root):
    link = VirtualTransport("left", root=board_root)
    repl = await started_repl(link)
    console = bytearray()
    repl.console_sink = console.extend
    try:
        await until(lambda: console.endswith(b">>> "), what="the friendly prompt")
        console.clear()
        async with repl.capture():  # at the friendly REPL: echo, answer, prompt
            await repl.write(b"6*7\r")
            await repl.read_until(b"42\r\n")
            await until(lambda: repl.tail().endswith(b">>> "), what="the next prompt, unread")
        assert console == b">>> "  # not lost: the terminal shows it
    finally:
        await repl.stop()
        await link.close()


async def test_a_failing_console_is_a_link_failure_not_a_hang(board_root):
    link = VirtualTransport("fail", root=board_root)
    repl = await started_repl(link)

    def broken(data: bytes) -> None:
        raise RuntimeError("the terminal is gone")

    repl.console_sink = broken
    try:
        await until(lambda: repl.closed, what="the pump to give up")
        assert repl.closed == "link failure: RuntimeError('the terminal is gone')"
        with pytest.raises(BoardDisconnected):
            async with repl.capture():
                await repl.exec("print(1)")
    finally:
        await repl.stop()
        await link.close()


async def test_running_tells_whether_code_we_sent_may_still_run(session):
    async with session.operation() as repl:
        assert not repl.running
        await repl.send_code("print(1)")
        assert repl.running
        assert await repl.follow() == b"1\r\n" and not repl.running
        with pytest.raises(BoardExecError):
            await repl.exec("1/0")
        assert not repl.running  # it ended with its own error
        with pytest.raises(BoardTimeout):
            await repl.exec("while True:\n    pass", timeout=0.3)
        assert repl.running
        await repl.abort()
        assert not repl.running
        assert await repl.exec("print(2)") == b"2\r\n"


async def scripted_repl(replies: list[bytes]) -> Repl:
    """A Repl whose 'board' says `replies` (without being asked) and then closes the link."""
    from test_repl import GarbageTransport

    repl = Repl(GarbageTransport(replies, then_close=True))
    repl.start()
    return repl


async def test_the_boards_last_words_before_the_link_closes_are_read():
    from test_repl import GarbageTransport

    class LastWords(GarbageTransport):
        """Says its piece once let, then closes at once."""

        let = asyncio.Event()

        async def read(self):
            await self.let.wait()
            return await super().read()

    repl = Repl(LastWords([b"bye\r\n" + RAW_PROMPT], then_close=True))
    repl.start()
    async with repl.capture():
        reading = asyncio.create_task(repl.read_until(RAW_PROMPT))
        await until(lambda: repl._waiter is not None, what="the reader waiting")
        LastWords.let.set()  # the words and the close, while the reader waits
        assert await reading == b"bye\r\n" + RAW_PROMPT
        assert repl.closed
        with pytest.raises(BoardDisconnected, match="gone"):
            await repl.read_until(b">")
    await repl.stop()


async def test_a_marker_already_read_at_the_very_start_is_found():
    repl = await scripted_repl([b">", b"\x04>"])
    async with repl.capture():
        await until(lambda: repl.closed, what="all of it read")
        assert await repl.read_until(b">", timeout=0.5) == b">"
        assert await repl.read_until(b"\x04>", timeout=0.5) == b"\x04>"
    await repl.stop()


async def test_operations_in_a_row_stay_at_the_raw_repl(session):
    await session.eval("1")
    sent = spy_writes(session.transport)
    for i in range(3):
        assert await session.eval(f"{i}+1") == i + 1
    assert b"\x03" not in sent and b"\r\x01" not in sent  # no interrupt, no way in again
    assert sent.count(b"\x05A\x01") == 3  # just the three pieces of code
    sent.clear()
    await session.console_write(b"\r")  # the terminal: the board leaves the raw REPL first
    assert sent == b"\r\x02\r"
    sent.clear()
    assert await session.eval("7") == 7
    assert sent.startswith(b"\r\x03\r\x01")  # in again through the front door


async def test_a_board_whose_window_shrank_is_an_error_not_a_garbled_paste(session):
    assert await session.eval("1") == 1  # raw-paste known to work, its window 128
    session.repl.window = 256  # as the last board on this link had
    code = "x = 1  # " + "." * 120  # 129 bytes: one more than the board takes at first
    assert len(code) == 129
    with pytest.raises(BoardError, match="raw-paste window mismatch"):
        await session.exec(code)


async def test_a_soft_reset_from_the_friendly_repl_comes_back_to_the_raw_one(session, board_root):
    (board_root / "boot.py").write_text("print('booting')\n")
    await session.eval("1")
    await session.console_write(b"\r")  # the terminal took the board to the friendly REPL
    assert await session.soft_reset() == b"booting\r\n"
    assert await session.eval("6*7") == 42


@pytest.mark.parametrize("answer", [b"R\x81", b"Q\x01"])
async def test_a_damaged_answer_to_the_first_raw_paste_request_keeps_raw_paste(
        board_root, answer):
    # No firmware answers so (old firmware's is its raw banner): asked again, not given up
    link = VirtualTransport("hurt", root=board_root)
    damaged = damage_once(link, b"R\x01", answer)
    async with Session("virtual:hurt", transport=link) as s:
        sent = spy_writes(s.transport)
        assert await s.eval("6*7") == 42
        assert damaged and s.repl.raw_paste is True and sent.count(b"\x05A\x01") == 2
        assert await s.exec("x = 0\n" + "x += 1\n" * 300 + "print(x)") == b"300\r\n"
