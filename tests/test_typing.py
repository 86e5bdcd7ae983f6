"""The types hold: mypy finds nothing in the package (its version is pinned in the dev extra,
its settings are in pyproject.toml: strict on the layers under the UI)."""

import subprocess
import sys
from pathlib import Path

import pytest

from mptui.services.secret_scan import read_toml

ROOT = Path(__file__).resolve().parents[1]
STRICT = ["mptui.transports.*", "mptui.board.*", "mptui.services.*", "mptui.errors", "mptui.log",
          "mptui.config", "mptui.paths", "mptui.webrepl_wire", "mptui.settings"]
# --strict's flags (it cannot be set per module)
STRICT_FLAGS = ["disallow_any_generics", "disallow_subclassing_any", "disallow_untyped_calls",
                "disallow_untyped_defs", "disallow_incomplete_defs", "check_untyped_defs",
                "disallow_untyped_decorators", "warn_return_any", "strict_equality",
                "extra_checks"]


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=ROOT, capture_output=True,
                          text=True, check=False)


@pytest.mark.timeout(600)  # a first run (no cache) on a busy machine takes a while
def test_mypy_is_clean():
    r = mypy()
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Success: no issues found" in r.stdout


def test_the_lower_layers_are_checked_strictly():
    """The strict set stays what it is; the code that runs on the board stays out (it is
    MicroPython, not host Python); nothing else is left out."""
    config = read_toml((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["files"] == ["mptui"]
    assert config["exclude"] == ["^mptui/(agent|board/mpy|virtual/mpy)/"]
    strict = next(o for o in config["overrides"] if "mptui.transports.*" in o["module"])
    assert sorted(strict["module"]) == sorted(STRICT)
    assert all(strict[flag] is True for flag in STRICT_FLAGS)
    assert strict["implicit_reexport"] is False
    assert not any(o.get("ignore_errors") for o in config["overrides"])


@pytest.mark.timeout(600)
def test_an_untyped_function_in_a_strict_module_fails(tmp_path):
    """The checker really checks: a function without annotations in a module under services/
    is an error, with the project's settings."""
    services = tmp_path / "mptui" / "services"
    services.mkdir(parents=True)
    (tmp_path / "mptui" / "__init__.py").write_text("")
    (services / "__init__.py").write_text("")
    (services / "probe.py").write_text("def f(x):\n    return x\n")
    r = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
                        "--cache-dir", str(tmp_path / "cache"), "mptui/services/probe.py"],
                       cwd=tmp_path, capture_output=True, text=True, check=False)
    assert r.returncode == 1 and "probe.py:1: error" in r.stdout, r.stdout + r.stderr
    assert "[no-untyped-def]" in r.stdout
