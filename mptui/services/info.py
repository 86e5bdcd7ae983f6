"""What a board is: firmware, machine, unique id, CPU, heap, filesystem, .mpy version, modules,
its link, and its agent and release when installed. One round trip gathers the board's answers
(a probe prints a literal, then `help('modules')`); a second, empty one is timed for the link's
round trip. What the board prints is parsed as data (`ast.literal_eval`), never run.

    facts = await board_facts(session)
    for label, value in facts.rows(): print(label, value)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from mptui.board import BoardError, Session
from mptui.board.literal import NotALiteral
from mptui.board.literal import parse as parse_literal
from mptui.services.mpy import ARCHES

MARK = "--mptui-modules--"
# each answer on its own: a port without one (no machine.freq, no statvfs) still gives the rest
PROBE = """\
def _mptui_info():
 import sys, os, gc
 d = {}
 def t(k, f):
  try:
   d[k] = f()
  except Exception:
   pass
 i = sys.implementation
 try:
  u = os.uname()
  d['uname'] = (u.sysname, u.nodename, u.release, u.version, u.machine)
 except AttributeError:  # the unix port: what sys says instead
  t('uname', lambda: (sys.platform, '', '.'.join(str(x) for x in i.version[:3]), sys.version,
                      i._machine))
 t('impl', lambda: (i.name, tuple(i.version[:3])))
 t('build', lambda: i._build)
 t('mpy', lambda: i._mpy)
 d['platform'] = sys.platform
 import machine
 t('uid', lambda: __import__('binascii').hexlify(machine.unique_id()).decode())
 t('freq', lambda: machine.freq())
 gc.collect()
 t('heap', lambda: (gc.mem_free(), gc.mem_alloc()))
 t('fs', lambda: tuple(os.statvfs('/')))
 t('agent', lambda: sys.modules['mptui_agent'].VERSION)
 t('agent_dir', lambda: os.stat('/mptui_agent')[0] & 0x4000 != 0)
 def rel():
  import json
  with open('/.ota/state.json') as f:
   return json.load(f).get('v')
 t('release', rel)
 print(repr(d))
 print('""" + MARK + """')
 help('modules')
