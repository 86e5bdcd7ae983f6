"""The copier at its edges, against a real (virtual) board: what a copy counts, unchanged
files both ways, `force`, a folder into itself, a file named on its own that may not go, a
move on one side and across, what a plan holds. The common cases: test_copier.py; hostile
names: test_copy_traversal.py."""

from __future__ import annotations

import os

import pytest
from synchelp import board_files, make_tree

from mptui.services.boardfs import BoardFSAdapter
from mptui.services.copier import (
    Copier,
    CopyOptions,
    UnsafeName,
    check_name,
    copy_paths,
    move_paths,
)
from mptui.services.ignore import UploadPolicy
from mptui.services.localfs import LocalFS

KEY = b"-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n"


def test_a_name_that_is_not_one_component_is_refused_with_errno_22():
    assert check_name("ok.py") == "ok.py"
    with pytest.raises(UnsafeName) as e:
        check_name("C:evil")
    assert (e.value.errno, e.value.strerror, e.value.filename) == (
        22, "not a plain name (starts with a drive letter)", "'C:evil'")


async def test_what_a_copy_counts_both_ways(tmp_path, session, board_root):
    src = tmp_path / "src"
    make_tree(src / "p", {"a.py": "aaaa", "d/b.py": "bb", "d/e/c.bin": bytes(300)})
    local, board = LocalFS(), BoardFSAdapter(session)
    copier = Copier()
    await copier.add(local, str(src / "p"), board, "/p")
    assert copier.plan.bytes == 306 and len(copier.plan.files) == 3
    result = await copier.run()
    assert (result.files, result.folders, result.bytes, result.unchanged) == (3, 3, 306, 0)
    assert board_files(board_root) == {"p/a.py": b"aaaa", "p/d/b.py": b"bb",
                                       "p/d/e/c.bin": bytes(300)}

    (src / "p" / "a.py").write_text("AAAA")  # same size, other bytes: copied
    result = await copy_paths(local, [str(src / "p")], board, "/")
    assert (result.files, result.unchanged, result.bytes) == (1, 2, 4)
    assert (board_root / "p" / "a.py").read_bytes() == b"AAAA"
    result = await copy_paths(local, [str(src / "p")], board, "/", options=CopyOptions(force=True))
    assert (result.files, result.unchanged) == (3, 0)

    down = tmp_path / "down"
    down.mkdir()
    result = await copy_paths(board, ["/p"], local, str(down))  # board -> here
    assert (result.files, result.unchanged) == (3, 0)
    (board_root / "p" / "d" / "b.py").write_bytes(b"BB")  # same size on the board
    result = await copy_paths(board, ["/p"], local, str(down))
    assert (result.files, result.unchanged, result.bytes) == (1, 2, 2)
    assert (down / "p" / "d" / "b.py").read_bytes() == b"BB"
    result = await copy_paths(board, ["/p/a.py"], local, str(down / "p"))  # one file, the same
    assert (result.files, result.unchanged) == (0, 1)


async def test_a_folder_where_a_file_goes_and_into_itself(tmp_path, session, board_root):
    local, board = LocalFS(), BoardFSAdapter(session)
    make_tree(tmp_path / "src", {"x/f.py": "f"})
    make_tree(board_root, {"x": "a file where the folder goes"})
    result = await copy_paths(local, [str(tmp_path / "src" / "x")], board, "/dst")
    assert result.files == 1 and board_files(board_root)["dst/x/f.py"] == b"f"
    with pytest.raises(OSError, match="cannot copy a folder into itself") as e:
        await copy_paths(board, ["/dst"], board, "/dst/x")
    assert e.value.errno == 22
    with pytest.raises(OSError, match="cannot copy a folder into itself"):
        await copy_paths(local, [str(tmp_path / "src")], local, str(tmp_path / "src"))


async def test_a_file_named_on_its_own_that_may_not_go(tmp_path, session, board_root):
    local, board = LocalFS(), BoardFSAdapter(session)
    make_tree(tmp_path, {".mptui-secrets.toml": "k", "k.pem": KEY, "ok.py": "ok"})
    names = [str(tmp_path / n) for n in (".mptui-secrets.toml", "k.pem", "ok.py")]
    result = await copy_paths(local, names, board, "/")
    assert result.refused == (
        f"{names[0]}: mptui's OTA secrets file (built in): never sent to a board",
        f"{names[1]}: looks like a private key (PEM): skipped (--allow-secrets sends it)")
    assert result.warnings == () and board_files(board_root) == {"ok.py": b"ok"}
    allow = CopyOptions(policy=UploadPolicy(allow_secrets=True))
    result = await copy_paths(local, names, board, "/", options=allow)
    assert len(result.refused) == 1 and set(board_files(board_root)) == {"ok.py", "k.pem"}
    down = tmp_path / "down"  # from a board nothing is refused: it is the user's own
    down.mkdir()
    (board_root / ".mptui-secrets.toml").write_text("k")
    result = await copy_paths(board, ["/.mptui-secrets.toml"], local, str(down))
    assert result.refused == () and (down / ".mptui-secrets.toml").read_text() == "k"
    result = await copy_paths(local, names[:2], local, str(down))  # nor here to here
    assert result.refused == () and (down / "k.pem").read_bytes() == KEY


