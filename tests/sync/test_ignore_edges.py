"""Ignore rules at their edges: patterns gitignore reads in one particular way, rules from
several folders, and the walk over a real folder (links, a folder that cannot be read, what
it reports). The common cases and the comparison with git: test_ignore_rules.py."""

from __future__ import annotations

import shutil

import pytest
from synchelp import make_tree

from mptui.services.ignore import (
    DEFAULT_PATTERNS,
    IgnoreRules,
    UploadPolicy,
    parse_line,
    walk,
)


def rules(*lines: str, defaults=()) -> IgnoreRules:
    r = IgnoreRules(defaults=defaults)
    r.add("", list(lines))
    return r


@pytest.mark.parametrize(
    ("pattern", "path", "is_dir", "ignored"),
    [
        ("x ", "x", False, True),  # one trailing space dropped
        ("x ", "x ", False, False),
        ("x\\  ", "x ", False, True),  # an escaped space kept, the one after it dropped
        ("[abc", "[abc", False, True),  # an unterminated [ is a literal
        ("[abc", "a", False, False),
        ("a[bc", "a[bc", False, True),
        ("\\*.txt", "*.txt", False, True),  # an escaped * outside brackets
        ("\\*.txt", "a.txt", False, False),
        ("[\\*]x", "*x", False, True),  # and inside them
        ("[\\*]x", "ax", False, False),
        ("[\\]]x", "]x", False, True),
        ("[]a]x", "]x", False, True),  # a ] first in brackets is one of them
        ("[]a]x", "ax", False, True),
        ("[]a]x", "bx", False, False),
        ("[^a]x", "bx", False, True),  # ^ negates as ! does
        ("[^a]x", "ax", False, False),
        ("[!a]x", "/x", False, False),  # a negated class never matches a /
        ("[a-]x", "-x", False, True),  # a - at the end is a literal
        ("[a-]x", "bx", False, False),
        ("[-a]x", "-x", False, True),  # and at the start
        ("[a-c-e]x", "-x", False, True),
        ("[a\\-c]x", "bx", False, False),  # an escaped - is no range
        ("[a\\-c]x", "-x", False, True),
        ("[[:upper:]]x", "Qx", False, True),
        ("[[:upper:]]x", "qx", False, False),
        ("[[:space:][:digit:]]x", "5x", False, True),
        ("[[:bogus:]]x", "[x", False, False),  # not a class: [ : b o g u s then ]x
        ("[[:bogus:]]x", ":]x", False, True),
        ("[[:alphaX", "[[:alphaX", False, True),  # no ':]': literal, not the class alpha
        ("**", "a/b/c", False, True),  # a bare ** is everything
        ("**", "a", True, True),
        ("**/", "a", False, False),  # ... folders only, with a slash
        ("**/", "a/b", True, True),
        ("a/**", "a", True, False),  # what is inside a, not a itself
        ("a/**", "a/b/c", False, True),
        ("**/a/**", "x/a/b", False, True),
        ("a/**/b/**/c", "a/b/c", False, True),
        ("a/**/b/**/c", "a/x/b/y/z/c", False, True),
        ("a/**/b/**/c", "a/x/c", False, False),
        ("/a/b", "a/b", False, True),
        ("/a/b", "x/a/b", False, False),
        ("a/b/", "a/b", True, True),  # anchored by its middle slash, folder only
        ("a/b/", "x/a/b", True, False),
        ("x\\/", "x", True, False),  # an escaped trailing slash is no folder rule
        ("x.*", "x.\nz", False, True),  # * and ? take a newline (a name may hold one)
        ("?", "\n", False, True),
        ("x\\", "x\\", False, True),  # a trailing backslash: itself (git: matches nothing)
        ("[x\\", "[x\\", False, True),
    ],
)
def test_one_pattern_at_its_edges(pattern, path, is_dir, ignored):
    assert rules(pattern).is_ignored(path, is_dir) is ignored


def test_what_a_line_becomes():
    assert parse_line("/") is None and parse_line("\r\n") is None and parse_line("  ") is None
    p = parse_line("!build/\r\n", "sub/.mptuiignore")
    assert (p.text, p.negate, p.dir_only, p.source) == ("build", True, True, "sub/.mptuiignore")
    p = parse_line("\\!x")
    assert (p.text, p.negate, p.dir_only) == ("!x", False, False)
    assert parse_line("\\#x").text == "#x" and parse_line("#x") is None
    assert parse_line("a b  ").text == "a b"
    assert parse_line("trail\\ ").text == "trail\\ "
    assert parse_line("x/").describe() == "rule 'x/'"
    assert parse_line("x", "d/.mptuiignore").describe() == "d/.mptuiignore rule 'x'"


