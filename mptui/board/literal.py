"""What a board or a user wrote, read as data: one Python literal only, never run.

Every answer from a board is hostile until read here: garbled, cut, a running program's print
mixed in. Such text is a `NotALiteral` (a ValueError), never a crash and never a warning (a
damaged escape such as '\\c' makes Python warn)."""

from __future__ import annotations

import ast
import warnings
from typing import Any


class NotALiteral(ValueError):
    """The text is not one literal."""


def parse(text: str | bytes) -> Any:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as e:
        raise NotALiteral(text.strip()[:60]) from e
