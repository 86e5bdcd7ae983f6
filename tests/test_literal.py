"""What a board prints is read as one literal only: garbage is a NotALiteral, never a crash,
never code run, never a warning."""

import warnings

import pytest

from mptui.board.literal import NotALiteral, parse


def test_a_damaged_escape_is_read_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert parse(b"'a\\c'\r\n") == "a\\c"


@pytest.mark.parametrize("text", [
    b"", b"\xff\xfe", b"__import__('os').system('x')", b"(1, 2", b"[" * 10000, b"1 +", "f(1)",
])
def test_anything_but_a_literal_is_refused(text):
    with pytest.raises(NotALiteral):
        parse(text)


def test_a_literal_is_read():
    assert parse(b" {'a': (1, b'\\x00', None)} \n") == {"a": (1, b"\x00", None)}
