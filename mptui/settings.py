"""Choices made in the app that outlive it (the theme, the code Ctrl-J types, the file Ctrl-K
runs), written into the user's config file with tomlkit so that its comments, order and layout
stay as the user wrote them. No UI here:

    error = remember(config.path, {"theme": "mptui-light", "repl.inject_file": "~/main.py"})

Writes are atomic (a temporary file renamed over the old one, which keeps its mode). A file
that does not read as TOML is left alone: the user's text is never replaced by a guess.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError

SETTINGS = ("theme", "repl.inject_code", "repl.inject_file")  # what the app writes


def remember(path: Path, values: dict[str, str]) -> str | None:
    """Set these settings ("table.key" for a key in a table) in the config file at `path`
    (made if missing); None when written, else why not (one line)."""
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise ValueError(f"not a setting the app writes: {sorted(unknown)}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as e:
        return f"{path}: not saved: cannot read it ({getattr(e, 'strerror', None) or e})"
    try:
        doc = tomlkit.parse(text)
        for dotted, value in values.items():
            table, _, key = dotted.rpartition(".")
            where = doc
            if table:
                if table not in doc:
                    doc[table] = tomlkit.table()
                where = doc[table]
                if not isinstance(where, dict):
                    return f"{path}: not saved: '{table}' is not a table"
            where[key] = value
        new = tomlkit.dumps(doc)
    except (TOMLKitError, ValueError) as e:
        return f"{path}: not saved: it does not read as TOML ({e})"
    try:
        _write_atomically(path, new)
    except OSError as e:
        return f"{path}: not saved: {e.strerror or e}"
    return None


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
