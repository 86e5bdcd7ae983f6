"""mip: MicroPython packages, fetched on THIS computer (a board without network installs too),
checked, and copied to the board by the one copy engine (copier.py), for `mptui mip install`.

    files = await asyncio.to_thread(resolve, "aioble", None, MipSource(mpy="6"))
    result = await install(files, board, "/lib", progress)

What a package can be, as mpremote's mip reads it (its formats, its URLs):
- a name in the index (default micropython.org/pi/v2, micropython-lib):
  `{index}/package/{mpy version or 'py'}/{name}/{version or 'latest'}.json`;
- `github:ORG/REPO[/PATH]`, `gitlab:...`, `codeberg:...` (a branch or tag after `@`), rewritten
  to the host's raw-file URL (through a mirror when MPTUI_MIP_MIRROR or --mirror names one);
- an http(s) URL of a `.py`/`.mpy` file (installed under its own name) or of a package.json.
A package.json has `hashes` ([path, short sha256]: the file is `{index}/file/xx/xxxxxxxx`),
`urls` ([path, URL], relative to the package.json's folder unless absolute) and `deps`
([package, version], installed the same way, each once).

Everything that comes from an index or a URL is hostile: file names must be plain relative
paths (each part one name, as copier.name_problem says), hashes must match, sizes and counts
are bounded, only http(s) is fetched, and every failure is one MipError line naming the URL.
Nothing is written to the board until every file of every package is fetched and checked.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import os
import re
import socket
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from mptui.errors import MptuiError, UsageError
from mptui.services.copier import Copier, CopyOptions, CopyResult, name_problem
from mptui.services.filesystem import FileSystem
from mptui.services.localfs import LocalFS
from mptui.services.transfer import TransferProgress

INDEX = "https://micropython.org/pi/v2"
MIRROR_ENV = "MPTUI_MIP_MIRROR"  # a base URL that serves the hosts' raw files (tests, mirrors)
# org, repo, branch, then the path: the raw-file URL of each host, without its scheme
HOSTS = {
    "github:": "raw.githubusercontent.com/{}/{}/{}/{p}",
    "gitlab:": "gitlab.com/{}/{}/-/raw/{}/{p}",
    "codeberg:": "codeberg.org/api/v1/repos/{}/{}/raw/{p}?ref={}",
}
FETCHED = ("http://", "https://")
FILE_LIMIT = 4 * 1024 * 1024  # bytes of one file
JSON_LIMIT = 1024 * 1024  # bytes of one package.json
TOTAL_LIMIT = 32 * 1024 * 1024  # bytes of everything one install fetches
MAX_FILES = 1000
MAX_PACKAGES = 200  # packages one install may pull in, its deps and theirs
TIMEOUT = 30.0  # seconds for one request to answer
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")  # a package name in the index
_VERSION = re.compile(r"[A-Za-z0-9_.+\-][A-Za-z0-9_.+\-/]*")  # a version, branch or tag
_SHORT_HASH = re.compile(r"[0-9a-f]{8,64}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")  # a URL of its own, not a relative one


class MipError(MptuiError):
    """A package could not be fetched, read or checked (one line, naming the URL)."""


@dataclass(frozen=True)
class MipSource:
    index: str = INDEX
    mpy: str = "py"  # the board's .mpy version ("6"), or "py" for source
    mirror: str = "https://"  # what replaces https:// before a github:/gitlab: host


@dataclass
class Resolved:
    """Every file of a package and its deps (relative path -> bytes), and what was found."""

    files: dict[str, bytes] = field(default_factory=dict)
    packages: list[str] = field(default_factory=list)  # one line each, for the user

    @property
    def size(self) -> int:
        return sum(map(len, self.files.values()))


def split_spec(spec: str) -> tuple[str, str | None]:
    """'name@version' -> (name, version); an '@' inside a URL's path is not a version."""
    name, at, version = spec.rpartition("@")
    if not at or not name or ("/" in version and not name.startswith(tuple(HOSTS))):
        return spec, None
    return name, version or None


def mirror_from_env(value: str | None = None) -> str:
    """The base URL for raw files of github:/gitlab:/codeberg: ('https://' by default)."""
    value = value if value is not None else os.environ.get(MIRROR_ENV, "")
    if not value:
        return "https://"
    if not value.startswith(FETCHED):
        raise UsageError(f"mip: the mirror must be an http(s) URL, not {shown(value)}")
    return value if value.endswith("/") else value + "/"


