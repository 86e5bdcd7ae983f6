"""The README's quick start is what CI runs, word for word."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", quick, re.DOTALL)
    assert len(commands) == 3  # one to run mptui, one to test it, the benchmarks
    assert "mptui -d virtual" in commands[0]
    assert "pytest" in commands[1]
    assert all(line.startswith(".venv/bin/python bench/") for line in commands[2].splitlines())
    assert commands[1] in (ROOT / ".ci" / "run").read_text().splitlines()