_mptui_info()
del _mptui_info
"""


@dataclass
class BoardFacts:
    """The board's own answers, as it gave them (None: it did not say)."""

    sysname: str = ""
    release: str = ""  # os.uname().release: the firmware version
    version: str = ""  # os.uname().version: the build (version, date, compiler)
    machine: str = ""  # os.uname().machine: the board and its chip
    platform: str = ""
    implementation: str = ""  # "micropython 1.29.0"
    build: str | None = None  # sys.implementation._build: the board variant it was built for
    unique_id: str | None = None  # machine.unique_id() in hex
    freq: int | None = None  # CPU Hz
    heap_free: int | None = None
    heap_total: int | None = None
    fs_size: int | None = None  # bytes of `/`
    fs_free: int | None = None
    mpy: int | None = None  # sys.implementation._mpy
    modules: list[str] = field(default_factory=list)
    agent: str | None = None  # the running mptui agent's version; "installed" when not running
    ota_release: str | None = None  # the release the agent runs
    link: str = ""  # the link kind and its profile
    round_trip: float | None = None  # seconds for an empty exec

    @property
    def mpy_version(self) -> str | None:
        if self.mpy is None:
            return None
        return f"{self.mpy & 0xFF}.{(self.mpy >> 8) & 3}"

    @property
    def mpy_arch(self) -> str | None:
        if self.mpy is None:
            return None
        arch = self.mpy >> 10
        return (ARCHES[arch] or "none") if arch < len(ARCHES) else f"arch {arch}"

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs in words, for the command line and the app."""
        def size(n: int | None) -> str:
            if n is None:
                return "?"
            for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
                if n >= scale:
                    return f"{n / scale:.1f} {unit}"
            return f"{n} B"

        unknown = "not said"
        rows = [
            ("firmware", f"{self.implementation} ({self.release})".strip()),
            ("build", self.version + (f", variant {self.build}" if self.build else "")),
            ("machine", self.machine),
            ("platform", self.platform),
            ("unique id", self.unique_id or unknown),
            ("cpu", f"{self.freq / 1e6:g} MHz" if isinstance(self.freq, int) else unknown),
            ("heap", f"{size(self.heap_free)} free of {size(self.heap_total)}"
             if self.heap_free is not None else unknown),
            ("filesystem", f"{size(self.fs_free)} free of {size(self.fs_size)}"
             if self.fs_size is not None else unknown),
            ("mpy", f"v{self.mpy_version}, {self.mpy_arch}" if self.mpy is not None else unknown),
            ("modules", " ".join(self.modules) or unknown),
            ("link", self.link),
            ("round trip", f"{self.round_trip * 1000:.1f} ms"
             if self.round_trip is not None else unknown),
            ("agent", self.agent or "not installed"),
        ]
        if self.ota_release:
            rows.append(("release", self.ota_release))
        return rows


def parse(text: str) -> BoardFacts:
    """The probe's output (hostile until parsed: a literal only) to facts. BoardError when it
    is not the probe's answer."""
    head, _, modules = text.partition(MARK)
    try:
        d = parse_literal(head)
    except NotALiteral:
        raise BoardError("the board's answer to the info probe is not a literal") from None
    if not isinstance(d, dict):
        raise BoardError("the board's answer to the info probe is not a dict")
    facts = BoardFacts()
    uname = d.get("uname")
    if isinstance(uname, tuple) and len(uname) == 5 and all(isinstance(x, str) for x in uname):
        facts.sysname, _, facts.release, facts.version, facts.machine = uname
    facts.platform = _str(d.get("platform")) or ""
    impl = d.get("impl")
    if isinstance(impl, tuple) and len(impl) == 2 and isinstance(impl[1], tuple):
        facts.implementation = f"{_str(impl[0])} {'.'.join(str(x) for x in impl[1])}"
    facts.build, facts.unique_id = _str(d.get("build")), _str(d.get("uid"))
    freq = d.get("freq")
    facts.freq = freq[0] if isinstance(freq, tuple) and freq else _int(freq)
    heap = d.get("heap")
    if isinstance(heap, tuple) and len(heap) == 2 and all(_int(x) is not None for x in heap):
        facts.heap_free, facts.heap_total = heap[0], heap[0] + heap[1]
    fs = d.get("fs")
    if isinstance(fs, tuple) and len(fs) >= 4 and all(_int(x) is not None for x in fs[:4]):
        block = fs[1] or fs[0]  # f_frsize, else f_bsize
        facts.fs_size, facts.fs_free = block * fs[2], block * fs[3]
    facts.mpy = _int(d.get("mpy"))
    facts.agent = _str(d.get("agent")) or ("installed" if d.get("agent_dir") is True else None)
    facts.ota_release = _str(d.get("release"))
    facts.modules = module_names(modules)
    return facts


def module_names(text: str) -> list[str]:
    """help('modules') output to the top-level names, sorted (`asyncio/core` is `asyncio`)."""
    names = set()
    for line in text.splitlines():
        if line.startswith("Plus any modules"):
            break
        for word in line.split():
            top = word.split("/")[0]
            if top.isidentifier() and top != "__main__":
                names.add(top)
    return sorted(names)


def link_text(session: Session) -> str:
    """The link's kind and profile: `virtual (fast)`, `serial 115200 baud`, `webrepl`, ..."""
    transport = session.transport
    kind: str = session.address.kind
    link, baudrate = getattr(transport, "link", None), getattr(transport, "baudrate", None)
    if link is not None:
        return f"{kind} ({link})"
    if baudrate:
        return f"{kind} {baudrate} baud"
    return kind


async def board_facts(session: Session) -> BoardFacts:
    """Ask the board (one round trip), then time an empty one."""
    out = await session.exec(PROBE, timeout=20)
    facts = parse(out.decode("utf-8", "replace"))
    facts.link = link_text(session)
    start = time.perf_counter()
    await session.exec("")
    facts.round_trip = time.perf_counter() - start
    return facts


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
