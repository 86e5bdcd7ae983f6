"""The REPL terminal's Textual-free parts: the screen model and the key encoding."""
