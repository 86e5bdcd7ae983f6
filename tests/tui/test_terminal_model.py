"""The Textual-free parts of the REPL terminal: the screen model, the key encoding, the intake
of a flood, the capture file, the viewport."""

from __future__ import annotations

from mptui.ui.terminal.capture import Capture
from mptui.ui.terminal.intake import Intake
from mptui.ui.terminal.keys import encode_key, encode_paste
from mptui.ui.terminal.model import TerminalModel, escape_non_printable
from mptui.ui.terminal.viewport import Viewport


def test_text_lands_on_the_screen_and_scrolls_into_history():
    model = TerminalModel(20, 4, scrollback=3)
    model.feed(b">>> 6*7\r\n42\r\n>>> ")
    assert model.display() == [">>> 6*7", "42", ">>>", ""]
    model.feed(b"".join(b"%d\r\n" % i for i in range(5)))
    assert model.display() == ["2", "3", "4", ""]
    kept = [model.text(n) for n in range(model.first_line, model.screen_top)]
    assert kept == ["42", ">>> 0", "1"]  # the oldest line went: scrollback is 3 lines


def test_changed_lines_are_absolute_and_survive_scrolling():
    model = TerminalModel(10, 3)
    model.feed(b"a\r\nb\r\n")
    model.take_changed()
    model.feed(b"c\r\nd")  # scrolls twice: only the lines written change
    changed = model.take_changed()
    assert [model.text(n) for n in sorted(changed)] == ["c", "d"]
    assert model.text(0) == "a"  # line numbers stay attached to their text


def test_colours_and_cursor_keys_are_emulated():
    model = TerminalModel(20, 2)
    model.feed(b"\x1b[31mred\x1b[0m abc\x1b[3D\x1b[K")
    assert model.display()[0] == "red"
    cell = model.row(model.screen_top)[0]
    assert cell.fg == "red"
    assert model.cursor == (4, 0)


def test_utf8_split_across_reads():
    model = TerminalModel(10, 2)
    data = "é€".encode()
    for i in range(len(data)):
        model.feed(data[i : i + 1])
    assert model.display()[0] == "é€"


def test_hex_shows_non_printable_bytes():
    assert escape_non_printable(b"ok\r\n") == b"ok\r\n"
    assert escape_non_printable(b"a\x01\xff") == b"a\x1b[7m01\x1b[27m\x1b[7mff\x1b[27m"
    model = TerminalModel(20, 2)
    model.hex = True
    model.feed(b"x\x00y\x07")
    assert model.display()[0] == "x00y07"


def test_resize_keeps_the_cursor_line():
    model = TerminalModel(20, 6)
    model.feed(b"one\r\ntwo\r\nthree\r\n>>> ")
    model.resize(20, 2)
    assert model.display() == ["three", ">>>"]
    assert model.text(model.screen_top - 1) == "two"  # moved into history, not lost


def test_notice_starts_on_its_own_line():
    model = TerminalModel(30, 4)
    model.feed(b">>> ")
    model.notice("[reconnected]")
    assert model.display()[:2] == [">>>", "[reconnected]"]


def test_selection_text():
    model = TerminalModel(20, 4)
    model.feed(b">>> 6*7\r\n42\r\n>>> ")
    start = model.screen_top
    assert model.text_between((start, 4), (start + 1, 1)) == "6*7\n42"


def test_keys_encode_as_a_terminal_sends_them():
    assert encode_key("ctrl+c") == b"\x03"
    assert encode_key("ctrl+d") == b"\x04"
    assert encode_key("ctrl+e") == b"\x05"
    assert encode_key("enter") == b"\r"
    assert encode_key("tab") == b"\t"
    assert encode_key("backspace") == b"\x7f"
    assert encode_key("up") == b"\x1b[A"
    assert encode_key("left") == b"\x1b[D"
    assert encode_key("home") == b"\x1b[H"
    assert encode_key("end") == b"\x1b[F"
    assert encode_key("delete") == b"\x1b[3~"
    assert encode_key("a", "a") == b"a"
    assert encode_key("A", "A") == b"A"
    assert encode_key("asterisk", "*") == b"*"
    assert encode_key("eacute", "é") == "é".encode()
    assert encode_key("alt+b", "b") == b"\x1bb"
    assert encode_key("f1") is None
    assert encode_key("shift+pageup") is None


def test_paste_is_one_write_and_multi_line_uses_paste_mode():
    assert encode_paste("print(1)") == b"print(1)"
    assert encode_paste("x = 1\n") == b"x = 1\r"
    code = "def f():\n    return 1\nprint(f())\n"
    assert encode_paste(code) == b"\x05def f():\r    return 1\rprint(f())\r\x04"