def test_added_rules_and_the_defaults_of_the_questions():
    r = rules("build/")
    r.add("/sub/", ["x"])  # slashes around a folder's name are dropped
    assert r.is_ignored("sub/x") and not r.is_ignored("x")
    assert r.why("sub/x") == "sub/.mptuiignore rule 'x'"
    assert r.match("build", True) is True and r.match("build", False) is False
    assert not r.is_ignored("build") and r.why("build") is None  # a file, unless told
    assert r.is_ignored("build", True) and r.why("build", True) == ".mptuiignore rule 'build/'"


def test_sibling_folders_each_keep_their_rules(tmp_path):
    make_tree(tmp_path, {"a/.mptuiignore": "x.txt\n", "a/x.txt": "", "a/y.txt": "",
                         "b/.mptuiignore": "y.txt\n", "b/x.txt": "", "b/y.txt": "",
                         "c/.mptuiignore": "!z.txt\n", "c/z.txt": "", "z.txt": "",
                         ".mptuiignore": "z.txt\n"})
    r = IgnoreRules(defaults=(".mptuiignore",), root=tmp_path)
    assert sorted(rel for rel, _ in walk(r)) == ["a", "a/y.txt", "b", "b/x.txt", "c", "c/z.txt"]
    assert r.why("a/x.txt") == "a/.mptuiignore rule 'x.txt'"
    assert r.why("b/y.txt") == "b/.mptuiignore rule 'y.txt'"
    assert r.why("z.txt") == ".mptuiignore rule 'z.txt'" and r.why("c/z.txt") is None


def test_rules_above_a_changed_path_are_read(tmp_path):
    """A watch that did not sync first learns of one file: the rules of every folder above
    it apply, each file read once."""
    make_tree(tmp_path, {".mptuiignore": "*.log\n", "a/.mptuiignore": "*.tmp\n",
                         "a/b/.mptuiignore": "!keep.log\nsecret\n", "a/b/c/f": ""})
    r = IgnoreRules(defaults=(), root=tmp_path)
    r.load_above("a/b/c/f")
    assert r.is_ignored("a/b/c/x.log") and r.is_ignored("a/b/c/x.tmp")
    assert not r.is_ignored("a/b/keep.log") and r.is_ignored("a/b/c/secret", True)
    assert r.is_ignored("a/b/secret/f")  # inside an ignored folder
    assert r.why("a/b/secret/f") == "in a/b/secret/: a/b/.mptuiignore rule 'secret'"
    (tmp_path / "a" / ".mptuiignore").write_text("")  # read once: not again
    r.load_above("a/b/c/f")
    assert r.is_ignored("a/b/c/x.tmp")
    assert not IgnoreRules(defaults=()).match("x", False)  # no root: nothing to read
    IgnoreRules(defaults=()).load_above("a/b")  # (and no error)


def test_walk_never_follows_a_link_to_a_folder(tmp_path):
    outside = tmp_path / "outside"
    make_tree(outside, {"deep/f.py": "", "g.py": ""})
    root = tmp_path / "root"
    make_tree(root, {"main.py": "", "in.py": ""})
    (root / "linked").symlink_to(outside / "deep", target_is_directory=True)
    (root / "file_out.py").symlink_to(outside / "g.py")
    (root / "file_in.py").symlink_to(root / "in.py")
    errors: list[str] = []
    got = [rel for rel, _ in walk(IgnoreRules(defaults=(), root=root), errors=errors)]
    assert got == ["file_in.py", "in.py", "main.py"]
    assert errors == [
        "file_out.py: a link to a file outside the folder; skipped (--follow-symlinks sends it)",
        "linked: a link to a folder; not followed"]
    got = [rel for rel, _ in walk(IgnoreRules(defaults=(), root=root), errors=errors,
                                  follow_symlinks=True)]
    assert got == ["file_in.py", "file_out.py", "in.py", "main.py"]


