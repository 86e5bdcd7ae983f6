"""Themes: TOML files, mptui's own in the top-level `themes/` folder (packaged with the app)
and the user's in the `themes` folder next to the config. A bad file is reported in one line
and skipped."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from mptui.config import key_line, themes_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_THEME = "mptui-dark"
COLORS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
# mptui's own theme variables and the Textual colour each falls back to.
VARIABLES = {
    "repl-background": "background",
    "repl-foreground": "foreground",
    "device-idle": "success",
    "device-busy": "warning",
    "device-error": "error",
    "device-offline": "foreground-muted",
    "ota-ok": "text-success",
    "ota-failed": "text-error",
    "ota-busy": "text-warning",
}


class ThemeError(ValueError):
    pass


def builtin_dir() -> Path:
    """mptui's themes: packaged next to the code, or the checkout's `themes/` folder."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "themes"
    return packaged if packaged.is_dir() else package.parent / "themes"


def variable_defaults(colors: dict[str, str]) -> dict[str, str]:
    """Values for mptui's variables that a theme leaves out, from its generated colours."""
    return {name: colors[source] for name, source in VARIABLES.items() if source in colors}


def load_theme(path: Path) -> Theme:
    """One theme file; ThemeError with a one-line message naming the file (and line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ThemeError(f"{path}: cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise ThemeError(f"{path}: not UTF-8 text (TOML files are UTF-8)") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ThemeError(f"{path}: {e}") from None

    def fail(message: str, key: str | None = None, table: str | None = None) -> ThemeError:
        line = key_line(text, key, table)
        return ThemeError(f"{path}{f', line {line}' if line else ''}: {message}")

    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        raise fail("'name' must be a non-empty string", key="name")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise fail("'dark' must be true or false", key="dark")
    unknown = set(data) - {"name", "dark", "variables", *COLORS}
    if unknown:
        first = min(unknown)
        raise fail(f"unknown key {first!r}", key=first)
    if "primary" not in data:
        raise fail("'primary' colour missing")
    colors: dict[str, Any] = {}  # Theme's colour keywords (its others are not strings)
    for key in COLORS:
        if key in data:
            colors[key] = _color(data[key], key, fail)
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise fail("[variables] must be a table", key="variables")
    for key, value in variables.items():
        if not isinstance(value, str):
            raise fail(f"variable {key!r} must be a string", key=key)
        if key in VARIABLES:
            _color(value, key, fail)
    return Theme(name=name.strip(), dark=dark, variables=dict(variables), **colors)


def _color(value, key: str, fail) -> str:
    if not isinstance(value, str):
        raise fail(f"{key!r} must be a colour string like \"#4EA1D3\"", key=key)
    try:
        Color.parse(value)
    except ColorParseError:
        raise fail(f"bad colour {value!r} for {key!r}", key=key) from None
    return value


def load_themes(folder: Path) -> tuple[list[Theme], list[str]]:
    """Every *.toml theme in a folder: (themes loaded, one-line errors for the bad files)."""
    themes: list[Theme] = []
    errors: list[str] = []
    if not folder.is_dir():
        return themes, errors
    for path in sorted(folder.glob("*.toml")):
        try:
            themes.append(load_theme(path))
        except ThemeError as e:
            errors.append(str(e))
    return themes, errors


def theme_problem(wanted: str | None, themes: list[Theme]) -> str | None:
    """Why the config's `theme` cannot be used (None: it can): neither Textual's nor one of
    `themes` (all_themes()). The app and `mptui config check` both ask here."""
    from textual.theme import BUILTIN_THEMES

    if wanted is None or wanted in BUILTIN_THEMES or any(t.name == wanted for t in themes):
        return None
    return f"unknown theme {wanted!r}"


def all_themes() -> tuple[list[Theme], list[str]]:
    """mptui's themes then the user's (a user theme may replace one of ours by name)."""
    builtin, errors = load_themes(builtin_dir())
    user, user_errors = load_themes(themes_dir())
    return builtin + user, errors + user_errors