def resolve(spec: str, version: str | None, source: MipSource,
            say: Callable[[str], None] = lambda line: None,
            stop: threading.Event | None = None) -> Resolved:
    """Fetch and check every file of a package and its deps (blocking: run it in a thread;
    setting `stop` ends it before its next request)."""
    resolver = _Resolver(source, say, stop or threading.Event())
    resolver.package(spec, version)
    return resolver.out


async def install(files: dict[str, bytes], board: FileSystem, target: str,
                  progress: Callable[[TransferProgress], None] | None = None) -> CopyResult:
    """Write checked files under target on the board through the copy engine: folders made
    as needed, each file atomic, files the board has already (same sha256) left alone."""
    with tempfile.TemporaryDirectory(prefix="mptui-mip-") as stage:
        await asyncio.to_thread(_stage, files, stage)
        copier = Copier(CopyOptions(ignore=False), progress)
        await copier.add(LocalFS(), stage, board, target)
        return await copier.run()


def _stage(files: dict[str, bytes], folder: str) -> None:
    """The files in a folder here, as they go under the target."""
    for rel, data in files.items():
        path = os.path.join(folder, *checked_path(rel, "the package").split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def checked_path(path: object, where: str) -> str:
    """A file name from a package.json, when it is a plain relative path ('pkg/mod.py');
    else MipError."""
    if not isinstance(path, str):
        raise MipError(f"{where}: a file name is not a string: {shown(repr(path))}")
    problem = "an absolute path" if path.startswith(("/", "\\")) else None
    if problem is None and re.search(r"[\x00-\x1f\x7f]", path):
        problem = "holds a control character"
    for part in path.split("/") if problem is None else ():
        problem = name_problem(part)
        if problem:
            break
    if problem:
        raise MipError(f"{where}: file name {shown(repr(path))} refused: not a plain "
                       f"relative path ({problem})")
    return path


def shown(text: object, limit: int = 200) -> str:
    """Text from the network as one printable line (control characters escaped), cut short."""
    out = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in str(text))
    return out if len(out) <= limit else out[: limit - 3] + "..."


def rewrite(url: str, branch: str | None, mirror: str = "https://") -> str:
    """github:/gitlab:/codeberg: as the host's raw-file URL (branch HEAD unless given)."""
    for prefix, form in HOSTS.items():
        if url.startswith(prefix):
            parts = url[len(prefix):].split("/")
            if len(parts) < 2 or not parts[0] or not parts[1]:
                raise MipError(f"{shown(url)}: not {prefix}ORG/REPO[/PATH]")
            return mirror + form.format(parts[0], parts[1], branch or "HEAD", p="/".join(parts[2:]))
    return url


def is_url(text: str) -> bool:
    return text.startswith(FETCHED + tuple(HOSTS))