def test_a_folder_that_cannot_be_read_is_reported_and_the_walk_goes_on(tmp_path):
    make_tree(tmp_path, {"a/x.py": "", "b/y.py": "", "c.py": ""})
    errors: list[str] = []
    got = []
    for rel, _ in walk(IgnoreRules(defaults=(), root=tmp_path), errors=errors):
        got.append(rel)
        if rel == "b":  # listed, then gone before the walk goes in (it is walked first)
            shutil.rmtree(tmp_path / "b")
    assert got == ["a", "b", "c.py", "a/x.py"]
    assert errors == ["b: cannot read (No such file or directory)"]
    errors.clear()
    assert list(walk(IgnoreRules(defaults=(), root=tmp_path / "gone"), errors=errors)) == []
    assert errors == [".: cannot read (No such file or directory)"]


def test_walk_reports_what_it_skips(tmp_path):
    make_tree(tmp_path, {".mptuiignore": "build/\n*.log\n", "build/x.py": "", "a.log": "",
                         "s/.mptui-secrets.toml": "k", "s/m.py": "", "t.mptui~": ""})
    errors: list[str] = []
    skipped: list = []
    r = IgnoreRules(root=tmp_path)
    got = [rel for rel, _ in walk(r, errors=errors, skipped=skipped)]
    assert got == ["s", "s/m.py"]
    assert skipped == [(".mptuiignore", "default rule '.mptuiignore'"),
                       ("a.log", ".mptuiignore rule '*.log'"),
                       ("build/", ".mptuiignore rule 'build/'"),
                       ("t.mptui~", "mptui's temporary file (*.mptui~)")]
    assert errors == [("s/.mptui-secrets.toml: mptui's OTA secrets file (built in): never sent "
                      "to a board")]
    assert [rel for rel, _ in walk(r, start="s")] == ["s/m.py"]


def test_virtualenvs_by_their_marker_file(tmp_path):
    make_tree(tmp_path, {"env1/pyvenv.cfg": "", "env1/lib/x.py": "", "plain/x.py": "",
                         "venv/x.py": ""})
    r = IgnoreRules(root=tmp_path)
    assert r.is_ignored("env1", True) and r.why("env1/lib/x.py") == (
        "in env1/: default rule '(folders holding pyvenv.cfg)'")
    assert not r.is_ignored("env1", False)  # a file of that name is no virtualenv
    assert not r.is_ignored("plain", True) and r.is_ignored("venv", True)
    no_venvs = IgnoreRules(defaults=tuple(p for p in DEFAULT_PATTERNS if "pyvenv" not in p),
                           root=tmp_path)
    assert not no_venvs.is_ignored("env1", True)
    assert not IgnoreRules(root=None).is_ignored("env1", True)


def test_the_secrets_file_a_project_names(tmp_path):
    make_tree(tmp_path, {"mptui.toml": '[ota]\nsecrets = "keys/my [s]*.toml"\n',
                         "keys/my [s]*.toml": "", "keys/other.toml": "", "app/x": ""})
    r = IgnoreRules(defaults=(), root=tmp_path)
    assert r.is_ignored("keys/my [s]*.toml") and r.is_ignored("keys/my [s]*.toml.tmp")
    assert not r.is_ignored("keys/my s.toml") and not r.is_ignored("keys/other.toml")
    r.add("", ["!keys/my [[]s]*.toml"])  # built in: no rule takes it back
    assert r.is_ignored("keys/my [s]*.toml")
    assert IgnoreRules(defaults=(), root=tmp_path / "keys").builtin("my [s]*.toml")
    assert IgnoreRules(defaults=(), root=tmp_path / "app").builtin("my [s]*.toml") is None
    (tmp_path / "mptui.toml").write_text("[ota]\nsecrets = 3\n")
    assert not IgnoreRules(defaults=(), root=tmp_path).is_ignored("keys/my [s]*.toml")
    (tmp_path / "mptui.toml").write_text("not toml [")
    assert not IgnoreRules(defaults=(), root=tmp_path).is_ignored("keys/my [s]*.toml")


def test_upload_policy_allows_keys_by_pattern():
    key = b"-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n"
    policy = UploadPolicy(allowed=("certs/*.pem",), how="allow_secrets sends it")
    assert policy.refuse("certs/dev.pem", key) is None
    assert policy.refuse("other.pem", key) == (
        "other.pem: looks like a private key (PEM): skipped (allow_secrets sends it)")
    assert UploadPolicy(allow_secrets=True).refuse("k.pem", key) is None
    assert UploadPolicy().refuse("k.pem", b"hello") is None
    assert not UploadPolicy().follow_symlinks and not UploadPolicy().allow_secrets