async def test_a_folders_warnings_and_ignored_name_the_source(tmp_path, session, board_root):
    local, board = LocalFS(), BoardFSAdapter(session)
    make_tree(tmp_path / "p", {"k.pem": KEY, "a.pyc": b"x", "m.py": "m"})
    copier = Copier()
    await copier.add(local, str(tmp_path / "p"), board, "/p")
    assert copier.plan.ignored == [(os.path.join(str(tmp_path / "p"), "a.pyc"), "default rule '*.pyc'")]
    assert copier.plan.warnings == [(f"{tmp_path / 'p' / 'k.pem'}: looks like a private key "
                                    "(PEM): skipped (--allow-secrets sends it)")]
    assert copier.plan.refused == []
    await copier.run()
    assert board_files(board_root) == {"p/m.py": b"m"}
    result = await copy_paths(local, [str(tmp_path / "p")], board, "/all",
                              options=CopyOptions(ignore=False))
    assert set(board_files(board_root / "all")) == {"p/a.pyc", "p/m.py"}  # the key: never
    assert result.warnings


async def test_moves(tmp_path, session, board_root):
    local, board = LocalFS(), BoardFSAdapter(session)
    make_tree(board_root, {"a/x.py": "x"})
    (board_root / "b").mkdir()
    result = await move_paths(board, ["/a"], board, "/b")  # one side: a rename
    assert (result.files, result.folders, result.bytes, result.unchanged) == (0, 0, 0, 0)
    assert board_files(board_root) == {"b/a/x.py": b"x"}
    make_tree(tmp_path / "src", {"m/one.py": "1", "m/sub/two.py": "2"})
    result = await move_paths(local, [str(tmp_path / "src" / "m")], board, "/")
    assert result.files == 2 and not (tmp_path / "src" / "m").exists()
    assert board_files(board_root)["m/sub/two.py"] == b"2"
    make_tree(tmp_path / "src", {"n/keep.pyc": b"c", "n/go.py": "g", "n/sub/go2.py": "g",
                                 "n/sub2/k.pem": KEY})
    await move_paths(local, [str(tmp_path / "src" / "n")], board, "/")
    left = sorted(p.relative_to(tmp_path / "src").as_posix()
                  for p in (tmp_path / "src").rglob("*"))
    assert left == ["n", "n/keep.pyc", "n/sub2", "n/sub2/k.pem"]  # what went is gone, and the
    assert board_files(board_root)["n/sub/go2.py"] == b"g"  # folders it left empty


async def test_unchanged_files_cost_no_round_trip_each(tmp_path, session, board_root):
    """A board hashes a whole folder at once, and what goes up is hashed as it is read:
    nothing asks for one file's hash (a round trip, or a second read, each)."""
    local, board = LocalFS(), BoardFSAdapter(session)
    make_tree(board_root, {"p/a.py": "a", "p/d/b.py": "b"})
    make_tree(tmp_path / "here", {"p/a.py": "a", "p/d/b.py": "b"})
    asked = []
    for fs in (local, board):
        one = fs.sha256

        async def counted(path, one=one):
            asked.append(path)
            return await one(path)

        fs.sha256 = counted
    down = await copy_paths(board, ["/p"], local, str(tmp_path / "here"))
    up = await copy_paths(local, [str(tmp_path / "here" / "p")], board, "/")
    assert (down.unchanged, up.unchanged, down.files, up.files) == (2, 2, 0, 0)
    assert asked == []


async def test_what_a_folder_leaves_out_and_what_turns_secret_before_the_run(
        tmp_path, session, board_root):
    local, board = LocalFS(), BoardFSAdapter(session)
    make_tree(tmp_path / "elsewhere", {"x.py": "x"})
    make_tree(tmp_path / "p", {"a.py": "a", "b.py": "b"})
    (tmp_path / "p" / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    copier = Copier()
    await copier.add(local, str(tmp_path / "p"), board, "/p")
    assert copier.plan.warnings == [f"{tmp_path / 'p' / 'linked'}: a link to a folder; not followed"]
    (tmp_path / "p" / "a.py").write_bytes(KEY)  # a key since the plan: checked as it is sent
    result = await copier.run()
    assert result.files == 1 and board_files(board_root) == {"p/b.py": b"b"}
    assert result.refused == () and result.warnings[-1] == (
        f"{tmp_path / 'p' / 'a.py'}: looks like a private key (PEM): skipped (--allow-secrets "
        "sends it)")
