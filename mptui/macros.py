"""Shortcuts and macros: the config's `[commands]` names a chain of commands, with parameters.

    [commands]
    l = "ls -l"                                 # mptui l /lib   ->  ls -l /lib
    boot = "soft-reset + exec 'import main'"    # a chain ('+' separates its commands)
    [commands.led]
    run = "exec 'import machine; machine.Pin({pin}, machine.Pin.OUT).value({value})'"
    help = "switch an LED"
    defaults = { value = "1" }                  # {value} may be left out

A macro's text is split as a shell would (or given as a list of words). `{name}` is a
parameter, `{name!r}` the same as a Python string literal (for board code), `{{name}}` a plain
`{name}`. The words after a macro's name fill its parameters (`name=value`, or in order);
any left over go on at the end of its last command, as with mpremote's shortcuts. A macro may
use another one (not itself).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from mptui.cmdline import SEPARATOR, split
from mptui.errors import UsageError

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_PLACEHOLDER = re.compile(r"\{\{(\w+(?:!r)?)\}\}|\{([A-Za-z_]\w*)(!r)?\}")
MAX_DEPTH = 10  # macros using macros, this deep at most (a loop is caught sooner)


class BadMacro(ValueError):
    """A [commands] entry of the wrong shape (one line, naming it)."""


class MacroError(UsageError):
    """A macro that cannot be expanded (a missing parameter, a loop): exit status 2."""


@dataclass(frozen=True)
class Macro:
    name: str
    words: tuple[str, ...]  # the command line it stands for, '+' between its commands
    help: str = ""
    defaults: dict[str, str] = field(default_factory=dict)

    @property
    def params(self) -> list[str]:
        """Its parameters, in the order they first appear."""
        seen: list[str] = []
        for word in self.words:
            for m in _PLACEHOLDER.finditer(word):
                if m.group(2) and m.group(2) not in seen:
                    seen.append(m.group(2))
        return seen

    @property
    def signature(self) -> str:
        return " ".join([self.name] + [p if p not in self.defaults else f"[{p}={self.defaults[p]}]"
                                       for p in self.params])

    @property
    def summary(self) -> str:
        return self.help or " ".join(_quote(w) if w != SEPARATOR else w for w in self.words)

    def fill(self, values: dict[str, str]) -> list[str]:
        """Its words with the parameters given `values` (all of them)."""

        def sub(m: re.Match) -> str:
            if m.group(1):
                return "{" + m.group(1) + "}"
            value = values[m.group(2)]
            return repr(value) if m.group(3) else value

        return [_PLACEHOLDER.sub(sub, word) for word in self.words]


def _quote(word: str) -> str:
    """A word as a shell reads it back, in double quotes when that reads better (code with
    single quotes in it)."""
    if "'" in word and not set(word) & set('"$`\\!'):
        return f'"{word}"'
    return shlex.quote(word)


def parse_macros(table) -> dict[str, Macro]:
    """The config's [commands] table as Macros; BadMacro (a ValueError) for a malformed one."""
    if not isinstance(table, dict):
        raise BadMacro("[commands] must map names to commands")
    macros = {}
    for name, entry in table.items():
        if not NAME.match(name):
            raise BadMacro(f"[commands] {name!r}: a name is letters, digits, '-' and '_'")
        text, help_, defaults = entry, "", {}
        if isinstance(entry, dict):
            unknown = set(entry) - {"run", "help", "defaults"}
            if unknown:
                raise BadMacro(f"[commands] {name!r}: unknown key {min(unknown)!r} "
                                 "(known: run, help, defaults)")
            text, help_, defaults = entry.get("run"), entry.get("help", ""), entry.get("defaults", {})
            if not isinstance(help_, str):
                raise BadMacro(f"[commands] {name!r}: 'help' must be a string")
            if not isinstance(defaults, dict) or not all(
                    isinstance(v, (str, int, float)) and not isinstance(v, bool)
                    for v in defaults.values()):
                raise BadMacro(f"[commands] {name!r}: 'defaults' must map parameters to values")
        macros[name] = Macro(name, _words(name, text), help_,
                             {k: str(v) for k, v in defaults.items()})
        extra = set(macros[name].defaults) - set(macros[name].params)
        if extra:
            raise BadMacro(f"[commands] {name!r}: a default for {min(extra)!r}, which "
                             "its command does not use as {" + min(extra) + "}")
    return macros


def _words(name: str, text) -> tuple[str, ...]:
    if isinstance(text, str):
        try:
            words = shlex.split(text)
        except ValueError as e:
            raise BadMacro(f"[commands] {name!r}: {e}") from None
    elif isinstance(text, list) and all(isinstance(w, str) for w in text):
        words = list(text)
    else:
        raise BadMacro(f"[commands] {name!r} must be a command line (a string or a list of "
                         "words), or a table with 'run'")
    if not words or words[0] == SEPARATOR or words[-1] == SEPARATOR:
        raise BadMacro(f"[commands] {name!r}: an empty command")
    return tuple(words)


def expand(segments: list[list[str]], macros: dict[str, Macro], _depth: int = 0,
           _using: tuple[str, ...] = ()) -> list[list[str]]:
    """The commands with every macro replaced by what it stands for. MacroError for a
    parameter missing, or a macro that uses itself."""
    out: list[list[str]] = []
    for seg in segments:
        macro = macros.get(seg[0])
        if macro is None:
            out.append(list(seg))
            continue
        if macro.name in _using or _depth >= MAX_DEPTH:
            raise MacroError(f"macro {macro.name!r} uses itself ({' -> '.join(_using)} -> "
                             f"{macro.name})")
        values, rest = _bind(macro, seg[1:])
        inner = split(macro.fill(values))
        if rest:
            inner[-1] += rest
        out += expand(inner, macros, _depth + 1, (*_using, macro.name))
    return out


def _bind(macro: Macro, given: list[str]) -> tuple[dict[str, str], list[str]]:
    """(parameter values, the words left over) for the words after a macro's name."""
    params = macro.params
    values: dict[str, str] = {}
    rest = []
    for word in given:
        name, eq, value = word.partition("=")
        if eq and name in params and name not in values:
            values[name] = value
        else:
            rest.append(word)
    for name in params:
        if name not in values and rest and not _named(rest[0], params):
            values[name] = rest.pop(0)
    for name in params:
        if name not in values:
            if name not in macro.defaults:
                raise MacroError(f"{macro.name}: missing {name} (usage: mptui {macro.signature})")
            values[name] = macro.defaults[name]
    return values, rest


def _named(word: str, params: list[str]) -> bool:
    name, eq, _ = word.partition("=")
    return bool(eq) and name in params


def help_lines(macros: dict[str, Macro]) -> list[str]:
    """One line per macro for `mptui --help`."""
    if not macros:
        return []
    width = min(28, max(len(m.signature) for m in macros.values()))
    return [f"  {m.signature:<{width}}  {m.summary}" for m in sorted(macros.values(),
                                                                   key=lambda m: m.name)]
