"""Ignore rules for sync and watch: gitignore syntax, in `.mptuiignore` files at any level.

Matching follows gitignore: blank lines and `#` comments are skipped, `\\` escapes, `!`
re-includes, a trailing `/` matches folders only, a `/` at the start or in the middle anchors
the pattern to the folder of its file, `**` matches across folders (`**/x`, `x/**`,
`a/**/b`), `*` `?` `[...]` do not cross a `/`. The last matching pattern wins, a deeper file
overrides a shallower one, and nothing inside an ignored folder can be re-included.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

IGNORE_FILE = ".mptuiignore"
TEMP_SUFFIX = ".mptui~"  # mptui's own temporary files, on the board and here: never synced
# .git, __pycache__ and *.pyc as asked; then editors' swap, backup and lock files, which a
# watch would otherwise upload on every save
DEFAULT_PATTERNS = (".git", "__pycache__", "*.pyc", IGNORE_FILE,
                    "*.swp", "*.swo", "*~", ".#*", ".DS_Store")

_CLASSES = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\s",
    "upper": "A-Z",
    "xdigit": "0-9A-Fa-f",
}


@dataclass(frozen=True)
class Pattern:
    text: str
    regex: re.Pattern
    negate: bool
    dir_only: bool


def parse_line(line: str) -> Pattern | None:
    """One line of an ignore file as a Pattern, or None for blanks and comments."""
    line = line.rstrip("\r\n")
    if not line or line.startswith("#"):
        return None
    line = _strip_trailing_spaces(line)
    negate = line.startswith("!")
    if negate or line.startswith(("\\!", "\\#")):
        line = line[1:]
    dir_only = line.endswith("/") and not line.endswith("\\/")
    line = line.rstrip("/") if dir_only else line
    if not line:
        return None
    anchored = "/" in line
    body = _translate(line.lstrip("/"))
    regex = re.compile(("^" if anchored else "^(?:.*/)?") + body + "$", re.DOTALL)
    return Pattern(line, regex, negate, dir_only)


def _strip_trailing_spaces(line: str) -> str:
    while line.endswith(" ") and not line.endswith("\\ "):
        line = line[:-1]
    return line


def _translate(pattern: str) -> str:
    segments = pattern.split("/")
    out = ""
    joined = True  # the next segment needs no leading '/'
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == "**":
            if len(segments) == 1:
                out += ".*"
            elif i == 0:
                out += "(?:.*/)?"
            elif last:
                out += "/.*"
            else:
                out += "/(?:.*/)?"
            joined = True
            continue
        out += ("" if joined else "/") + _translate_segment(seg)
        joined = False
    return out


def _translate_segment(seg: str) -> str:
    out, i, n = [], 0, len(seg)
    while i < n:
        c = seg[i]
        if c == "\\" and i + 1 < n:
            out.append(re.escape(seg[i + 1]))
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            cls, i = _bracket(seg, i)
            out.append(cls)
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def _bracket(seg: str, i: int) -> tuple[str, int]:
    """A `[...]` expression starting at seg[i]: its regex and the index after it. An
    unterminated `[` is a literal."""
    j = i + 1
    negate = j < len(seg) and seg[j] in "!^"
    if negate:
        j += 1
    parts = []
    first = True
    while j < len(seg):
        c = seg[j]
        if c == "]" and not first:
            body = "".join(parts)
            return ("[^/" + body + "]" if negate else "[" + body + "]"), j + 1
        first = False
        if c == "[" and seg.startswith("[:", j):
            end = seg.find(":]", j + 2)
            name = seg[j + 2 : end] if end > 0 else ""
            if name in _CLASSES:
                parts.append(_CLASSES[name])
                j = end + 2
                continue
        if c == "\\" and j + 1 < len(seg):
            parts.append(re.escape(seg[j + 1]))
            j += 2
            continue
        if c == "-" and parts and j + 1 < len(seg) and seg[j + 1] != "]":
            parts.append("-")
            j += 1
            continue
        parts.append(re.escape(c) if c not in "-" else "\\-")
        j += 1
    return re.escape("["), i + 1


class IgnoreRules:
    """The rules for one folder: defaults, then its `.mptuiignore` files, read (once each)
    as `load_dir` or `walk` reach them.

    Paths are relative to the folder, '/'-separated, with no leading '/'.
    """

    def __init__(
        self, defaults: tuple[str, ...] | list[str] = DEFAULT_PATTERNS, root: str | Path | None = None
    ) -> None:
        self.root = Path(root) if root is not None else None
        self._by_dir: dict[str, list[Pattern]] = {}
        self._defaults = [p for p in map(parse_line, defaults) if p]
        self._cache: dict[tuple[str, bool], bool] = {}
        self._loaded: set[str] = set()

    def add(self, dir_rel: str, lines: list[str] | str) -> None:
        """Patterns as if read from `<dir_rel>/.mptuiignore`."""
        if isinstance(lines, str):
            lines = lines.splitlines()
        pats = [p for p in map(parse_line, lines) if p]
        if pats:
            self._by_dir.setdefault(dir_rel.strip("/"), []).extend(pats)
            self._cache.clear()

    def load_dir(self, dir_rel: str) -> None:
        """Read `<root>/<dir_rel>/.mptuiignore`, if there is one (once)."""
        if self.root is None or dir_rel in self._loaded:
            return
        self._loaded.add(dir_rel)
        try:
            text = (self.root / dir_rel / IGNORE_FILE).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return
        self.add(dir_rel, text)

    def load_above(self, rel: str) -> None:
        """Read the ignore files of every folder holding rel."""
        parts = rel.split("/")
        for k in range(len(parts)):
            self.load_dir("/".join(parts[:k]))

    def match(self, rel: str, is_dir: bool) -> bool:
        """Whether rel itself matches (its parent folders are taken as not ignored)."""
        if rel.endswith(TEMP_SUFFIX):
            return True
        key = (rel, is_dir)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._last_match(rel, is_dir)
        return hit

    def is_ignored(self, rel: str, is_dir: bool = False) -> bool:
        """Whether rel is ignored, by itself or because a folder holding it is."""
        parts = rel.split("/")
        for k in range(1, len(parts)):
            if self.match("/".join(parts[:k]), True):
                return True
        return self.match(rel, is_dir)

    def _last_match(self, rel: str, is_dir: bool) -> bool:
        result = _last(self._defaults, rel, is_dir, False)
        for base in sorted(self._by_dir, key=lambda b: (b.count("/"), b) if b else (-1, "")):
            if base == "":
                sub = rel
            elif rel.startswith(base + "/"):
                sub = rel[len(base) + 1 :]
            else:
                continue
            result = _last(self._by_dir[base], sub, is_dir, result)
        return result


def walk(rules: IgnoreRules, start: str = "", errors: list | None = None) -> Iterator[
        tuple[str, os.DirEntry]]:
    """(relative path, entry) for everything under rules.root/start that is not ignored,
    top-down. Ignored folders and links to folders are not entered; a folder that cannot be
    read is noted in `errors` (when given) and skipped."""
    stack = [start]
    while stack:
        rel = stack.pop()
        rules.load_dir(rel)
        try:
            with os.scandir(rules.root / rel) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            if errors is not None:
                errors.append(f"{rel or '.'}: cannot read ({e.strerror})")
            continue
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            if rules.match(child, _is_dir(entry)):
                continue
            yield child, entry
            if entry.is_dir(follow_symlinks=False):
                stack.append(child)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _last(patterns: list[Pattern], path: str, is_dir: bool, result: bool) -> bool:
    for p in patterns:
        if (is_dir or not p.dir_only) and p.regex.match(path):
            result = not p.negate
    return result
