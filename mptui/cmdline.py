"""The words of a command line: the global options before the command, and the commands
joined by '+'. Kept apart from macros.py (and its imports) so that a plain command line
(`mptui exec ...`, `mptui --version`) is read without loading what macros need."""

from __future__ import annotations

SEPARATOR = "+"
NOT_ACTIONS = frozenset({"connect", "mount", "resume"})  # a chain of only these: a REPL follows
# The global options (before the command) that take a value.
_VALUED = ("-d", "--device", "--password", "--log-file")


def split(words: list[str]) -> list[list[str]]:
    """A command line's commands: the words between '+' (empty ones dropped)."""
    out: list[list[str]] = [[]]
    for word in words:
        if word == SEPARATOR:
            out.append([])
        else:
            out[-1].append(word)
    return [seg for seg in out if seg]


def split_globals(argv: list[str]) -> tuple[list[str], list[str]] | None:
    """(the global options, the words from the command on), or None when the command line is
    argparse's alone to judge (no command, help, an unknown option)."""
    i = 0
    while i < len(argv):
        word = argv[i]
        if word in _VALUED:
            i += 2
        elif _one_word_option(word):
            i += 1
        elif word.startswith("-"):
            return None
        else:
            return argv[:i], argv[i:]
    return None


def _one_word_option(word: str) -> bool:
    """A global option that is one word: --device=X, -dX, -v, -vv, --verbose."""
    if word.startswith(tuple(f"{o}=" for o in _VALUED if o.startswith("--"))):
        return True
    if word.startswith("-d") and len(word) > 2:
        return True
    return word == "--verbose" or (word.startswith("-v") and set(word[1:]) == {"v"})