def test_the_fast_paths_draw_exactly_what_pyte_draws():
    import random

    import pyte

    pieces = [b"hello", b"\r\n", b"\r", b"\n", b"x" * 150, b"\x1b[31m", b"\x1b[0m", b"\x1b[K",
              b"\x1b[2D", b"\x08", b"\t", "é€".encode(), b"\x1b[1;4H", b"\x1b[?7l", b"\x1b[?7h",
              b"\x1b[4h", b"\x1b[4l", b">>> ", b"12345678\r\n" * 30]
    rng = random.Random(4)
    for _ in range(20):
        data = b"".join(rng.choice(pieces) for _ in range(200))
        model = TerminalModel(40, 8)
        reference = pyte.Screen(40, 8)
        stream = pyte.ByteStream(reference)
        i = 0
        while i < len(data):
            n = rng.randint(1, 64)
            model.feed(data[i : i + n])
            stream.feed(data[i : i + n])
            i += n
        for y in range(8):
            for x in range(40):
                assert model.screen.buffer[y][x] == reference.buffer[y][x], (y, x, data)
        assert model.cursor == (reference.cursor.x, reference.cursor.y)


def test_lines_scrolled_in_one_go_match_lines_scrolled_one_at_a_time():
    """The flood path (a chunk of CR LF lines moves the screen up once) keeps the same
    screen, scrollback, cursor and changed lines as feeding the same bytes one at a time."""
    import random

    pieces = [b"%d\r\n" % n for n in range(50)] + [b"x" * 45 + b"\r\n", b"\r", b"\n", b">>> ",
                                                    b"\x1b[31mred\x1b[0m\r\n", b"y" * 40]
    rng = random.Random(7)
    for _ in range(20):
        data = b"".join(rng.choice(pieces) for _ in range(300))
        fast, slow = TerminalModel(40, 8, scrollback=50), TerminalModel(40, 8, scrollback=50)
        i = 0
        while i < len(data):
            n = rng.randint(1, 600)
            fast.feed(data[i : i + n])
            i += n
            if rng.random() < 0.3:
                fast_changed = fast.take_changed()
                for byte in data[slow.fed : i]:
                    slow.feed(bytes([byte]))
                assert fast_changed == slow.take_changed(), data
        for byte in data[slow.fed :]:
            slow.feed(bytes([byte]))
        assert fast.take_changed() == slow.take_changed()
        assert fast.cursor == slow.cursor and fast.screen_top == slow.screen_top
        assert [fast.row(n) for n in range(fast.first_line, fast.screen_top + 8)] == [
            slow.row(n) for n in range(slow.first_line, slow.screen_top + 8)], data


def test_a_flood_skips_only_what_the_scrollback_would_drop():
    model = TerminalModel(40, 4, scrollback=10)
    intake = Intake(model)
    intake._parse_rate = 1000  # bytes/s: 100 bytes may wait (LAG_LIMIT), the rest is a flood
    intake.receive(b"".join(b"line %d\r\n" % i for i in range(5000)))
    intake.parse_all()
    assert intake.pending == 0 and intake.received > intake.skipped > 0
    kept = [model.text(n) for n in range(model.first_line, model.screen_top + 3)]
    first = next(i for i, text in enumerate(kept) if text.startswith("line "))
    assert "".join(kept[:first]).startswith("[mptui: ")  # the notice, whole, at the top
    assert "went by faster than shown" in "".join(kept[:first])
    assert kept[first:] == [f"line {i}" for i in range(5000 - len(kept) + first, 5000)]


def test_the_view_scrolls_back_and_keeps_its_lines_as_output_grows():
    model = TerminalModel(10, 3, scrollback=20)
    model.feed(b"".join(b"%d\r\n" % i for i in range(10)))
    view = Viewport(model)
    assert view.max_back == 8 and view.top == model.screen_top
    assert view.scroll_to(5) and not view.scroll_to(5) and view.back == 5
    top = view.top
    model.feed(b"10\r\n11\r\n")
    view.output_grew(2)
    assert view.top == top  # the same lines in view
    assert not view.scroll_to(99) or view.back == view.max_back
    view.select_start(1, 0)
    assert view.select_drag(2, 99, height=3)  # the end is bounded to the view
    assert view.selected_columns(view.top, 10) == (1, 9)
    assert view.selected_columns(view.top + 2, 10) == (0, 2)
    assert view.text(3) == model.text_between(view.select_from, view.select_to)
    assert view.clear_selection() and not view.clear_selection()


def test_a_capture_appends_raw_bytes(tmp_path):
    capture = Capture()
    path = tmp_path / "captures" / "board.log"
    capture.write(b"not captured")
    capture.start(path)
    capture.write(b"\x00raw\r\n")
    assert capture.active and capture.stop() == path and not capture.active
    capture.start(path)
    capture.write(b"again")
    capture.stop()
    assert path.read_bytes() == b"\x00raw\r\nagain" and capture.stop() is None



