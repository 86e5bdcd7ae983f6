"""The board's filesystem: ls, stat, read, write (atomic, verified), mkdir, rm, hashes, df.

Every path and value reaches the board through repr(), never pasted into code as text. The
fast path uses the helper (mpy/helper.py) to stream whole files in large escaped blocks; when
the helper cannot load, plain raw-REPL code does the same more slowly. Links with a file channel
(WebREPL) carry file contents beside the REPL where that is faster: writes go to a temporary
name, are checked on the board (size, sha256) and renamed through the REPL.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import hashlib
import posixpath
from collections.abc import Callable
from dataclasses import dataclass

from mptui.board.errors import BoardDisconnected, BoardError, BoardExecError
from mptui.board.helper import HEADER, StreamDecoder, encode_blocks
from mptui.board.repl import Repl
from mptui.transports.base import FileChannel, TransportClosed, TransportError

Progress = Callable[[int, int], None]  # (bytes done, bytes in all)
TMP_SUFFIX = ".mptui~"  # a file being written, beside its final name
# Below this a write costs more in the file channel's two extra round trips than it saves.
CHANNEL_MIN_WRITE = 1024


@dataclass(frozen=True)
class Entry:
    path: str  # relative to the folder listed: its names joined by '/'
    is_dir: bool
    size: int
    # the names as listed, one per folder level (a board may list a name holding a '/', or
    # '..': `path` alone cannot tell; whoever joins them to a folder checks each)
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.names:
            object.__setattr__(self, "names", tuple(self.path.split("/")))

    @property
    def name(self) -> str:
        return self.names[-1]


@dataclass(frozen=True)
class Stat:
    is_dir: bool
    size: int
    mtime: int


def board_path(path: str) -> str:
    """An absolute, normalised board path ('' and '.' are the root)."""
    p = posixpath.normpath("/" + path.strip().lstrip(":"))
    return "/" + p.lstrip("/")


def _literal(out: bytes | str):
    """A value the board printed with repr(). Garbled output (a running program's print mixed
    in, a line hit) is a BoardError, never a crash."""
    try:
        return ast.literal_eval(out.decode("utf-8") if isinstance(out, bytes) else out)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as e:
        text = out.decode("utf-8", "replace") if isinstance(out, bytes) else out
        raise BoardError(f"unreadable answer from the board: {text.strip()[:60]!r}") from e


def _entry(row) -> Entry:
    """A listed entry from (names from the folder listed, size or -1 for a folder), or an
    Entry as it is. The names are kept as the board gave them (checked where they are joined
    to a folder); a row of another shape is a BoardError."""
    if isinstance(row, Entry):
        return row
    names, size = row if isinstance(row, tuple) and len(row) == 2 else ((), None)
    if not (isinstance(names, tuple) and names and all(isinstance(n, str) for n in names)
            and type(size) is int):
        raise BoardError(f"unreadable answer from the board: {str(row)[:60]!r}")
    return Entry("/".join(names), size < 0, max(size, 0), names)


def _lines(out: bytes) -> list:
    return [_literal(line) for line in out.decode("utf-8", "replace").splitlines() if line.strip()]


class BoardFS:
    def __init__(self, session) -> None:
        self.session = session
        # The link's file channel: None = where it is faster, True = whenever it can carry
        # the file, False = never (benchmarks and tests compare the paths on one link).
        self.use_file_channel: bool | None = None

    @contextlib.asynccontextmanager
    async def _op(self, path: str):
        """An operation on `path`; board errors carry the path for one-line messages."""
        try:
            async with self.session.operation() as repl:
                yield repl, await self.session.ensure_helper(repl)
        except BoardExecError as e:
            e.path = path
            raise

    # -- metadata ---------------------------------------------------------------------------

    async def ls(self, path: str = "/", recursive: bool = False) -> list[Entry]:
        p = board_path(path)
        async with self._op(p) as (repl, helper):
            if helper:
                out = await self.session.call_helper(repl, f"ls({p!r},{recursive!r})")
                rows = _lines(out)
            else:
                rows = await self._ls_plain(repl, p, recursive)
        return sorted((_entry(row) for row in rows), key=lambda e: e.path)

    async def _ls_plain(self, repl: Repl, p: str, recursive: bool, rel: tuple = ()) -> list:
        out = await repl.exec(
            f"import os\nfor e in os.ilistdir({p!r}):\n"
            f" print(repr((e[0], -1 if e[1]&0x4000 else e[3] if len(e)>3 else "
            f"os.stat({p!r}+'/'+e[0])[6])))"
        )
        rows = [_entry(((*rel, row[0]), *row[1:]) if isinstance(row, tuple) and row else row)
                for row in _lines(out)]
        if recursive:
            for e in list(rows):
                if e.is_dir and e.name not in ("", ".", "..") and "/" not in e.name:
                    rows += await self._ls_plain(repl, posixpath.join(p, e.name), True, e.names)
        return rows

    async def stat(self, path: str) -> Stat:
        p = board_path(path)
        async with self._op(p) as (repl, _):
            out = await repl.exec(f"import os\nprint(repr(os.stat({p!r})))")
        st = _literal(out.strip())
        return Stat(bool(st[0] & 0x4000), st[6], st[8])

    async def exists(self, path: str) -> bool:
        try:
            await self.stat(path)
        except BoardExecError as e:
            if getattr(e, "errno", None) == 2:
                return False
            raise
        return True

    async def sha256(self, path: str) -> str:
        p = board_path(path)
        async with self._op(p) as (repl, helper):
            if helper and self.session.helper_info[1]:
                out = await self.session.call_helper(repl, f"hash1({p!r})")
                return _literal(out.strip())
        return hashlib.sha256(await self.read(p)).hexdigest()  # no hashlib on the board

    async def tree_hashes(self, path: str = "/") -> dict[str, tuple[int, str]]:
        """{relative path: (size, sha256)} for every file under path (folders: (-1, '')), in
        one round trip."""
        p = board_path(path)
        async with self._op(p) as (repl, helper):
            if helper and self.session.helper_info[1]:
                out = await self.session.call_helper(repl, f"tree({p!r})")
                result = {}
                for row in _lines(out):
                    digest = row[2] if isinstance(row, tuple) and len(row) == 3 else None
                    if not isinstance(digest, str):
                        raise BoardError(f"unreadable answer from the board: {str(row)[:60]!r}")
                    e = _entry(row[:2])
                    result[e.path] = (-1 if e.is_dir else e.size, digest)
                return result
        result = {}
        for e in await self.ls(p, recursive=True):
            sub = posixpath.join(p, e.path)
            result[e.path] = (-1, "") if e.is_dir else (e.size, await self.sha256(sub))
        return result

    async def df(self, path: str = "/") -> tuple[int, int]:
        """(total bytes, free bytes) of the filesystem holding path."""
        p = board_path(path)
        async with self._op(p) as (repl, _):
            out = await repl.exec(f"import os\ns=os.statvfs({p!r})\nprint(repr((s[0]*s[2],s[0]*s[3])))")
        return _literal(out.strip())

    # -- changes ----------------------------------------------------------------------------

    async def mkdir(self, path: str, parents: bool = False) -> None:
        p = board_path(path)
        async with self._op(p) as (repl, helper):
            if parents and helper:
                await self.session.call_helper(repl, f"mkdirs({p!r})")
            elif parents:
                parts = [q for q in p.split("/") if q]
                for i in range(1, len(parts) + 1):
                    sub = "/" + "/".join(parts[:i])
                    await repl.exec(
                        f"import os\ntry:\n os.mkdir({sub!r})\nexcept OSError as e:\n"
                        f" if e.args[0]!=17 or not os.stat({sub!r})[0]&0x4000: raise"
                    )
            else:
                await repl.exec(f"import os\nos.mkdir({p!r})")

    async def rm(self, path: str, recursive: bool = False) -> None:
        p = board_path(path)
        if p == "/" and recursive:
            raise BoardError("refusing to remove the board's root folder")
        async with self._op(p) as (repl, helper):
            if recursive and helper:
                await self.session.call_helper(repl, f"rmtree({p!r})")
                return
            if recursive:
                entries = await self._ls_plain(repl, p, True) if (await self._isdir(repl, p)) else []
                for e in sorted(entries, key=lambda e: -len(e.names)):
                    sub = posixpath.join(p, e.path)
                    await repl.exec(f"import os\nos.{'rmdir' if e.is_dir else 'remove'}({sub!r})")
                if entries or await self._isdir(repl, p):
                    await repl.exec(f"import os\nos.rmdir({p!r})")
                    return
            # A board's remove() takes empty folders too (littlefs, FAT): refuse them here
            await repl.exec(f"import os\nif os.stat({p!r})[0]&0x4000:raise OSError(21)\nos.remove({p!r})")

    async def _isdir(self, repl: Repl, p: str) -> bool:
        out = await repl.exec(f"import os\nprint(os.stat({p!r})[0]&0x4000!=0)")
        return out.strip() == b"True"

    async def rmdir(self, path: str) -> None:
        p = board_path(path)
        async with self._op(p) as (repl, _):
            # A board's rmdir() takes files too (littlefs, FAT): refuse them here
            await repl.exec(f"import os\nif not os.stat({p!r})[0]&0x4000:raise OSError(20)\nos.rmdir({p!r})")

    async def rename(self, old: str, new: str) -> None:
        a, b = board_path(old), board_path(new)
        async with self._op(a) as (repl, _):
            await repl.exec(f"import os\nos.rename({a!r},{b!r})")

    async def touch(self, path: str) -> None:
        p = board_path(path)
        async with self._op(p) as (repl, _):
            await repl.exec(f"open({p!r},'ab').close()")

    # -- contents ---------------------------------------------------------------------------

    def _channel(self, p: str, helper: bool, size: int | None = None) -> FileChannel | None:
        """The file channel when it should carry this read (size None) or write."""
        channel = self.session.transport.file_channel
        if channel is None or self.use_file_channel is False:
            return None
        if len((p + TMP_SUFFIX).encode("utf-8")) > channel.max_path_bytes:
            return None
        if size == 0:  # older boards never finish an empty PUT
            return None
        if self.use_file_channel:
            return channel
        if size is None:  # reads: the helper streams board output as fast as the channel
            return None if helper else channel
        return channel if size >= CHANNEL_MIN_WRITE else None

    async def read(self, path: str, progress: Progress | None = None) -> bytes:
        p = board_path(path)
        async with self._op(p) as (repl, helper):
            try:
                channel = self._channel(p, helper)
                if channel:
                    return await self._read_channel(repl, helper, channel, p, progress)
                if helper:
                    return await self._read_stream(repl, p, progress)
                return await self._read_plain(repl, p, progress)
            except BaseException:
                await _recover(repl)
                raise

    async def _read_channel(self, repl: Repl, helper: bool, channel, p: str, progress) -> bytes:
        if helper:
            size, digest = _literal((await self.session.call_helper(repl, f"sh({p!r})")).strip())
        else:
            out = await repl.exec(f"import os\nopen({p!r},'rb').close()\nprint(os.stat({p!r})[6])")
            size, digest = int(out), ""
        with _channel_errors(p):
            data = await channel.get(p, progress, size)
        if (digest and digest != hashlib.sha256(data).hexdigest()) or len(data) != size:
            raise BoardError(f"{p}: read verification failed (the file changed or was damaged)")
        return data

    async def _read_stream(self, repl: Repl, p: str, progress: Progress | None) -> bytes:
        await repl.send_code(f"_mptui.rd({p!r},{self._block_size()})")
        data = bytearray()
        decoder = StreamDecoder()
        size = -1

        def sink(chunk: bytes) -> None:
            nonlocal size
            data.extend(decoder.feed(chunk))
            if size < 0 and len(data) >= 8:
                size = int(data[:8], 16)
                del data[:8]
            if progress and size >= 0:
                progress(len(data), size)

        await repl.follow(sink)
        if not decoder.ended:
            raise BoardError(f"{p}: the transfer ended early")
        digest = bytes(decoder.trailer).decode()
        if digest and digest != hashlib.sha256(data).hexdigest():
            raise BoardError(f"{p}: read verification failed (sha256 differs)")
        return bytes(data)

    async def _read_plain(self, repl: Repl, p: str, progress: Progress | None) -> bytes:
        data = bytearray()
        buf = bytearray()

        def sink(chunk: bytes) -> None:
            buf.extend(chunk)
            while (i := buf.find(b"\n")) >= 0:
                line = bytes(buf[:i]).strip()
                del buf[: i + 1]
                if line:
                    data.extend(_literal(line))
                    if progress:
                        progress(len(data), -1)

        await repl.exec(
            f"f=open({p!r},'rb')\nwhile 1:\n b=f.read(256)\n if not b:break\n print(repr(b))\nf.close()",
            sink,
        )
        return bytes(data)

    async def write(self, path: str, data: bytes, progress: Progress | None = None) -> None:
        """Write atomically: a temporary name next to the file, verified, then renamed."""
        p = board_path(path)
        async with self._op(p) as (repl, helper):
            try:
                channel = self._channel(p, helper, len(data))
                if channel:
                    await self._write_channel(repl, helper, channel, p, data, progress)
                elif helper:
                    await self._write_stream(repl, p, data, progress)
                else:
                    await self._write_plain(repl, p, data, progress)
            except BaseException:
                streaming = helper and not channel  # the helper removes its file itself
                await _recover(repl, ABORT_WRITE if streaming else b"\x03")
                if not streaming:
                    await _remove_quietly(repl, p + TMP_SUFFIX)
                raise

    def _block_size(self) -> int:
        size = self.session.transport.profile.block_size
        free = self.session.helper_info[0] if self.session.helper_info else -1
        # leave the app its heap: a read keeps about 5 blocks alive, in a fragmented heap
        while free > 0 and size > 256 and size * 16 > free:
            size //= 2
        return size

    async def _write_stream(self, repl: Repl, p: str, data: bytes, progress) -> None:
        window = self.session.transport.profile.blocks_in_flight
        bs = self._block_size()
        ring = self.session.transport.profile.ring
        if ring:  # a link that loses what the board cannot hold: two blocks fill its ring
            window, bs = 2, ring // 2 - HEADER
        digest = hashlib.sha256(data).hexdigest()
        await repl.send_code(f"_mptui.wr({p!r},{len(data)},{window},{digest!r})")
        credits = 0
        for done, block in encode_blocks(data, bs, exact=bool(ring)):
            while credits == 0:
                b = await repl.read_exact(1)
                if b != b"\x01":  # the board stopped early: its error follows
                    repl.unread(b)
                    repl.in_raw = False  # blocks it did not read may follow: Ctrl-C them next
                    await repl.follow()
                    raise BoardError(f"{p}: the board stopped the transfer")
                credits += 1
            credits -= 1
            await repl.write(block)
            if progress:
                progress(done, len(data))
        try:
            await repl.follow()
        except BoardExecError as e:
            if e.exc_message == "sha256 mismatch":
                raise BoardError(f"{p}: damaged on the way (sha256 differs); old file kept") from None
            raise
        if progress and not data:
            progress(0, 0)

    async def _write_channel(self, repl: Repl, helper: bool, channel, p: str, data, progress):
        tmp = p + TMP_SUFFIX
        # Created through the REPL first: a missing folder or a read-only filesystem gives the
        # board's own error here (a board drops the WebREPL session when a put cannot open).
        await repl.exec(f"open({tmp!r},'wb').close()")
        with _channel_errors(p):
            await channel.put(tmp, data, progress)
        if helper:
            digest = hashlib.sha256(data).hexdigest()
            call = f"fin({tmp!r},{p!r},{len(data)},{digest!r})"
            ok = (await self.session.call_helper(repl, call)).strip() == b"True"
        else:
            out = await repl.exec(
                f"import os\nt,p={tmp!r},{p!r}\nok=os.stat(t)[6]=={len(data)}\nif not ok:\n"
                " os.remove(t)\nelse:\n try:\n  os.rename(t,p)\n except OSError:\n"
                "  os.remove(p)\n  os.rename(t,p)\nprint(ok)"
            )
            ok = out.strip() == b"True"
        if not ok:
            raise BoardError(f"{p}: write verification failed (size or sha256); file not replaced")

    async def _write_plain(self, repl: Repl, p: str, data: bytes, progress) -> None:
        """(A failure part-way: write() closes and removes the temporary file.)"""
        tmp = p + TMP_SUFFIX
        await repl.exec(f"f=open({tmp!r},'wb')\nw=f.write")
        for start in range(0, len(data), 256):
            await repl.exec(f"w({data[start : start + 256]!r})")
            if progress:
                progress(min(start + 256, len(data)), len(data))
        await repl.exec(f"import os\nf.close()\nos.rename({tmp!r},{p!r})")


@contextlib.contextmanager
def _channel_errors(p: str):
    """File-channel failures as board errors that name the file."""
    try:
        yield
    except TransportClosed as e:
        raise BoardDisconnected(f"{p}: the link was lost during the transfer ({e})") from None
    except TransportError as e:
        raise BoardError(f"{p}: {e}") from None


# What ends a write in the helper: not hex where it expects a block's length, so it stops and
# removes its temporary file. (Ctrl-C is not used: the unix port raises KeyboardInterrupt
# straight from its signal handler, which can leave its heap locked when it lands badly.)
ABORT_WRITE = b"!!!!!"


async def _remove_quietly(repl: Repl, tmp: str) -> None:
    """After a stopped write through the REPL or the file channel: its temporary file goes."""
    with contextlib.suppress(Exception):
        await repl.exec(
            f"import os\ntry:\n f.close()\nexcept Exception:\n pass\ntry:\n os.remove({tmp!r})\n"
            "except OSError:\n pass"
        )


async def _recover(repl: Repl, stop: bytes = b"\x03") -> None:
    """After a failed or cancelled transfer: stop the board's side (its handler removes the
    temporary file) and wait until it is back at the prompt. Nothing to do when no code of
    ours runs (it ended with the board's own error, or only the file channel was moving)."""
    if not repl.running:
        return
    with contextlib.suppress(Exception):
        await asyncio.shield(repl.abort(stop))

