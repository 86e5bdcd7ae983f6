"""The Files tab's small parts that need no board: sizes, names that fit a pane, what the
viewer shows as text, names F7 and Shift-F6 accept."""

from __future__ import annotations

from mptui.ui.models.files import valid_name
from mptui.ui.screens.file_view import hexdump, view_mode
from mptui.ui.units import short_size, size_text
from mptui.ui.widgets.file_pane import fit


def test_sizes_fit_the_size_column():
    assert [short_size(n) for n in (0, 9999, 10_000, 99 * 1024, 123 * 1024, 15 * 2**20,
                                    500 * 2**30)] == ["0", "9999", "9.8K", "99.0K", "123K",
                                                      "15.0M", "500G"]
    assert all(len(short_size(10**k)) <= 6 for k in range(16))
    assert [size_text(n) for n in (512, 2048, 3 * 2**20)] == ["512 B", "2.0 KiB", "3.0 MiB"]


def test_a_long_name_loses_its_middle():
    assert fit("main.py", 10) == "main.py"
    assert fit("a_name_too_long_to_fit.py", 15) == "a_name_…_fit.py"
    assert fit("漢字漢字漢字.py", 9) == "漢字….py"  # wide characters count two cells


def test_the_viewer_shows_text_python_or_hex():
    assert view_mode("main.py", b"print('hi')\n") == "python"
    assert view_mode("notes.txt", "ünïcödé\ttab\r\n".encode()) == "text"
    assert view_mode("blob.bin", b"\x00\x01") == "hex"
    assert view_mode("latin1.txt", b"caf\xe9") == "hex"
    assert view_mode("trick.py", b"print(1)\x1b[2J\n") == "hex"  # no escapes to the terminal
    assert hexdump(b"Hello\x00") == (
        "00000000  48 65 6c 6c 6f 00" + " " * 33 + "|Hello.|")


def test_only_plain_names_are_accepted():
    assert valid_name("lib") and valid_name("new name.py")
    for bad in ("", ".", "..", "a/b", "../x", "a\x00b"):
        assert not valid_name(bad)