def test_a_flood_in_one_chunk_keeps_the_scrollback_a_line_at_a_time_keeps():
    """Lines that go straight through the screen into the history are kept as text until read:
    they read back as the cells the slow path makes, and the oldest drop out alike."""
    data = b"".join(b"line %d\r\n" % n for n in range(1000)) + b"\x1b[31mred\x1b[0m\r\n>>> "
    fast, slow = TerminalModel(30, 6, scrollback=100), TerminalModel(30, 6, scrollback=100)
    fast.feed(data)
    for byte in data:
        slow.feed(bytes([byte]))
    assert fast.take_changed() == slow.take_changed()
    assert (fast.first_line, fast.screen_top, fast.cursor) == (
        slow.first_line, slow.screen_top, slow.cursor)
    lines = range(fast.first_line, fast.screen_top + 6)
    assert [fast.row(n) for n in lines] == [slow.row(n) for n in lines]
    assert fast.text(fast.first_line) == "line 896"  # 100 lines kept above the screen


class _GeneralPath(TerminalModel):
    """The model with its fast path for plain text off: every byte through the parser."""

    between_sequences = False  # type: ignore[assignment]


def test_plain_text_in_large_chunks_lands_as_the_general_path_puts_it(monkeypatch):
    """The intake takes plain text (a flood) in chunks of up to PLAIN_CHUNK and the model
    draws it on its fast paths: the same screen, scrollback, cursor and changed lines as every
    byte through the parser, whatever comes between (escape sequences and UTF-8 characters
    split over reads, CR without LF, wide characters, invalid UTF-8, scroll regions, no wrap)."""
    import random

    from mptui.ui.terminal import intake as intake_module

    monkeypatch.setattr(intake_module, "PLAIN_CHUNK", 700)  # so that floods exceed them
    monkeypatch.setattr(intake_module, "EAGER", 500)
    flood = b"".join(b"%d\r\n" % n for n in range(300))
    pieces = [flood, flood[:-1], b"\n" + flood[5:], b"x" * 95 + b"\r\n", b"z" * 80 + b"\r\n" * 3,
              b"w" * 40 + b"\r\n", b"abc\r", b"\r\r\n",
              b"\n\n", b"\x1b[31mred\x1b[0m", b"\x1b[", b"2;5r", b"\x1b[r", b"\x1b[3A",
              "日本語\r\n".encode(), "é".encode()[:1], "é".encode()[1:], b"\xff\xfe", b"\x1b[?7l",
              b"\x1b[?7h", b"\x1b[4h", b"\x1b[4l", b"\x1b]0;title", b"\x07", b">>> ", b"\t",
              b"\x08", b"\x1b(0qq\x1b(B"]
    rng = random.Random(11)
    for _ in range(40):
        reads = [rng.choice(pieces) for _ in range(60)]  # as the board's output comes in
        data = b"".join(reads)
        fast, slow = TerminalModel(40, 8, scrollback=200), _GeneralPath(40, 8, scrollback=200)
        intake = Intake(fast)
        intake._parse_rate = 1e9  # nothing skipped: this is not a flood faster than parsing
        for read in reads:
            intake.receive(read)
            slow.feed(read)
            if rng.random() < 0.5:  # a frame: what came so far is parsed, its last chunk cut
                while intake.pending:  # where the read ends (in a sequence, a character)
                    intake.parse_frame()
                assert fast.take_changed() == slow.take_changed(), data
        intake.parse_all()
        assert fast.take_changed() == slow.take_changed()
        assert (fast.first_line, fast.screen_top, fast.cursor) == (
            slow.first_line, slow.screen_top, slow.cursor), data
        lines = range(fast.first_line, fast.screen_top + 8)
        assert [fast.row(n) for n in lines] == [slow.row(n) for n in lines], data


def test_only_plain_text_is_parsed_as_it_comes_the_rest_waits_for_a_frame():
    """A flood's plain text is parsed as it is received (a chunk a read); anything else (an
    escape sequence, plain text after one begun) waits for the frame's parse, in its budget."""
    from mptui.ui.terminal.intake import EAGER, PLAIN_CHUNK

    plain = b"".join(b"%d\r\n" % n for n in range(EAGER))
    assert EAGER < PLAIN_CHUNK < len(plain) - EAGER
    intake = Intake(TerminalModel(40, 8))
    intake.receive(plain[: EAGER - 1])
    assert intake.pending == EAGER - 1  # not yet a flood
    intake.receive(plain[EAGER - 1 : EAGER])
    assert intake.pending == 0  # now one
    intake.receive(plain[EAGER:])
    assert intake.pending == len(plain) - EAGER - PLAIN_CHUNK  # a chunk parsed
    for before in (b"\x1b[31m", b""):
        model = TerminalModel(40, 8)
        intake = Intake(model)
        if not before:
            model.feed(b"\x1b[")  # a sequence begun: what follows is not plain text
        intake.receive(before + plain)
        assert intake.pending == len(before + plain)
    intake.parse_all()
    assert model.display()[-2] == str(EAGER - 1)
