"""The REPL terminal's Textual-free parts: the screen model (its pyte screen and byte stream),
the key encoding, the intake of output, the frames' pacing, the capture file, the viewport
(scrollback, selection), rows as styled text."""
