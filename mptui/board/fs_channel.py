"""Files over a link's file channel (WebREPL's GET/PUT) beside the REPL: a read checked
against the board's size and sha256, a write to a temporary name checked on the board and then
renamed (BoardFS chooses when the channel carries a file)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mptui.board import fs_plain as plain
from mptui.board.errors import BoardDisconnected, BoardError, Damaged
from mptui.board.fs_plain import TMP_SUFFIX, Progress
from mptui.board.fs_plain import literal as _literal
from mptui.board.helper import arg
from mptui.board.repl import Repl
from mptui.transports.base import FileChannel, TransportClosed, TransportError

if TYPE_CHECKING:
    from mptui.board.session import Session



async def read(session: Session, repl: Repl, hashes: bool, channel: FileChannel, p: str,
                        progress: Progress | None) -> bytes:
    if hashes and await session.ensure_helper(repl, "hash"):
        size, digest = _literal((await session.call_helper(repl, f"sh({arg(p)})")).strip())
    else:
        q = plain.path(p)
        out = await repl.exec(f"import os\nopen({q},'rb').close()\nprint(os.stat({q})[6])")
        size, digest = int(out), ""
    with errors(p):
        data: bytes = await channel.get(p, progress, size)
    import hashlib  # (here: listing or removing files loads no hashlib, nor the OpenSSL it brings)

    if (digest and digest != hashlib.sha256(data).hexdigest()) or len(data) != size:
        raise Damaged(f"{p}: read verification failed (the file changed or was damaged)")
    return data


async def write(session: Session, repl: Repl, hashes: bool, channel: FileChannel, p: str,
                         data: bytes, progress: Progress | None) -> None:
    tmp = p + TMP_SUFFIX
    # Created through the REPL first: a missing folder or a read-only filesystem gives the
    # board's own error here (a board drops the WebREPL session when a put cannot open).
    await plain.run(repl, f"open({plain.path(tmp)},'wb').close()")
    with errors(p):
        await channel.put(tmp, data, progress)
    if hashes and await session.ensure_helper(repl, "hash"):
        import hashlib

        digest = hashlib.sha256(data).hexdigest()
        call = f"fin({arg(tmp)},{arg(p)},{len(data)},{digest!r})"
        ok = (await session.call_helper(repl, call, guard=True)).strip() == b"True"
    else:
        t, q = plain.path(tmp), plain.path(p)
        out = await plain.run(
            repl,
            f"import os\nt,p={t},{q}\nok=os.stat(t)[6]=={len(data)}\nif not ok:\n"
            " os.remove(t)\nelse:\n try:\n  os.rename(t,p)\n except OSError:\n"
            "  if os.stat(p)[0]&0x4000:raise\n  os.remove(p)\n  os.rename(t,p)\nprint(ok)"
        )
        ok = out.strip() == b"True"
    if not ok:
        raise BoardError(f"{p}: write verification failed (size or sha256); file not replaced")


@contextlib.contextmanager
def errors(p: str) -> Iterator[None]:
    """File-channel failures as board errors that name the file."""
    try:
        yield
    except TransportClosed as e:
        raise BoardDisconnected(f"{p}: the link was lost during the transfer ({e})") from None
    except TransportError as e:
        raise BoardError(f"{p}: {e}") from None
