"""The helper on one board: what the board is (a probe, once per boot), which parts of the
helper are in its RAM, loading the others when an operation needs them.

A part arrives checked (helper.load_code): one damaged on the way is sent again, up to
LOAD_TRIES times; a board short of memory gets its heap collected and one more try. A board
that cannot take the helper at all (too little memory, odd firmware) gets `usable = False`,
and the filesystem uses plain raw-REPL code instead. One whose probe or part arrived damaged
every time (a lossy link) uses plain code for that operation and tries again at the next, up
to MISSES operations. A helper left in the board's RAM by an
earlier session (the same version) is used as it is: no upload.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from mptui.board import helper as h
from mptui.board.adapt import Caps
from mptui.board.errors import BoardExecError
from mptui.board.literal import NotALiteral, parse

if TYPE_CHECKING:
    from mptui.board.repl import Repl

logger = logging.getLogger(__name__)
LOAD_TRIES = 3
MISSES = 3  # operations whose helper arrived damaged every time before it is given up


class HelperLoader:
    def __init__(self) -> None:
        self.usable: bool | None = None  # None: not tried since the last reset
        self.caps: Caps | None = None
        self.parts: set[str] = set()
        self.misses = 0  # operations that found the probe or a part damaged every time

    def forget(self) -> None:
        """The board was reset (or may have been): probe and load again when needed."""
        self.usable, self.caps, self.parts, self.misses = None, None, set(), 0

    async def probe(self, repl: Repl) -> Caps | None:
        """What the board is; None when it does not say (an answer damaged every time)."""
        if self.caps is None:
            for _ in range(LOAD_TRIES):
                out = await repl.exec(h.PROBE_CODE)
                try:
                    self.caps = Caps.parse(parse(out))
                except (NotALiteral, TypeError):
                    continue
                if self.caps.helper == h.version():
                    self.parts = set(self.caps.parts)
                break
        return self.caps

    async def ensure(self, repl: Repl, part: str = "base") -> bool:
        """Have `part` (and what it builds on) in the board's RAM; False when the helper
        cannot be used on this board."""
        if self.usable is False:
            return False
        try:
            caps = await self.probe(repl)
        except BoardExecError:
            caps = None
        if caps is None and self._missed():
            return False
        if caps is None or not caps.stdout_buffer:
            logger.info("the board cannot take the helper (%s)", caps)
            self.usable = False
            return False
        if part == "hash" and not caps.sha256:
            return False  # (the host hashes what it reads)
        missing = [p for p in h.needs(part) if p not in self.parts]
        if len(missing) > 1 and await self._load(repl, missing, caps, alone=False):
            missing = []  # (in one go: one round trip, and they deflate better together)
        for p in missing:
            if p not in self.parts:
                loaded = await self._load(repl, p, caps)
                if loaded is None and self._missed():
                    return False
                if not loaded:
                    self.usable = False
                    return False
        self.usable = True
        return True

    def _missed(self) -> bool:
        """The helper arrived damaged every time: True while it is worth trying again at the
        next operation (plain code for this one)."""
        self.misses += 1
        return self.misses < MISSES

    async def _load(self, repl: Repl, part: str | list[str], caps: Caps,
                    alone: bool = True) -> bool | None:
        """Load one part: True, False (the board cannot take it), None (damaged every time).
        Several parts at once (alone False): True, or else False after one try (they then
        load one at a time)."""
        collected = damaged = False
        group = [part] if isinstance(part, str) else part
        for _ in range(LOAD_TRIES):
            if "base" in group:
                self.parts = set()
            try:
                await repl.exec(h.load_code(part, caps))
            except BoardExecError as e:
                if not alone:
                    logger.info("helper parts %s do not load together (%s)", part, e)
                    return False
                if e.exc_type == "MemoryError" and not collected:
                    # a small heap, fragmented (the last helper, a transfer's buffers): let
                    # the old helper go, collect, and load from the start
                    collected = True
                    await repl.exec("_mptui=None\nimport gc\ngc.collect()")
                    self.parts = set()
                    for p in h.needs(group[-1])[:-1]:
                        if not await self._load(repl, p, caps):
                            return False
                    continue
                if e.exc_type in ("OSError", "SyntaxError", "NameError", "ValueError",
                                  "IndentationError", "AttributeError", "TypeError",
                                  "ImportError", "KeyError"):  # (a damaged import or del)
                    logger.info("helper part %s arrived damaged (%s): again", part, e)
                    damaged = True
                    continue  # damaged on the way (its check, or its code)
                logger.info("helper part %s does not load: %s", part, e)
                return False
            self.parts.update(group)
            return True
        return None if damaged else False

    async def call(self, repl: Repl, call: str, guard: bool = False, **kw: Any) -> bytes:
        """Run `_mptui.<call>`, its part loaded; once more after loading again if the board
        lost the helper (a reset that went unseen). guard: only if it arrived whole (calls
        that change files)."""
        part = h.part_for(call.split("(", 1)[0])
        code = h.guarded("_mptui." + call) if guard else "_mptui." + call
        try:
            out: bytes = await repl.exec(code, **kw)
            return out
        except BoardExecError as e:
            lost = e.exc_type == "NameError" and "_mptui" in e.exc_message
            missing = e.exc_type == "AttributeError" and "attribute" in e.exc_message
            if not (lost or missing):
                raise
            self.forget()
            if not await self.ensure(repl, part):
                raise
            again: bytes = await repl.exec(code, **kw)
            return again
