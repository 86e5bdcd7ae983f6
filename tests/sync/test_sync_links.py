"""Sync on the link profiles of a real board (the `link_profile` fixture: the fast link, a
115200-baud UART whose 256-byte ring drops what overflows it, an ESP8266 with its ~40 KB heap):
first sync, nothing again, one change, deletions; a 200-file project on the ESP8266's heap.
Every byte is read back from the board's folder, and no byte may be lost to the ring."""

from __future__ import annotations

import pytest
from helpers import session_on
from synchelp import board_files, make_tree

from mptui.services.boardfs import BoardFSAdapter
from mptui.services.localfs import LocalFS
from mptui.services.sync import Syncer, SyncOptions

PROJECT = {
    "main.py": "import lib.util\nprint(lib.util.VALUE)\n",
    "lib/__init__.py": "",
    "lib/util.py": "VALUE = 42\n" + "# padding\n" * 100,
    "lib/data/every byte.bin": bytes(range(256)) * 4,
    "notes.log": "not for the board\n",
    ".mptuiignore": "*.log\n",
}
SYNCED = {k: v.encode() if isinstance(v, str) else v for k, v in PROJECT.items()
          if not k.endswith(".log") and not k.startswith(".")}


@pytest.fixture
async def linked(link_profile, board_root):
    async with session_on(link_profile.address("synclink"), board_root) as s:
        yield s


def syncer(session, project, **options) -> Syncer:
    return Syncer(LocalFS(), project, BoardFSAdapter(session), "/", SyncOptions(**options))


async def test_sync_on_every_link(linked, board_root, tmp_path):
    project = tmp_path / "project"
    make_tree(project, PROJECT)
    make_tree(board_root, {"stale.py": "old"})
    result = await syncer(linked, project).apply(await syncer(linked, project).plan())
    assert result.copied == len(SYNCED)
    assert board_files(board_root) == {**SYNCED, "stale.py": b"old"}

    plan = await syncer(linked, project).plan()  # a fresh start: hashes from the board
    assert not plan.to_copy

    (project / "lib" / "util.py").write_text("VALUE = 43\n")
    plan = await syncer(linked, project, delete=True).plan()
    assert [i.path for i in plan.to_copy] == ["lib/util.py"]
    result = await syncer(linked, project, delete=True).apply(plan)
    assert (result.copied, result.deleted) == (1, 1)
    assert board_files(board_root) == {**SYNCED, "lib/util.py": b"VALUE = 43\n"}
    out = await linked.exec("import main", timeout=30)
    assert out.strip() == b"43"


@pytest.mark.parametrize("link_profile", ["esp8266"], indirect=True)
async def test_two_hundred_files_on_an_esp8266(linked, board_root, tmp_path):
    files = {f"pkg/m{i:03}.py": f"N = {i}\n" + "#" * (i % 50) + "\n" for i in range(200)}
    make_tree(tmp_path / "project", files)
    result = await syncer(linked, tmp_path / "project").apply(
        await syncer(linked, tmp_path / "project").plan())
    assert result.copied == 200
    assert board_files(board_root) == {k: v.encode() for k, v in files.items()}
    plan = await syncer(linked, tmp_path / "project").plan()
    assert not plan.to_copy and len(plan.items) == 200
