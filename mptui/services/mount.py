"""A local folder on the board at /remote (`mptui mount DIR`, the Files tab's mount key).

The board works in /remote as in any folder of its own (import, open, listdir, stat, remove,
mkdir, rename, rmdir); each call is answered from here over the session's own stream
(mptui/board/mount.py). Nothing outside the folder can be reached: `..` that climbs out of it
is refused, a board path is always inside it, and links that lead out of it are refused
(unless follow_links, mpremote's `-l`). mptui's OTA secrets file is never served (by its name
or by what it holds). After a soft reset (Ctrl-D at the REPL, `soft-reset`, `reset`) the
folder is mounted again once the board has booted.
"""

from __future__ import annotations

import errno
import logging
import os
import stat as st
import weakref
from collections.abc import Callable
from typing import IO

from mptui.board import Session
from mptui.board.errors import BoardError
from mptui.board.mount import (
    MOUNT_POINT,
    NO_HANDLE,
    MountServer,
    mount_code,
    unmount_code,
)
from mptui.board.repl import Repl
from mptui.errors import UsageError
from mptui.services.ignore import IgnoreRules
from mptui.services.secret_scan import secret_in

logger = logging.getLogger(__name__)
MAX_CHUNK = 16384  # bytes a reply carries at most (less on a board with a small heap)
SECRET_SCAN = 65536  # how much of a file is read to tell mptui's OTA secrets
_MODES = {"r": "rb", "w": "wb", "a": "ab", "x": "xb"}
_mounts: weakref.WeakKeyDictionary[Session, Mount] = weakref.WeakKeyDictionary()


def _refuse(code: int, why: str) -> OSError:
    return OSError(code, why)


class LocalFolder:
    """The mount's handler: a host folder, the board's paths confined to it."""

    def __init__(self, root: str, follow_links: bool = False) -> None:
        self.root = os.path.abspath(root)
        self.real_root = os.path.realpath(root)
        self.follow_links = follow_links
        self.rules = IgnoreRules(defaults=(), root=self.root)  # the built-in secrets rule
        self.files: dict[int, IO[bytes]] = {}

    # -- paths --------------------------------------------------------------------------------

    def resolve(self, path: str) -> tuple[str, str]:
        """(the host path, the path relative to the folder) of a board path; OSError EPERM for
        one that leaves the folder, EACCES for mptui's secrets file, EINVAL for a bad name."""
        if "\x00" in path or (os.sep != "/" and os.sep in path):
            raise _refuse(errno.EINVAL, "not a name")
        parts: list[str] = []
        for part in path.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    raise _refuse(errno.EPERM, "outside the mounted folder")
                parts.pop()
                continue
            parts.append(part)
        full = os.path.join(self.root, *parts)
        if not self.follow_links and not _inside(self.real_root, os.path.realpath(full)):
            raise _refuse(errno.EPERM, "a link out of the mounted folder")
        rel = "/".join(parts)
        if rel and self.rules.builtin(rel) is not None:
            raise _refuse(errno.EACCES, "mptui's secrets file")
        return full, rel

    def _changeable(self, path: str) -> str:
        full, rel = self.resolve(path)
        if not rel:
            raise _refuse(errno.EPERM, "the mounted folder itself")
        return full

    # -- the requests -------------------------------------------------------------------------

    def stat(self, path: str) -> tuple[int, int, int]:
        full, _ = self.resolve(path)
        s = os.stat(full)
        is_dir = st.S_ISDIR(s.st_mode)
        return (0x4000 if is_dir else 0x8000), (0 if is_dir else s.st_size), int(s.st_mtime)

    def statvfs(self, path: str) -> tuple[int, ...]:
        full, _ = self.resolve(path)
        v = os.statvfs(full)
        return (v.f_bsize, v.f_frsize, v.f_blocks, v.f_bfree, v.f_bavail, v.f_files, v.f_ffree,
                v.f_favail, v.f_flag, v.f_namemax)

    def listdir(self, path: str) -> list[tuple[str, int, int]]:
        full, rel = self.resolve(path)
        out = []
        for name in sorted(os.listdir(full)):
            child = f"{rel}/{name}" if rel else name
            try:
                name.encode("utf-8")
                self.resolve(child)  # a link out, the secrets file: not shown
                s = os.stat(os.path.join(full, name))
            except (OSError, UnicodeError):
                continue
            is_dir = st.S_ISDIR(s.st_mode)
            out.append((name, 0x4000 if is_dir else 0x8000, 0 if is_dir else s.st_size))
        return out

    def open(self, path: str, mode: str, ahead: int) -> tuple[int, bytes]:
        pymode = _host_mode(mode)
        full, _ = self.resolve(path)
        if os.path.exists(full):
            self._servable(full)
        fd = next((n for n in range(NO_HANDLE) if n not in self.files), None)
        if fd is None:
            raise _refuse(errno.EMFILE, "too many open files")
        f = open(full, pymode)  # noqa: SIM115 - kept open for the board, closed by close()
        if pymode != "rb":
            self.files[fd] = f
            return fd, b""
        try:
            data = f.read(ahead)
            if len(data) < ahead:  # all of it: no handle kept
                f.close()
                return NO_HANDLE, data
        except OSError:
            f.close()
            raise
        self.files[fd] = f
        return fd, data

    def _servable(self, full: str) -> None:
        """Only regular files and folders (a FIFO would block us), never mptui's secrets."""
        s = os.stat(full)
        if st.S_ISDIR(s.st_mode):
            raise _refuse(errno.EISDIR, "a folder")
        if not st.S_ISREG(s.st_mode):
            raise _refuse(errno.EACCES, "not a regular file")
        with open(full, "rb") as f:
            found = secret_in(f.read(SECRET_SCAN))
        if found is not None and found.never:
            raise _refuse(errno.EACCES, "mptui's secrets")

    def _file(self, fd: int) -> IO[bytes]:
        f = self.files.get(fd)
        if f is None:
            raise _refuse(errno.EBADF, "not an open file")
        return f

    def read(self, fd: int, n: int) -> bytes:
        return self._file(fd).read(n)

    def write(self, fd: int, data: bytes) -> int:
        f = self._file(fd)
        f.write(data)
        f.flush()
        return len(data)

    def seek(self, fd: int, offset: int, whence: int) -> int:
        if whence not in (0, 1, 2):
            raise _refuse(errno.EINVAL, "bad whence")
        return self._file(fd).seek(offset, whence)

    def close(self, fd: int) -> None:
        f = self.files.pop(fd, None)
        if f is not None:
            f.close()

    def close_all(self) -> None:
        for fd in list(self.files):
            try:
                self.close(fd)
            except OSError as e:
                logger.info("mount: closing a file: %s", e)

    def remove(self, path: str) -> None:
        full = self._changeable(path)
        if os.path.isdir(full) and not os.path.islink(full):
            raise _refuse(errno.EISDIR, "a folder")
        os.remove(full)

    def mkdir(self, path: str) -> None:
        os.mkdir(self._changeable(path))

    def rmdir(self, path: str) -> None:
        os.rmdir(self._changeable(path))

    def rename(self, old: str, new: str) -> None:
        os.replace(self._changeable(old), self._changeable(new))


