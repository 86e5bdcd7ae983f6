"""Plain Python values between the host and a board: numbers, strings, bytes, lists, tuples,
dicts, sets, True/False/None. On the board a value lives in its RAM (a global of the REPL, as
if typed there) or in a file (its repr as text). Both ways a value is a literal: the host
parses what it is given and what a board answers with `ast.literal_eval` only (never eval,
never exec), and puts it into board code as `repr()` of the parsed value, so no string can
become code on either side.

    value = parse_value("[1, 'two', b'3']")
    await put(session, "calib", value)            # calib = [1, 'two', b'3'] on the board
    assert await get(session, "calib") == value
"""

from __future__ import annotations

import keyword

from mptui.board import BoardExecError, Session
from mptui.board.literal import NotALiteral, parse
from mptui.errors import MptuiError, UsageError

PLAIN = (int, float, complex, str, bytes, bool, type(None), list, tuple, dict, set, frozenset)
# what `ls` lists: the globals whose values are plain (the board's own type names)
_PLAIN_NAMES = ("int", "float", "complex", "str", "bytes", "bool", "NoneType",
                "list", "tuple", "dict", "set", "frozenset")
_LS = ("print(repr([(k, type(v).__name__) for k, v in globals().items() "
       "if k[:1] != '_' and type(v).__name__ in {names!r}]))")


class StoreError(MptuiError):
    """A value that is not a plain one, a name that is not one, a value not on the board."""


def check_name(name: str) -> str:
    """A name to store under: a Python identifier that is no keyword (it is put into code)."""
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise UsageError(f"{name!r} is not a name to store under (an identifier, not a "
                         "keyword, not starting with _)")
    return name


def parse_value(text: str) -> object:
    """A literal's text to its value; StoreError when it is anything else (a call, a name,
    an expression), however it is written."""
    try:
        value = parse(text)
    except NotALiteral:
        shown = text.strip()
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise StoreError(f"not a plain Python value: {shown!r} (numbers, 'strings', b'bytes', "
                         "lists, tuples, dicts, sets, True, False, None)") from None
    _check_plain(value)
    return value


def _check_plain(value: object, depth: int = 0) -> None:
    if depth > 50:
        raise StoreError("the value is nested too deeply")
    if not isinstance(value, PLAIN):
        raise StoreError(f"a {type(value).__name__} is not a plain value")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_plain(k, depth + 1)
            _check_plain(v, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_plain(item, depth + 1)


def board_literal(value: object) -> str:
    """The code for `value` on a board. A frozenset has no literal: a board gets a set."""
    _check_plain(value)
    if isinstance(value, frozenset):
        value = set(value)
    return "set()" if value == set() and isinstance(value, set) else repr(value)


async def put(session: Session, name: str, value: object, path: str | None = None) -> None:
    """The value into the board's RAM as global `name`, or into the board file `path`."""
    check_name(name)
    code = board_literal(value)
    if path is not None:
        await session.fs.write(path, code.encode())
        return
    await session.exec(f"{name} = {code}")


async def get(session: Session, name: str, path: str | None = None) -> object:
    """The value of the board's global `name`, or the one in board file `path`."""
    check_name(name)
    if path is not None:
        text = (await session.fs.read(path)).decode("utf-8", "replace")
        where = path
    else:
        try:
            out = await session.exec(f"print(repr({name}))")
        except BoardExecError as e:
            if e.exc_type == "NameError":
                raise StoreError(f"{name} is not set on the board") from None
            raise
        text, where = out.decode("utf-8", "replace"), name
    try:
        return parse_value(text)
    except StoreError as e:
        raise StoreError(f"{where} on the board is {e.message}") from None


async def names(session: Session) -> list[tuple[str, str]]:
    """The board's globals that hold plain values: (name, type name), sorted."""
    out = await session.exec(_LS.format(names=set(_PLAIN_NAMES)))
    try:
        found = parse(out)
    except NotALiteral:
        raise StoreError("the board's list of values is not a literal") from None
    return sorted((k, t) for k, t in found if isinstance(k, str) and isinstance(t, str))
