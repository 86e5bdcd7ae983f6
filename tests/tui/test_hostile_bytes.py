"""No byte sequence from a board may crash or freeze the REPL terminal or the Logs view: random
and adversarial streams (CSI, OSC and DCS with odd parameters, invalid UTF-8, huge parameters,
combining marks) split at random points, fed to the Textual-free models and drawn as the
widgets draw them. The running app against the real board is in test_hostile_app.py."""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mptui.services.logs import MAX_LINE, LineSplitter, numbers
from mptui.ui.safe_text import visible
from mptui.ui.terminal.model import TerminalModel
from mptui.ui.terminal.screen import MAX_CELL
from mptui.ui.terminal.stream import MAX_SEQUENCE
from mptui.ui.widgets.repl_terminal import ReplTerminal

# modest for CI: each example is a few KB through the parser
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# characters a terminal must never receive from a board: C0 (tab and line ends included: the
# model places text, it never passes them on), DEL and C1
CONTROLS = {*range(32), *range(127, 160)}
RECOVER = b"\x18\x1b\\\x07\r\nHELLO"  # ends any sequence (CAN, ST, BEL), then text

numbers_text = st.sampled_from(
    ["", "0", "1", "9999", "65535", "99999999", "9" * 50, "\u00b9", "\u0663", "1\u00b2", "-1",
     "1.5", "\u2460", "\uff11"])
params = st.lists(numbers_text, max_size=6).map(";".join)
private = st.sampled_from(["", "?", ">", "=", "!", " ", "$", "<"])
final = st.sampled_from(list("@ABCDEFGHIJKLMPSTXZ`abcdefghilmnpqrstuxy~") + ["\x7f", "\u00e9"])
csi = st.builds(lambda p, a, f, i: f"\x1b[{p}{a}{i}{f}", private, params, final,
                st.sampled_from(["", " ", "$", "'", '"']))
terminators = st.sampled_from(["\x07", "\x1b\\", "\u009c", "", "\x1b", "\x18"])
osc = st.builds(lambda code, text, end: f"\x1b]{code};{text}{end}",
                st.sampled_from(["0", "1", "2", "4", "8", "52", "R", "P", "", "\u00b9"]),
                st.text(max_size=40), terminators)
dcs = st.builds(lambda text, end: f"\x1bP{text}{end}", st.text(max_size=30), terminators)
escapes = st.sampled_from([
    "\x1b#8", "\x1b#3", "\x1b(0", "\x1b)B", "\x1b%@", "\x1b%G", "\x1bc", "\x1b7", "\x1b8",
    "\x1bD", "\x1bE", "\x1bM", "\x1bH", "\x1b=", "\x1b>", "\x0e", "\x0f", "\x1b[?7l",
    "\x1b[4h", "\x1b[?6h", "\x1b[3;5r", "\x1b[?25l", "\x1b[38;2;300;9999;1m", "\x1b[38;5;999m",
    "\u009b31m", "\u009d0;t\u009c", "\x1b", "\x1b[", "\x1b]",
])
marks = st.text(st.characters(categories=["Mn", "Me", "Cf"]), min_size=1, max_size=30)
texts = st.text(max_size=30)
tokens = st.one_of(csi, osc, dcs, escapes, marks, texts, st.sampled_from(["\r\n", "\n", "\t"]))
adversarial = st.lists(tokens, max_size=40).map(lambda parts: "".join(parts).encode("utf-8",
                                                                                  "surrogatepass"))
invalid_utf8 = st.sampled_from([b"\xff", b"\xc2", b"\xe4\xb8", b"\xed\xa0\x80", b"\xf8\x88",
                                b"\xc0\xaf", b"\x80", b"\xf4\x90\x80\x80"])
streams = st.one_of(
    st.binary(max_size=3000),
    adversarial,
    st.lists(st.one_of(adversarial, invalid_utf8, st.binary(max_size=50)), max_size=8).map(
        b"".join),
)


def pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    """`data` split at the given points (reads from a board end anywhere)."""
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def check_sane(model: TerminalModel) -> None:
    screen = model.screen
    x, y = model.cursor
    assert 0 <= x <= model.columns and 0 <= y < model.lines
    assert len(screen.history) <= model.scrollback
    assert len(screen.title) <= MAX_SEQUENCE and len(screen.icon_name) <= MAX_SEQUENCE
    assert model.stream.sequence <= MAX_SEQUENCE
    for line in range(model.first_line, model.screen_top + model.lines):
        for column, cell in model.row(line).items():
            # history keeps its width when the screen narrows
            assert 0 <= column < model.columns or line < model.screen_top
            assert len(cell.data) <= MAX_CELL
            assert not CONTROLS.intersection(map(ord, cell.data)), (line, column, cell)


def check_drawn(terminal: ReplTerminal) -> None:
    """Every line turns into a strip (colours the widget can style) with no control
    character in it: nothing the board sent reaches the real terminal as a command."""
    model = terminal.model
    for line in range(model.first_line, model.screen_top + model.lines):
        strip = terminal.strips.build(line)
        text = "".join(segment.text for segment in strip)
        assert not CONTROLS.intersection(map(ord, text))
        # (a wide character in the last column overhangs by one cell: render_line crops it)
        assert strip.cell_length <= model.columns + 1 or line < model.screen_top