def _host_mode(mode: str) -> str:
    """The host's binary mode for a board's open() mode; EINVAL for one that is not a mode."""
    base = [c for c in mode if c in "rwax"]
    if (len(base) != 1 or set(mode) - set("rwax+bt") or mode.count("+") > 1
            or mode.count("b") + mode.count("t") > 1 or len(mode) > 4):
        raise _refuse(errno.EINVAL, f"bad mode {mode!r}")
    return _MODES[base[0]] + ("+" if "+" in mode else "")


def _inside(top: str, path: str) -> bool:
    return path == top or path.startswith(top.rstrip(os.sep) + os.sep)


# -- the mount on a session -------------------------------------------------------------------


class Mount:
    """A local folder mounted at /remote on one session's board (one at a time)."""

    def __init__(self, session: Session, folder: str, follow_links: bool = False,
                 on_note: Callable[[str], None] | None = None) -> None:
        if not os.path.isdir(folder):
            raise UsageError(f"mount: {folder}: not a local folder")
        self.session = session
        self.folder = os.path.abspath(folder)
        self.on_note = on_note
        self.handler = LocalFolder(folder, follow_links)
        self.server = MountServer(self.handler, self._write, MAX_CHUNK,
                                  session.transport.profile.ring)
        self._unhook: Callable[[], None] | None = None

    async def _write(self, data: bytes) -> None:
        await self.session.repl.write(data)

    async def start(self) -> None:
        old = _mounts.get(self.session)
        if old is not None:
            await old.stop()
        self.server.start()
        self.session.set_intercept(self.server.feed)
        self._unhook = self.session.add_reset_hook(self._remount)
        _mounts[self.session] = self
        try:
            async with self.session.operation() as repl:
                await self._install(repl)
        except BaseException:
            await self._detach()
            raise

    async def _install(self, repl: Repl) -> None:
        for code in mount_code(MAX_CHUNK, self.server.piece):
            out = await repl.exec(code, timeout=30)
        try:
            self.server.chunk = max(256, min(MAX_CHUNK, int(out.strip().splitlines()[-1])))
        except (ValueError, IndexError):
            raise BoardError(f"mount: unreadable answer from the board: {out[-60:]!r}") from None

    async def _remount(self, repl: Repl) -> None:
        self.server.reset()
        await self._install(repl)
        if self.on_note:
            self.on_note(f"{self.folder} mounted again at {MOUNT_POINT} after the reset")

    async def stop(self, board: bool = True) -> None:
        """Unmount (on the board too, when it can be reached and `board`)."""
        try:
            if board and self.session.connected:
                await self.session.exec(unmount_code())
        finally:
            await self._detach()

    async def _detach(self) -> None:
        if _mounts.get(self.session) is self:
            del _mounts[self.session]
        if self._unhook:
            self._unhook()
        self.session.set_intercept(None)
        await self.server.stop()


def mounted(session: Session) -> Mount | None:
    """The session's mount, if it has one."""
    return _mounts.get(session)


async def unmount(session: Session, quiet: bool = False) -> bool:
    """Undo the session's mount; without `quiet`, also one left on the board by an mptui or
    mpremote that went away. True when something was mounted here."""
    mount = _mounts.get(session)
    if mount is not None:
        try:
            await mount.stop()
        except BoardError as e:
            if not quiet:
                raise
            logger.info("unmount: %s", e)
        return True
    if not quiet:
        await session.exec(unmount_code())
    return False
