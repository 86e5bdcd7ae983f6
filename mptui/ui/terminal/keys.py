"""Keys to the bytes a terminal sends for them (xterm conventions, as MicroPython's readline
understands them). Keys a board has no use for (function keys, shifted navigation) encode to
None and are left to the app's bindings."""

from __future__ import annotations

_NAMED = {
    "enter": b"\r",
    "tab": b"\t",
    "shift+tab": b"\x1b[Z",
    "backspace": b"\x7f",
    "escape": b"\x1b",
    "space": b" ",
    "up": b"\x1b[A",
    "down": b"\x1b[B",
    "right": b"\x1b[C",
    "left": b"\x1b[D",
    "home": b"\x1b[H",
    "end": b"\x1b[F",
    "insert": b"\x1b[2~",
    "delete": b"\x1b[3~",
    "pageup": b"\x1b[5~",
    "pagedown": b"\x1b[6~",
    "ctrl+left": b"\x1b[1;5D",
    "ctrl+right": b"\x1b[1;5C",
    "ctrl+@": b"\x00",
    "ctrl+space": b"\x00",
    "ctrl+backslash": b"\x1c",
    "ctrl+right_square_bracket": b"\x1d",
    "ctrl+circumflex_accent": b"\x1e",
    "ctrl+underscore": b"\x1f",
}


def encode_key(key: str, character: str | None = None) -> bytes | None:
    """The bytes for a Textual key (`event.key`, `event.character`), or None."""
    if key in _NAMED:
        return _NAMED[key]
    modifier, _, base = key.rpartition("+")
    if modifier == "ctrl" and len(base) == 1 and base.isalpha():
        return bytes([ord(base.lower()) - 96])
    if modifier == "alt":
        rest = encode_key(base, character)
        return b"\x1b" + rest if rest else None
    if character and character.isprintable():
        return character.encode()
    if not modifier and len(key) == 1 and key.isprintable():
        return key.encode()
    return None


def encode_paste(text: str) -> bytes:
    """Pasted text for the REPL: one line as typed; several lines in paste mode (Ctrl-E ...
    Ctrl-D), so the REPL does not auto-indent them, sent as one write."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\n" not in text.rstrip("\n"):
        return text.replace("\n", "\r").encode()
    return b"\x05" + text.replace("\n", "\r").encode() + b"\x04"