@FUZZ
@given(streams, st.lists(st.integers(0, 10_000), max_size=12),
       st.integers(1, 100), st.integers(1, 30), st.booleans())
def test_any_bytes_are_parsed_without_error_and_the_terminal_recovers(
        data, cuts, columns, lines, hex_mode):
    model = TerminalModel(columns, lines, scrollback=50)
    model.hex = hex_mode
    for piece in pieces(data, cuts):
        model.feed(piece)
    check_sane(model)
    model.take_changed()
    model.feed(RECOVER)
    check_sane(model)
    if columns >= 8:
        assert any("HELLO" in text for text in model.display()), model.display()


@FUZZ
@given(streams, st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 120),
                                   st.integers(1, 40)), max_size=4))
def test_resizing_between_reads_keeps_the_model_sane_and_drawable(data, resizes):
    terminal = ReplTerminal(scrollback=30)
    model = terminal.model
    cuts = [cut for cut, _, _ in resizes]
    sizes = iter(resizes)
    for piece in pieces(data, cuts):
        model.feed(piece)
        size = next(sizes, None)
        if size is not None:
            model.resize(size[1], size[2])
        check_sane(model)
    check_drawn(terminal)
    assert isinstance(model.text_between((model.first_line, 0), (model.screen_top + 1, 5)), str)


def test_the_sequences_that_crashed_pyte_are_ignored():
    model = TerminalModel(40, 5)
    for data in [b"\x1b[\xc2\xb9m", b"\x1b[1;2A", b"\x1b[?5A", b"\x1b[" + b"9" * 2000 + b"m",
                 b"\x1b[1;2;3@", "\x1b[\u00b2J".encode()]:
        model.feed(b"<" + data + b">")
    check_sane(model)
    assert model.display()[0] == "<>" * 6  # each sequence dropped, the text kept


def test_huge_parameters_are_bounded():
    model = TerminalModel(80, 24)
    model.feed(b"ab\x1b[999999999@cd")  # insert 999999999 blanks: at most a line's worth
    assert model.display()[0] == "abcd"
    model.feed(b"\x1b[99999999;99999999Hx")  # the cursor stays on the screen
    assert model.cursor == (80, 23) and model.display()[23].endswith("x")
    model.feed(b"\x1b[99999999L\x1b[99999999M\x1b[99999999X\x1b[99999999P\x1b[99999999S")
    check_sane(model)
    model.feed(b"\x1b#8" * 2000)  # DECALN, again and again: the screen full of E
    assert model.display() == ["E" * 80] * 24


def test_a_title_never_ended_costs_no_more_than_a_sequence():
    model = TerminalModel(80, 24)
    model.feed(b"\x1b]0;" + b"t" * (10 * MAX_SEQUENCE) + b"\r\nvisible\r\n")
    check_sane(model)
    assert model.screen.title == ""  # dropped, not kept
    assert "visible" in model.display()  # what follows the cut is shown again
    model.feed(b"\x1b[" + b"1;" * (5 * MAX_SEQUENCE) + b"mafter")
    check_sane(model)
    assert any(line.endswith("after") for line in model.display())


def test_combining_marks_stop_at_a_few_per_cell():
    model = TerminalModel(20, 3)
    model.feed(b"a" + "\u0301".encode() * 100_000 + b"b")
    cell = model.row(model.screen_top)[0]
    assert cell.data.startswith("\u00e1") and len(cell.data) == MAX_CELL  # á and 7 more marks
    assert model.display()[0].endswith("b")
    model.feed(b"\r\n" + "\u0301".encode() * 10)  # at the start of the screen: nothing to join
    check_sane(model)


def test_characters_that_take_no_cell_do_not_hide_what_follows():
    model = TerminalModel(20, 2)
    model.feed("a\u200bb\u202ec\u0085d\x7fe".encode())  # pyte stopped at the first of them
    assert model.display()[0] == "abcde"


# -- the Logs view's side ----------------------------------------------------------------------


@FUZZ
@given(st.lists(st.one_of(st.binary(max_size=2000), adversarial), max_size=10))
def test_log_lines_from_any_bytes_are_bounded_and_visible_only(chunks):
    splitter = LineSplitter("board")
    lines = []
    for chunk in chunks:
        lines += splitter.feed(chunk.decode("utf-8", "replace"))
    lines += splitter.flush()
    for line in lines:
        assert len(line.text) <= MAX_LINE
        shown = visible(line.text)
        assert not CONTROLS.intersection(map(ord, shown))
        numbers(line.text)


def test_a_long_line_is_cut_even_when_it_ends_in_the_same_read():
    lines = LineSplitter("b").feed("x" * (3 * MAX_LINE) + "\nend\n")
    assert [len(line.text) for line in lines] == [MAX_LINE] * 3 + [3]


def test_numbers_in_a_hostile_line_cost_linear_time():
    # keys made of '-' joined words: each start used to scan to the end of the line (quadratic)
    line = "a-" * (MAX_LINE // 2)
    assert numbers(line) == {}
    assert numbers(line + "=5")  # a key still ends in its number
    assert numbers("temp=24.3 hum=61 x-y: 2") == {"temp": 24.3, "hum": 61.0, "x-y": 2.0}
    assert unicodedata.normalize("NFC", visible("\x1b]0;title\x07ok\x1b[31m!")) == "ok!"
