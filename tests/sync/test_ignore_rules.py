"""Ignore rules: gitignore syntax, checked case by case and against git itself."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from synchelp import make_tree

from mptui.services.ignore import IgnoreRules, parse_line, walk


def rules(*lines: str, defaults=()) -> IgnoreRules:
    r = IgnoreRules(defaults=defaults)
    r.add("", list(lines))
    return r


@pytest.mark.parametrize(
    ("pattern", "path", "is_dir", "ignored"),
    [
        ("*.pyc", "a.pyc", False, True),
        ("*.pyc", "deep/er/a.pyc", False, True),
        ("*.pyc", "a.py", False, False),
        ("build/", "build", True, True),
        ("build/", "build", False, False),  # folders only
        ("build/", "src/build", True, True),  # a trailing slash does not anchor
        ("/top.txt", "top.txt", False, True),
        ("/top.txt", "sub/top.txt", False, False),
        ("doc/*.txt", "doc/a.txt", False, True),
        ("doc/*.txt", "doc/x/a.txt", False, False),  # * stops at /
        ("doc/*.txt", "x/doc/a.txt", False, False),  # a middle slash anchors
        ("**/cache", "cache", True, True),
        ("**/cache", "a/b/cache", True, True),
        ("a/**/z", "a/z", False, True),
        ("a/**/z", "a/b/c/z", False, True),
        ("a/**/z", "b/a/z", False, False),
        ("lib/**", "lib/x/y.py", False, True),
        ("lib/**", "lib", True, False),
        ("file?.txt", "file1.txt", False, True),
        ("file?.txt", "file12.txt", False, False),
        ("[a-c]x", "bx", False, True),
        ("[a-c]x", "dx", False, False),
        ("[!a-c]x", "dx", False, True),
        ("[!a-c]x", "ax", False, False),
        ("[[:digit:]]*.log", "7days.log", False, True),
        ("\\#x", "#x", False, True),
        ("\\!x", "!x", False, True),
        ("x\\ ", "x ", False, True),
        ("x  ", "x", False, True),  # unescaped trailing spaces are dropped
        ("foo**bar", "fooXbar", False, True),
        ("foo**bar", "foo/bar", False, False),
    ],
)
def test_one_pattern(pattern, path, is_dir, ignored):
    assert rules(pattern).is_ignored(path, is_dir) is ignored


def test_comments_and_blanks_are_not_patterns():
    assert parse_line("# a comment") is None
    assert parse_line("   ") is None
    assert parse_line("") is None


def test_last_match_wins_and_negation():
    r = rules("*.log", "!keep.log")
    assert r.is_ignored("a.log")
    assert not r.is_ignored("keep.log")
    assert rules("!keep.log", "*.log").is_ignored("keep.log")


def test_nothing_inside_an_ignored_folder_comes_back():
    r = rules("deep/", "!deep/inner.txt")
    assert r.is_ignored("deep/inner.txt")


def test_a_deeper_file_overrides_a_shallower_one():
    r = rules("*.log")
    r.add("sub", ["!b.log", "/anchored.txt"])
    assert r.is_ignored("b.log")
    assert not r.is_ignored("sub/b.log")
    assert r.is_ignored("sub/anchored.txt")
    assert not r.is_ignored("anchored.txt")
    assert not r.is_ignored("sub/x/anchored.txt")


def test_defaults_and_temporary_files():
    r = IgnoreRules()
    assert r.is_ignored(".git", True)
    assert r.is_ignored("lib/__pycache__/x.cpython-311.pyc")
    assert r.is_ignored("a.pyc")
    assert r.is_ignored(".mptuiignore")
    assert r.is_ignored("main.py.mptui~")
    assert not r.is_ignored("main.py")
    r.add("", ["!*.pyc", "!*.mptui~"])  # defaults can be undone, mptui's own temp files not
    assert not r.is_ignored("a.pyc")
    assert r.is_ignored("main.py.mptui~")


ROOT_RULES = """\
# comment
*.log
!keep.log
build/
/only_root.txt
docs/**/*.md
**/cache
a/**/z.txt
secret?.txt
[abc]x.dat
[!d]y.dat
\\#hash.txt
\\!bang.txt
trail.txt\\ 
lib/*.tmp
deep/
!deep/inner.txt
foo/bar/
"""
NESTED_RULES = """\
!b.log
/anch.txt
*.py
"""
FILES = [
    "a.log", "keep.log", "sub/b.log", "sub/keep.log", "sub/c.log",
    "build/x.py", "sub/build/y.py", "src/build",
    "only_root.txt", "sub/only_root.txt",
    "docs/a.md", "docs/x/y/b.md", "docs/c.txt", "other/docs/d.md",
    "cache/k", "sub/cache/k", "sub/cachex/k",
    "a/z.txt", "a/b/z.txt", "a/b/c/z.txt", "b/a/z.txt",
    "secret1.txt", "secret12.txt",
    "ax.dat", "dx.dat", "ay.dat", "dy.dat",
    "#hash.txt", "!bang.txt", "trail.txt ", "trail.txt",
    "lib/t.tmp", "lib/sub/t.tmp",
    "deep/inner.txt", "deep/other.txt",
    "foo/bar/x", "x/foo/bar/y", "foo/baz",
    "sub/anch.txt", "sub/d/anch.txt", "anch.txt", "sub/m.py", "m.py",
]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_same_files_as_git(tmp_path):
    """The files our walk keeps are exactly those git does not ignore."""
    make_tree(tmp_path, {f: f for f in FILES})
    for name in (".gitignore", ".mptuiignore"):
        (tmp_path / name).write_text(ROOT_RULES)
        (tmp_path / "sub" / name).write_text(NESTED_RULES)
    env = {**os.environ, "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, env=env)
    out = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard", "-z"],
        cwd=tmp_path, check=True, capture_output=True, env=env,
    ).stdout
    by_git = {p.decode() for p in out.split(b"\0") if p}

    ours = IgnoreRules(defaults=(".git",), root=tmp_path)
    kept = {rel for rel, entry in walk(ours) if entry.is_file()}
    assert kept == by_git
    assert "keep.log" in kept and "sub/b.log" in kept and "deep/inner.txt" not in kept
