"""`mptui mip install` against a package index served here on 127.0.0.1 (no network): deps,
versions, .mpy for the board's version or source, github: through a mirror, and hostile
indexes (bad names, hashes, JSON, sizes) refused with one line and nothing written."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading

import pytest
from helpers import run_cli

from mptui.services import mip
from mptui.services.mip import MipError, MipSource, resolve, split_spec


def short(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:8]


class Index:
    """An index server: path -> bytes; every request path is recorded."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                index.requests.append(self.path)
                body = index.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def file(self, data: bytes) -> str:
        """Serve data as an index file; its short hash."""
        h = short(data)
        self.files[f"/file/{h[:2]}/{h}"] = data
        return h

    def package(self, mpy: str, name: str, version: str, doc) -> None:
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        self.files[f"/package/{mpy}/{name}/{version}.json"] = body

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


FOO_MPY, FOO_PY, FOO_1 = b"M\x06foo-compiled", b"X = 'foo source'\n", b"X = 'foo 1.0'\n"
BAR_MPY, BAR_PY = b"M\x06bar-compiled", b"Y = 'bar source'\n"
GH_X, GH_Y = b"X = 'from github'\n", b"Y = 'relative url'\n"


@pytest.fixture
def index():
    ix = Index()
    for mpy, foo, bar, ext in (("6", FOO_MPY, BAR_MPY, "mpy"), ("py", FOO_PY, BAR_PY, "py")):
        ix.package(mpy, "foo", "latest", {"hashes": [[f"foo/__init__.{ext}", ix.file(foo)]],
                                          "deps": [["bar", "latest"]], "version": "2.0"})
        ix.package(mpy, "bar", "latest", {"hashes": [[f"bar.{ext}", ix.file(bar)]],
                                          "deps": [["foo", "latest"]]})  # a cycle: once each
        ix.package(mpy, "qux", "latest", {"hashes": [[f"qux/__init__.{ext}", ix.file(foo)]],
                                          "deps": [["baz", "latest"]]})  # no cycle (mpremote
        ix.package(mpy, "baz", "latest", {"hashes": [[f"baz.{ext}", ix.file(bar)]]})  # loops)
    ix.package("py", "foo", "1.0", {"hashes": [["foo/__init__.py", ix.file(FOO_1)]]})
    # github:org/repo through the mirror (raw.githubusercontent.com/ORG/REPO/BRANCH/PATH)
    gh = "/raw.githubusercontent.com/org/repo"
    ix.files[f"{gh}/HEAD/package.json"] = json.dumps({
        "urls": [["gh/x.py", "github:org/repo/src/x.py"], ["gh/y.py", "src/y.py"]],
        "deps": [["bar", ""]]}).encode()
    ix.files[f"{gh}/HEAD/src/x.py"] = GH_X
    ix.files[f"{gh}/HEAD/src/y.py"] = GH_Y
    ix.files[f"{gh}/v2/package.json"] = json.dumps({"urls": [["gh/x.py", "src/x.py"]]}).encode()
    ix.files[f"{gh}/v2/src/x.py"] = b"X = 'v2'\n"
    # hostile packages
    ix.package("py", "badhash", "latest", {"hashes": [["bad.py", short(b"the real one")]]})
    ix.files[f"/file/{short(b'the real one')[:2]}/{short(b'the real one')}"] = b"a swapped file"
    ix.package("py", "escape", "latest", {"urls": [["../boot.py", f"{ix.url}/evil.py"]]})
    ix.package("py", "absolute", "latest", {"urls": [["/main.py", f"{ix.url}/evil.py"]]})
    ix.package("py", "badjson", "latest", b"{not json")
    ix.package("py", "local", "latest", {"urls": [["x.py", "file:///etc/passwd"]]})
    ix.files["/evil.py"] = b"print('pwned')\n"
    ix.files["/web/package.json"] = json.dumps({  # a package.json at a URL
        "urls": [["web/a.py", "src/a.py"], ["web/evil.py", f"{ix.url}/evil.py"]],
        "deps": [["baz", "latest"]]}).encode()
    ix.files["/web/src/a.py"] = GH_Y
    yield ix
    ix.close()


@pytest.fixture
def root(isolated_env):
    path = isolated_env / "data" / "boards" / "default"
    path.mkdir(parents=True)
    return path


def mip_cli(index, *args, device="virtual"):
    return run_cli("-d", device, "mip", "install", "--index", index.url, *args,
                   env={mip.MIRROR_ENV: index.url})


def test_package_with_deps_lands_in_lib_as_mpy_for_the_board(index, root):
    r = mip_cli(index, "foo")
    assert r.returncode == 0, r.stderr
    assert (root / "lib" / "foo" / "__init__.mpy").read_bytes() == FOO_MPY
    assert (root / "lib" / "bar.mpy").read_bytes() == BAR_MPY
    assert not (root / "lib" / "bar.py").exists()
    assert "/package/6/foo/latest.json" in index.requests  # the board's mpy version, asked
    assert r.stdout.decode().split() == ["/lib/bar.mpy", "/lib/foo/__init__.mpy"]
    again = mip_cli(index, "foo")  # the board has them: nothing copied
    assert again.returncode == 0 and b"0 copied, 2 unchanged" in again.stderr


def test_no_mpy_version_pin_and_target(index, root):
    r = mip_cli(index, "--no-mpy", "--target", "app/pkgs", "bar", "foo@1.0")
    assert r.returncode == 0, r.stderr
    assert (root / "app" / "pkgs" / "foo" / "__init__.py").read_bytes() == FOO_1
    assert (root / "app" / "pkgs" / "bar.py").read_bytes() == BAR_PY
    assert not (root / "lib").exists()


