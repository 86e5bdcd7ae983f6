"""The one ignore set: what never goes from this computer to a board, for every path that
sends host files to one (cp -r, sync and watch, the Files tab, OTA releases and bundles).

Three layers, in order:
- built in, never overridable: mptui's own secrets file (`.mptui-secrets.toml`, and whatever
  name an `mptui.toml` [ota] `secrets` gives) and mptui's temporary files;
- defaults, overridable by the user's rules: version control (.git .hg .svn), virtualenvs
  (.venv, venv, any folder holding pyvenv.cfg), __pycache__, *.pyc, editor and OS litter;
- `.mptuiignore` files at any level (and patterns a caller adds, such as OTA's `ignore`).

Matching follows gitignore: blank lines and `#` comments are skipped, `\\` escapes, `!`
re-includes, a trailing `/` matches folders only, a `/` at the start or in the middle anchors
the pattern to the folder of its file, `**` matches across folders (`**/x`, `x/**`,
`a/**/b`), `*` `?` `[...]` do not cross a `/`. The last matching pattern wins, a deeper file
overrides a shallower one, and nothing inside an ignored folder can be re-included.
`IgnoreRules.why()` names the rule that left a path out (for `--explain`).

What a file holds is checked too (`UploadPolicy.refuse`): a private key or mptui's OTA secrets
is skipped with a warning that says how to send it on purpose.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mptui.services.ota.keys import BOARDS_FILE
from mptui.services.secret_scan import read_toml, secret_in

IGNORE_FILE = ".mptuiignore"
TEMP_SUFFIX = ".mptui~"  # mptui's own temporary files, on the board and here: never synced
SECRETS_FILE = ".mptui-secrets.toml"  # what `mptui ota init` writes (with the signing key)
PROJECT_FILE = "mptui.toml"  # its [ota] `secrets` may name another secrets file
BUILT_IN = "built in"  # the source of the rules no user pattern overrides
SECRETS = "secrets"  # the source of the built-in rules for mptui's secrets file
VENVS = "(folders holding pyvenv.cfg)"  # in a defaults list: virtualenvs under any name
# version control, virtualenvs, bytecode; then editors' swap, backup and lock files, which a
# watch would otherwise upload on every save, and OS litter; then mptui's list of the fleet's
# board ids and addresses (not secret, but no business of a board's)
DEFAULT_PATTERNS = (".git", ".hg", ".svn", ".venv/", "venv/", VENVS, "__pycache__", "*.pyc",
                    IGNORE_FILE, "*.swp", "*.swo", "*~", ".#*", ".DS_Store", BOARDS_FILE)

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
    source: str = ""  # where it comes from: "default", SECRETS, "sub/.mptuiignore", ...

    def describe(self) -> str:
        if self.source == SECRETS:
            return "mptui's OTA secrets file (built in)"
        if self.source == BUILT_IN:
            return self.text
        text = self.text + ("/" if self.dir_only and self.text != VENVS else "")
        return f"{self.source} rule {text!r}" if self.source else f"rule {text!r}"


def parse_line(line: str, source: str = "") -> Pattern | None:
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
    return Pattern(line, regex, negate, dir_only, source)


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
    """The rules for one folder: built-ins, defaults, then its `.mptuiignore` files, read
    (once each) as `load_dir` or `walk` reach them.

    Paths are relative to the folder, '/'-separated, with no leading '/'.
    """

    def __init__(
        self, defaults: tuple[str, ...] | list[str] = DEFAULT_PATTERNS, root: str | Path | None = None
    ) -> None:
        self.root = Path(root) if root is not None else None
        self._by_dir: dict[str, list[Pattern]] = {}
        self._venvs = VENVS in defaults
        self._defaults = [p for line in defaults if line != VENVS
                          if (p := parse_line(line, "default"))]
        self._builtin = [p for line in _secrets_patterns(self.root)
                         if (p := parse_line(line, SECRETS))]
        self._cache: dict[tuple[str, bool], Pattern | None] = {}
        self._loaded: set[str] = set()

    def add(self, dir_rel: str, lines: list[str] | str, source: str = "") -> None:
        """Patterns as if read from `<dir_rel>/.mptuiignore` (source: where they come from)."""
        if isinstance(lines, str):
            lines = lines.splitlines()
        dir_rel = dir_rel.strip("/")
        source = source or (f"{dir_rel}/{IGNORE_FILE}" if dir_rel else IGNORE_FILE)
        pats = [p for line in lines if (p := parse_line(line, source))]
        if pats:
            self._by_dir.setdefault(dir_rel, []).extend(pats)
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
        return self.rule(rel, is_dir) is not None

    def rule(self, rel: str, is_dir: bool) -> Pattern | None:
        """The rule that leaves rel itself out, or None."""
        if rel.endswith(TEMP_SUFFIX):
            return _TEMP
        key = (rel, is_dir)
        if key not in self._cache:
            self._cache[key] = self.builtin(rel) or self._last_match(rel, is_dir)
        return self._cache[key]

    def builtin(self, rel: str) -> Pattern | None:
        """The built-in rule (no user pattern overrides it) that leaves rel out, or None."""
        return _last(self._builtin, rel, False, None)

    def is_ignored(self, rel: str, is_dir: bool = False) -> bool:
        """Whether rel is ignored, by itself or because a folder holding it is."""
        return self._hit(rel, is_dir) is not None

    def why(self, rel: str, is_dir: bool = False) -> str | None:
        """Which rule leaves rel out (by itself or by a folder holding it), or None."""
        hit = self._hit(rel, is_dir)
        if hit is None:
            return None
        folder, rule = hit
        return f"in {folder}/: {rule.describe()}" if folder else rule.describe()

    def _hit(self, rel: str, is_dir: bool) -> tuple[str, Pattern] | None:
        """(the folder holding rel that is left out, or "" for rel itself; its rule)."""
        parts = rel.split("/")
        for k in range(1, len(parts)):
            folder = "/".join(parts[:k])
            rule = self.rule(folder, True)
            if rule is not None:
                return folder, rule
        rule = self.rule(rel, is_dir)
        return ("", rule) if rule is not None else None

    def _last_match(self, rel: str, is_dir: bool) -> Pattern | None:
        result = _VENV if self._venvs and is_dir and self._is_venv(rel) else None
        result = _last(self._defaults, rel, is_dir, result)
        for base in sorted(self._by_dir, key=lambda b: (b.count("/"), b) if b else (-1, "")):
            if base == "":
                sub = rel
            elif rel.startswith(base + "/"):
                sub = rel[len(base) + 1 :]
            else:
                continue
            result = _last(self._by_dir[base], sub, is_dir, result)
        return result

    def _is_venv(self, rel: str) -> bool:
        return self.root is not None and (self.root / rel / "pyvenv.cfg").is_file()


_TEMP = Pattern(f"mptui's temporary file (*{TEMP_SUFFIX})", re.compile(r"(?!)"), False, False, BUILT_IN)
_VENV = Pattern(VENVS, re.compile(r"(?!)"), False, True, "default")


def _secrets_patterns(root: Path | None) -> list[str]:
    """The built-in patterns: mptui's secrets file by its default name anywhere, and the one
    an `mptui.toml` in root or above names, if it lies in root."""
    out = [SECRETS_FILE, SECRETS_FILE + ".tmp"]
    if root is None:
        return out
    named = _configured_secrets(Path(os.path.abspath(root)))
    if named is not None:
        rel = os.path.relpath(named, os.path.abspath(root)).replace(os.sep, "/")
        if not rel.startswith("../") and rel not in (".", ".."):
            escaped = re.sub(r"([\\*?\[\]!#])", r"\\\1", rel)
            out += ["/" + escaped, "/" + escaped + ".tmp"]
    return out


def _configured_secrets(folder: Path) -> Path | None:
    """The secrets file the nearest `mptui.toml` (here or above) names, if it names one."""
    for d in (folder, *folder.parents):
        project = d / PROJECT_FILE
        if project.is_file():
            try:
                ota = read_toml(project.read_text(encoding="utf-8")).get("ota")
            except (OSError, ValueError):
                return None
            name = ota.get("secrets") if isinstance(ota, dict) else None
            return (d / name) if isinstance(name, str) and name.strip() else None
    return None


def walk(rules: IgnoreRules, start: str = "", errors: list | None = None,
         skipped: list | None = None, follow_symlinks: bool = False) -> Iterator[
        tuple[str, os.DirEntry]]:
    """(relative path, entry) for everything under rules.root/start that is not ignored,
    top-down. Ignored folders are not entered; `skipped` (when given) gets (path, the rule)
    for each (a folder's path ends in '/'). `errors` (when given) gets a warning line for
    what is left out that the user should hear of: mptui's secrets file, a folder that cannot
    be read, a link to a folder (never followed), a link to a file outside rules.root (sent
    only with follow_symlinks)."""
    errors = errors if errors is not None else []
    top = os.path.realpath(rules.root)
    stack = [start]
    while stack:
        rel = stack.pop()
        rules.load_dir(rel)
        try:
            with os.scandir(rules.root / rel) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            errors.append(f"{rel or '.'}: cannot read ({e.strerror})")
            continue
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            is_dir = _is_dir(entry)
            hit = rules.rule(child, is_dir)
            if hit is not None:
                if hit.source == SECRETS:
                    errors.append(f"{child}: {hit.describe()}: never sent to a board")
                elif skipped is not None:
                    skipped.append((child + "/" * is_dir, hit.describe()))
                continue
            if entry.is_symlink():
                if is_dir:
                    errors.append(f"{child}: a link to a folder; not followed")
                    continue
                if not follow_symlinks and not link_inside(top, entry.path):
                    errors.append(f"{child}: a link to a file outside the folder; skipped "
                                  "(--follow-symlinks sends it)")
                    continue
            yield child, entry
            if entry.is_dir(follow_symlinks=False):
                stack.append(child)


# -- what goes to a board beyond the rules -------------------------------------------------


@dataclass(frozen=True)
class UploadPolicy:
    """What goes to a board beyond the ignore rules (the same for every upload path)."""

    allow_secrets: bool = False  # send files that hold a private key (never mptui's OTA secrets)
    follow_symlinks: bool = False  # send what links to files outside the folder point to
    allowed: tuple[str, ...] = ()  # patterns of files whose private keys go (OTA's allow_secrets)
    how: str = "--allow-secrets sends it"  # how to send such a file on purpose (in the warning)

    def refuse(self, rel: str, data: bytes) -> str | None:
        """A warning line when data (the content of rel) must not go to a board, else None."""
        secret = secret_in(data)
        if secret is None:
            return None
        if secret.never:
            return f"{rel}: holds {secret.what}: never sent to a board"
        if self.allow_secrets or (self.allowed and self._allowed(rel)):
            return None
        return f"{rel}: looks like {secret.what}: skipped ({self.how})"

    def _allowed(self, rel: str) -> bool:
        rules = IgnoreRules(defaults=())
        rules.add("", list(self.allowed))
        return rules.is_ignored(rel)


def link_inside(top: str, path: str) -> bool:
    """Whether path, links followed all the way, is in the folder top (a realpath)."""
    target = os.path.realpath(path)
    return target == top or target.startswith(top.rstrip(os.sep) + os.sep)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _last(patterns: list[Pattern], path: str, is_dir: bool, result: Pattern | None) -> Pattern | None:
    for p in patterns:
        if (is_dir or not p.dir_only) and p.regex.match(path):
            result = None if p.negate else p
    return result
