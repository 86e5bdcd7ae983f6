"""Parts of the agent's RemoteIO module run on the real MicroPython runtime (the unix port)
directly: the dupterm stream used on boards, handler registration, what JSON can carry."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from mptui.virtual.runtime import RuntimeOptions

AGENT = Path(__file__).resolve().parents[2] / "mptui" / "agent"

SCRIPT = r"""
import sys
sys.path.insert(0, {lib!r})
from mptui_agent import remoteio as r
from mptui_agent import remoteio_session as s  # (what a logged-in client uses)

t = s._Tee()
for chunk in [b"caf\xc3", b"\xa9 ok\n", b"\xe2\x82", b"\xac\n", b"\xff bad\n", b"\xf0\x9f"]:
    t.write(memoryview(chunk))
print("tee", repr("".join(r._items)), repr(t.tail))

try:
    r.on("ping")
except ValueError as e:
    print("builtin", e)

@r.on("twice")
def twice(x):
    return [x, x]

print("call", s._call({{"id": 1, "name": "twice", "args": {{"x": 2}}}}))
r.off("twice")
print("gone", s._call({{"id": 2, "name": "twice"}}))
print("plain", [s._plain(v) for v in (1, 2.5, float("nan"), float("inf"), "s", None,
                                       [1, {{"a": ()}}], {{1: 2}}, b"x", object())])
"""


def test_agent_remoteio_on_the_real_runtime(tmp_path):
    shutil.copytree(AGENT, tmp_path / "mptui_agent", ignore=shutil.ignore_patterns("*.md"))
    script = tmp_path / "t.py"
    script.write_text(SCRIPT.format(lib=str(tmp_path)))
    out = subprocess.run([*RuntimeOptions().command(), str(script)], capture_output=True,
                         text=True, timeout=30, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    # UTF-8 characters split across console writes come out whole; a bad byte becomes "?"
    # (MicroPython's repr escapes non-ASCII characters)
    assert lines[0] == r"tee 'caf\xe9 ok\n\u20ac\n? bad\n' b'\xf0\x9f'"
    assert lines[1] == "builtin bad handler name 'ping'"
    assert lines[2] == """call b'{"t": "resp", "id": 1, "r": [2, 2]}\\n'"""
    assert "unknown handler: twice" in lines[3]
    assert lines[4] == "plain [True, True, False, False, True, True, True, False, False, False]"