def test_github_package_json_through_a_mirror(index, root):
    r = mip_cli(index, "--no-mpy", "github:org/repo")
    assert r.returncode == 0, r.stderr
    assert (root / "lib" / "gh" / "x.py").read_bytes() == GH_X
    assert (root / "lib" / "gh" / "y.py").read_bytes() == GH_Y  # relative to package.json
    assert (root / "lib" / "bar.py").read_bytes() == BAR_PY  # its dep, from the index
    r = run_cli("-d", "virtual", "exec", "import bar; print(bar.Y)")  # /lib is on sys.path
    assert r.stdout == b"bar source\r\n", r.stderr
    r = mip_cli(index, "--no-mpy", "github:org/repo@v2")  # a branch
    assert r.returncode == 0, r.stderr
    assert (root / "lib" / "gh" / "x.py").read_bytes() == b"X = 'v2'\n"


def test_a_url_to_a_py_file(index, root):
    r = mip_cli(index, "--target", "/", f"{index.url}/evil.py")
    assert r.returncode == 0, r.stderr
    assert (root / "evil.py").read_bytes() == b"print('pwned')\n"


@pytest.mark.parametrize(("package", "line"), [
    ("badhash", "hash mismatch for bad.py"),
    ("escape", "file name '../boot.py' refused: not a plain relative path ('..' (the folder above))"),
    ("absolute", "file name '/main.py' refused: not a plain relative path (an absolute path)"),
    ("badjson", "not a package.json (bad JSON"),
    ("local", "only http:// and https:// are fetched"),
    ("nosuch", "package nosuch (latest) not found in http://127.0.0.1"),
])
def test_hostile_or_missing_packages_are_refused_and_nothing_written(index, root, package, line):
    r = mip_cli(index, "--no-mpy", package)
    assert r.returncode == 1
    err = r.stderr.decode().strip().splitlines()
    assert err[-1].startswith("mptui: ") and line in err[-1], err
    assert sorted(p.name for p in root.rglob("*")) == []  # nothing, not even /lib


def test_usage_errors(index, root):
    r = run_cli("-d", "virtual", "mip", "install", "--index", "ftp://x", "foo")
    assert r.returncode == 2 and b"--index must be an http(s) URL" in r.stderr
    r = mip_cli(index, "--no-mpy", "a b")
    assert r.returncode == 1 and b"not a package name or URL: 'a b'" in r.stderr
    index.close()  # nothing listens there now
    r = mip_cli(index, "--no-mpy", "foo")
    assert r.returncode == 1
    assert r.stderr.decode().splitlines()[-1] == \
        f"mptui: {index.url}/package/py/foo/latest.json: [Errno 111] Connection refused"


def test_on_a_115200_uart_link(index, isolated_env):
    r = mip_cli(index, "foo", device="virtual:slow?link=uart:115200")
    assert r.returncode == 0, r.stderr
    lib = isolated_env / "data" / "boards" / "slow" / "lib"
    assert (lib / "foo" / "__init__.mpy").read_bytes() == FOO_MPY
    assert (lib / "bar.mpy").read_bytes() == BAR_MPY


# -- the resolver alone --------------------------------------------------------------------


def test_resolver_bounds_and_names(index, monkeypatch):
    source = MipSource(index.url, "py", index.url + "/")
    monkeypatch.setattr(mip, "FILE_LIMIT", 8)
    with pytest.raises(MipError, match="larger than 8 bytes: refused"):
        resolve("foo", None, source)
    monkeypatch.setattr(mip, "FILE_LIMIT", 1024)
    index.package("py", "esc", "latest", {"urls": [["a/\x1b[2J/b.py", "x.py"]]})
    with pytest.raises(MipError) as e:
        resolve("esc", None, source)
    assert "\x1b" not in str(e.value) and "\\x1b" in str(e.value)
    index.package("py", "odd", "latest", {"deps": "foo"})
    with pytest.raises(MipError, match="'deps' is not a list of"):
        resolve("odd", None, source)
    found = resolve("foo", None, source)  # foo -> bar -> foo: each once
    assert found.files == {"foo/__init__.py": FOO_PY, "bar.py": BAR_PY}
    stop, asked = threading.Event(), len(index.requests)
    stop.set()  # Ctrl-C: no further request
    with pytest.raises(MipError, match="stopped"):
        resolve("foo", None, source, stop=stop)
    assert len(index.requests) == asked


def test_split_spec():
    assert split_spec("foo@1.0") == ("foo", "1.0")
    assert split_spec("foo") == ("foo", None)
    assert split_spec("github:org/repo@feature/x") == ("github:org/repo", "feature/x")
    assert split_spec("https://u@host/x.py") == ("https://u@host/x.py", None)
    assert mip.rewrite("gitlab:o/r/p/q.py", "b") == "https://gitlab.com/o/r/-/raw/b/p/q.py"
    assert mip.rewrite("github:o/r", None, "http://m/") == \
        "http://m/raw.githubusercontent.com/o/r/HEAD/"


def tree(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("package", ["qux", "--no-mpy qux", "/web/package.json"])
def test_files_land_where_mpremote_puts_them(index, start_bridge, mpremote, package):
    """The same index, the same package: mpremote's mip and ours leave the same files."""
    theirs, ours = start_bridge(), start_bridge()
    package = package.replace("/web", f"{index.url}/web").split()
    mpremote(theirs.url("socket"), "mip", "install", "--index", index.url, *package)
    r = run_cli("-d", ours.url("socket"), "mip", "install", "--index", index.url, *package)
    assert r.returncode == 0, r.stderr
    assert tree(ours.root) == tree(theirs.root) != {}
