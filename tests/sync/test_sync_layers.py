"""The file engine is a service: it must not pull in the UI toolkit."""

from __future__ import annotations

import subprocess
import sys


def test_no_textual_below_the_ui():
    code = (
        "import sys\n"
        "import mptui.commands.sync, mptui.services.boardfs, mptui.services.localfs\n"
        "import mptui.services.ignore, mptui.services.mpy, mptui.services.sync\n"
        "import mptui.services.transfer, mptui.services.watch\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
