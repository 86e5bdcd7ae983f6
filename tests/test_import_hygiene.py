"""Layers stay clean: nothing below the UI imports textual."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "mptui"
HOST_PACKAGES = ("mptui.transports", "mptui.board", "mptui.services", "mptui.virtual")
LOWER_DIRS = ("transports", "board", "services", "virtual", "agent")  # agent: board-side code


def test_importing_the_lower_layers_loads_no_textual():
    code = (
        "import importlib, pkgutil, sys\n"
        f"for pkg in {HOST_PACKAGES!r}:\n"
        "    mod = importlib.import_module(pkg)\n"
        "    for info in pkgutil.walk_packages(mod.__path__, pkg + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "import mptui.config, mptui.cli, mptui.commands.common\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'textual')\n"
        "print(bad[:3])\n"
        "sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True,
                          text=True)
    assert done.returncode == 0, f"textual imported below the UI: {done.stdout}{done.stderr}"


def test_no_textual_import_statement_below_the_ui():
    """Also catches imports inside functions and board-side code that CPython cannot load."""
    offenders = []
    for folder in LOWER_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if any(_is_ui(name) for name in names):
                    offenders.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}")
    assert offenders == []


def _is_ui(module: str) -> bool:
    return module.split(".")[0] == "textual" or module == "mptui.ui" or module.startswith("mptui.ui.")


# The floors of the house, from the ground up: a module imports only its own floor or lower.
FLOORS = {
    "errors": 0, "paths": 0,
    "log": 1, "config": 1, "settings": 1, "webrepl_wire": 1, "macros": 1, "cmdline": 1,
    "virtual": 2,
    "transports": 3,
    "board": 4,
    "services": 5,
    "ui": 6,
    "commands": 7, "cli": 7,
    "__main__": 8,
}


def _floor(module: str) -> int | None:
    parts = module.split(".")
    return FLOORS.get(parts[1]) if parts[0] == "mptui" and len(parts) > 1 else None


def test_imports_only_point_down():
    """services/ota/actions.py once imported commands.common for a session: nothing may look up."""
    upward = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        if rel.parts[1] in ("agent", "__init__") or "mpy" in rel.parts:  # board-side, the face
            continue
        own = _floor(".".join(rel.parts))
        assert own is not None, f"{rel}: on no floor (add it to FLOORS)"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "mptui":
                names = [f"mptui.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                floor = _floor(name)
                if floor is not None and floor > own:
                    upward.append(f"{rel}:{node.lineno} imports {name}")
    assert upward == []
