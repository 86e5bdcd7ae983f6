"""The terminal model's byte stream: pyte's, made safe for whatever a board sends. No Textual
here."""

from __future__ import annotations

import logging

import pyte

from mptui.ui.terminal.screen import ScrollbackScreen

logger = logging.getLogger(__name__)

# An escape sequence longer than this (a title never ended, a million-digit parameter) is
# dropped. pyte already caps each parameter at 9999.
MAX_SEQUENCE = 4096


class SafeByteStream(pyte.ByteStream):
    r"""pyte's byte stream, safe for any input: a sequence pyte fails on (a parameter it cannot
    read, such as `\x1b[\u00b9m`, one its screen method refuses, such as `\x1b[1;2A`) is
    dropped and parsing goes on with the next character, as a terminal ignores what it does not
    know; so is a sequence longer than MAX_SEQUENCE characters."""

    def __init__(self, screen: ScrollbackScreen) -> None:
        super().__init__(screen)
        self.sequence = 0  # characters of the escape sequence being parsed

    # pyte's Stream.feed, with the above (bytes, as pyte's own ByteStream.feed takes)
    def feed(self, data: bytes) -> None:  # type: ignore[override]
        if self.listener is None:  # (attached at construction)
            return
        text = self.utf8_decoder.decode(data) if self.use_utf8 else data.decode("latin-1")
        draw = self.listener.draw
        match_text = self._text_pattern.match
        plain = self._taking_plain_text
        offset, length = 0, len(text)
        while offset < length:
            try:
                if plain:
                    match = match_text(text, offset)
                    if match:
                        start, offset = match.span()
                        draw(text[start:offset])
                        continue
                offset += 1
                plain = self._parser.send(text[offset - 1]) if self._parser else True
                if plain:
                    self.sequence = 0
                else:
                    self.sequence += 1
                    if self.sequence > MAX_SEQUENCE:
                        self._restart()
                        plain = True
            except Exception:  # whatever pyte raises on, it must go on
                logger.debug("the terminal parser failed; restarted", exc_info=True)
                self._restart()
                plain = True
        self._taking_plain_text = plain

    def _restart(self) -> None:
        self._initialize_parser()
        self.sequence = 0