class _Resolver:
    def __init__(self, source: MipSource, say: Callable[[str], None],
                 stop: threading.Event) -> None:
        self.source, self.say, self.stop = source, say, stop
        self.index = source.index.rstrip("/")
        self.out = Resolved()
        self.seen: set[tuple[str, str | None]] = set()
        self.fetched = 0

    def package(self, spec: str, version: str | None) -> None:
        if not isinstance(spec, str) or not spec or (
                version is not None and not isinstance(version, str)):
            raise MipError(f"a dependency that is not a name: {shown(repr(spec))}")
        version = version or None
        if (spec, version) in self.seen:
            return
        self.seen.add((spec, version))
        if len(self.seen) > MAX_PACKAGES:
            raise MipError(f"more than {MAX_PACKAGES} packages: refused")
        if version is not None and not _VERSION.fullmatch(version):
            raise MipError(f"{shown(spec)}: not a version: {shown(repr(version))}")
        if is_url(spec):
            if spec.endswith((".py", ".mpy")):
                name = checked_path(spec.rsplit("/", 1)[-1], shown(spec))
                self.out.packages.append(f"{shown(spec)} -> {name}")
                self._add(name, self._get(rewrite(spec, version, self.source.mirror),
                                          FILE_LIMIT), shown(spec))
                return
            url = spec if spec.endswith(".json") else spec.rstrip("/") + "/package.json"
            self.out.packages.append(shown(url) + (f" ({shown(version)})" if version else ""))
            self._json(url, version, f"{shown(url)}: not found (404)")
            return
        if not _NAME.fullmatch(spec):
            raise MipError(f"not a package name or URL: {shown(repr(spec))}")
        want = version or "latest"
        url = f"{self.index}/package/{self.source.mpy}/{spec}/{want}.json"
        self.out.packages.append(f"{spec} ({want})")
        self._json(url, version, f"package {spec} ({want}) not found in {shown(self.index)} "
                                 f"(for mpy {self.source.mpy})")

    def _json(self, url: str, version: str | None, missing: str) -> None:
        raw = self._get(rewrite(url, version, self.source.mirror), JSON_LIMIT, missing)
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise MipError(f"{shown(url)}: not a package.json (bad JSON: {e})") from None
        if not isinstance(doc, dict):
            raise MipError(f"{shown(url)}: not a package.json (not an object)")
        where, base = shown(url), url.rpartition("/")[0]
        for path, short in _pairs(doc, "hashes", where):
            if not _SHORT_HASH.fullmatch(short):
                raise MipError(f"{where}: not a sha256 (hex) for {shown(path)}: {shown(short)}")
            checked_path(path, where)
            data = self._get(f"{self.index}/file/{short[:2]}/{short}", FILE_LIMIT)
            if not hashlib.sha256(data).hexdigest().startswith(short):
                raise MipError(f"{where}: hash mismatch for {shown(path)} "
                               f"(wanted {short}..., got {hashlib.sha256(data).hexdigest()[:16]}...)")
            self._add(path, data, where)
        for path, link in _pairs(doc, "urls", where):
            checked_path(path, where)
            if _SCHEME.match(link) and not is_url(link):
                raise MipError(f"{where}: {shown(link)}: only http:// and https:// are fetched")
            if not is_url(link):
                link = f"{base}/{link}"
            self._add(path, self._get(rewrite(link, version, self.source.mirror), FILE_LIMIT),
                      where)
        for dep, dep_version in _pairs(doc, "deps", where):
            self.package(dep, dep_version)

    def _add(self, path: str, data: bytes, where: str) -> None:
        if path not in self.out.files and len(self.out.files) >= MAX_FILES:
            raise MipError(f"{where}: more than {MAX_FILES} files: refused")
        self.out.files[checked_path(path, where)] = data

    def _get(self, url: str, limit: int, missing: str = "") -> bytes:
        """The body at url, at most limit bytes (and the install's total), or MipError."""
        if not url.startswith(FETCHED):
            raise MipError(f"{shown(url)}: only http:// and https:// are fetched")
        if self.stop.is_set():
            raise MipError("stopped")
        self.say(url)
        try:
            with _OPENER.open(url, timeout=TIMEOUT) as response:
                data: bytes = response.read(limit + 1)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                raise MipError(missing or f"{shown(url)}: not found (404)") from None
            raise MipError(f"{shown(url)}: HTTP error {e.code} {shown(e.reason)}") from None
        except urllib.error.URLError as e:
            raise MipError(f"{shown(url)}: {shown(e.reason)}") from None
        except (OSError, http.client.HTTPException, ValueError) as e:
            what = "timed out" if isinstance(e, socket.timeout) else shown(str(e) or type(e).__name__)
            raise MipError(f"{shown(url)}: {what}") from None
        if len(data) > limit:
            raise MipError(f"{shown(url)}: larger than {limit} bytes: refused")
        self.fetched += len(data)
        if self.fetched > TOTAL_LIMIT:
            raise MipError(f"more than {TOTAL_LIMIT} bytes in all: refused")
        return data


def _pairs(doc: dict[str, object], key: str, where: str) -> list[tuple[str, str]]:
    """doc[key] as [str, str] pairs (missing: none), else MipError."""
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p)
            for p in value):
        raise MipError(f"{where}: {key!r} is not a list of [string, string] pairs")
    return [(a, b) for a, b in value]


# http(s) only: no file:, ftp: or data: URLs (a package.json must not read this computer's
# files); redirects are followed within http(s); proxies from the environment are used.
_OPENER = urllib.request.OpenerDirector()
for _handler in (urllib.request.ProxyHandler(), urllib.request.HTTPHandler(),
                 urllib.request.HTTPSHandler(), urllib.request.HTTPRedirectHandler(),
                 urllib.request.HTTPDefaultErrorHandler(), urllib.request.HTTPErrorProcessor()):
    _OPENER.add_handler(_handler)
