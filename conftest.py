"""Project-wide pytest set-up: snapshot goldens (pytest-textual-snapshot) live in the top-level
`snapshots/` folder, one subfolder per test module, instead of next to each test file."""

from pathlib import Path

from pytest_textual_snapshot import SVGImageExtension

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def _snapshot_dir(cls, *, test_location) -> str:
    return str(SNAPSHOTS / test_location.basename)


SVGImageExtension.dirname = classmethod(_snapshot_dir)
