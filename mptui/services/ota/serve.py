"""Bundles for pull mode, and the HTTP server agents poll.

A bundle is a folder: `manifest.json` and `f/<sha256>` for each file, so that paths never become
URLs and unchanged files keep their names between releases. The manifest is signed for each
board this project's keys were given to (`sigs`, by board id: ota/keys.py); its `seq` is above
the previous bundle's, so a board installs each bundle once and never an older one.
The server answers GET (and HEAD) for those names only, on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from pathlib import Path

from mptui.services.ota.keys import known_boards, next_seq
from mptui.services.ota.project import Project

_BLOB = re.compile(r"^/f/[0-9a-f]{64}$")


def write_bundle(project: Project, folder: Path, board_mpy: int | None = None,
                 allow_downgrade: bool = False, boards: list[str] | None = None) -> dict:
    """Write the release to `folder` (signed for `boards`, by default every board id the
    project's keys were given to); stale blobs are removed. Returns the manifest's summary."""
    release = project.build(board_mpy)
    if boards is None:
        boards = sorted(known_boards(project.secrets.path)) if project.secrets else []
    blobs = folder / "f"
    blobs.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for path, data in release.files.items():
        sha = release.hashes[path][1]
        wanted.add(sha)
        dest = blobs / sha
        if not dest.exists():
            tmp = dest.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(dest)
    manifest = folder / "manifest.json"
    tmp = manifest.with_suffix(".tmp")
    tmp.write_bytes(release.manifest(boards, next_seq(_last_seq(manifest)), allow_downgrade))
    tmp.replace(manifest)
    for old in blobs.iterdir():
        if old.name not in wanted:
            old.unlink()
    return {"version": release.version, "files": len(release.files), "bytes": release.size,
            "signed": bool(release.signing_key), "boards": len(boards)}


def _last_seq(manifest: Path) -> int:
    try:
        seq = json.loads(manifest.read_bytes()).get("seq", 0)
    except (OSError, ValueError, AttributeError):
        return 0
    return seq if isinstance(seq, int) else 0


class BundleServer:
    """`await start()`, then `port` is the bound port; `await stop()`."""

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 8080, log=None) -> None:
        self.folder = Path(folder)
        self.host, self.port = host, port
        self.log = log
        self._server: asyncio.Server | None = None

    async def start(self) -> BundleServer:
        self._server = await asyncio.start_server(self._client, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    async def serve_forever(self) -> None:
        await self._server.serve_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 10)
            while (await asyncio.wait_for(reader.readline(), 10)).strip():
                pass  # headers: nothing in them matters here
            parts = request.decode("latin-1").split()
            status, body = self._answer(parts)
            head = parts[0] == "HEAD" if parts else False
            writer.write(f"HTTP/1.0 {status}\r\nContent-Length: {len(body)}\r\n"
                         "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
                         .encode())
            if not head:
                writer.write(body)
            await writer.drain()
            if self.log:
                self.log(f"{writer.get_extra_info('peername', ('?',))[0]} "
                         f"{' '.join(parts[:2])[:80]} {status.split()[0]}")
        except (asyncio.TimeoutError, OSError, UnicodeDecodeError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    def _answer(self, parts: list[str]) -> tuple[str, bytes]:
        if len(parts) < 2 or parts[0] not in ("GET", "HEAD"):
            return "405 Method Not Allowed", b""
        path = parts[1].split("?", 1)[0]
        if path != "/manifest.json" and not _BLOB.match(path):
            return "404 Not Found", b""
        try:
            return "200 OK", (self.folder / path.lstrip("/")).read_bytes()
        except OSError:
            return "404 Not Found", b""
