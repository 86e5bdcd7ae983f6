"""The README's architecture table stays true: every file and folder it names exists where it
says, and no module grows past about 450 lines."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 480  # "about 450": a module this long is due to be split


def test_every_place_the_architecture_table_names_exists():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert len(rows) == 7
    missing = []
    for row in rows:
        layer = re.match(r"\| `([a-z]+)/`", row).group(1)
        for name in re.findall(r"`([a-z_./]+)`", row.split("|", 3)[3]):
            base = ROOT / "mptui" if name == "cli.py" else ROOT / "mptui" / layer
            if not (base / name.rstrip("/")).exists():
                missing.append(f"{layer}/{name}")
    assert not missing


def test_no_module_is_too_long():
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "mptui").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > LIMIT}
    assert not long
