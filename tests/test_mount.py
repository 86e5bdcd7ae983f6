"""mount: a local folder at the board's /remote, served over the session (the real runtime on
the fast link and on a 115200-baud UART), confined to the folder, binary-safe, remounted after
a soft reset."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest

from mptui.board import BoardOSError
from mptui.services.mount import Mount, mounted, unmount

MOUNT_LINKS = ["fast", "uart:115200"]


# conftest's link_profile, on these profiles only (a test that uses it, or mount)
ON_LINKS = pytest.mark.parametrize("link_profile", MOUNT_LINKS, indirect=True,
                                   ids=["fast", "uart115200"])


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "served"
    d.mkdir()
    (d / "greet.py").write_text("def hello(who):\n    return 'hello ' + who\n")
    (d / "pkg").mkdir()
    (d / "pkg" / "__init__.py").write_text("VALUE = 42\n")
    return d


@pytest.fixture
async def mount(session, folder, link_profile):
    m = Mount(session, str(folder))
    await m.start()
    yield m
    await unmount(session)


@ON_LINKS
async def test_a_module_from_the_folder_is_imported_and_runs(session, mount):
    out = await session.exec("import greet, pkg\nprint(greet.hello('board'), pkg.VALUE)")
    assert out == b"hello board 42\r\n"
    assert await session.eval("__import__('os').getcwd()") == "/remote"


@ON_LINKS
async def test_a_big_file_reads_byte_identical(session, mount, folder, link_profile):
    data = os.urandom(link_profile.size(1 << 20, 24 << 10))
    (folder / "big.bin").write_bytes(data)
    code = ("import hashlib, binascii\nh = hashlib.sha256()\nn = 0\n"
            "with open('big.bin', 'rb') as f:\n"
            " while True:\n  b = f.read(3000)\n  if not b: break\n  h.update(b)\n  n += len(b)\n"
            "print(n, binascii.hexlify(h.digest()).decode())")
    out = await session.exec(code, timeout=60)
    assert out.decode().split() == [str(len(data)), hashlib.sha256(data).hexdigest()]


@ON_LINKS
async def test_a_board_side_binary_write_lands_byte_identical(session, mount, folder):
    data = bytes(range(256)) * 16  # 4 KiB: every byte, Ctrl-A..D, ESC, CR and LF among them
    await session.exec(f"with open('out.bin', 'wb') as f:\n f.write({data!r})")
    assert (folder / "out.bin").read_bytes() == data
    # and back: read through the mount, checked on the board
    assert await session.eval("open('out.bin', 'rb').read() == " + repr(data)) is True


@ON_LINKS
async def test_text_files_lines_seek_and_unicode_across_blocks(session, mount, folder):
    text = ("é" * 9000 + "\nzwei ☃\nlast").encode()  # multi-byte characters across blocks
    (folder / "t.txt").write_bytes(text)
    code = ("f = open('t.txt')\na = f.read(9000)\nb = f.readline()\nc = f.readline()\n"
            "d = f.readline()\nf.close()\nprint(len(a), a == 'é'*9000, repr(b), c == 'zwei ☃\\n', repr(d))")
    assert (await session.exec(code)).decode().strip() == "9000 True '\\n' True 'last'"
    code = ("f = open('t.txt', 'rb')\nf.seek(-4, 2)\nprint(f.read(), f.tell())\nf.seek(2)\n"
            "print(f.read(2))\nf.close()\nprint([l for l in open('t.txt')][-1])")
    assert (await session.exec(code)).decode().split("\r\n")[:3] == [
        f"b'last' {len(text)}", "b'\\xc3\\xa9'", "last"]


@ON_LINKS
async def test_listdir_stat_and_changes_reach_the_folder(session, mount, folder):
    await session.exec("import os\nos.mkdir('new')\nopen('new/a.txt', 'w').write('abc')\n"
                       "os.rename('new/a.txt', 'new/b.txt')\nopen('gone', 'w').close()\n"
                       "os.remove('gone')")
    assert (folder / "new" / "b.txt").read_text() == "abc"
    assert not (folder / "gone").exists()
    listing = await session.eval("sorted(__import__('os').ilistdir('/remote'))")
    assert listing == [("greet.py", 0x8000, 0, (folder / "greet.py").stat().st_size),
                       ("new", 0x4000, 0, 0), ("pkg", 0x4000, 0, 0)]
    st = await session.eval("__import__('os').stat('new/b.txt')")
    assert st[0] == 0x8000 and st[6] == 3
    with pytest.raises(BoardOSError) as e:
        await session.exec("import os\nos.rmdir('new')")
    assert e.value.errname == "ENOTEMPTY"
    await session.exec("import os\nos.remove('new/b.txt')\nos.rmdir('new')")
    assert not (folder / "new").exists()
    with pytest.raises(BoardOSError) as e:
        await session.exec("open('nothing.py')")
    assert e.value.errname == "ENOENT"
    # the board's own files are still there beside the mount
    await session.exec("import os\nos.chdir('/')\nopen('/mine.txt', 'w').write('x')")
    assert "mine.txt" in await session.eval("__import__('os').listdir('/')")
    assert not (folder / "mine.txt").exists()


@ON_LINKS
async def test_nothing_outside_the_folder_is_reached(session, mount, folder, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("private")
    (folder / "link.txt").symlink_to(outside / "secret.txt")
    (folder / "linkdir").symlink_to(outside)
    (folder / "inner.txt").symlink_to(folder / "greet.py")  # a link inside: fine
    code = ("import os\nfor p in ('../outside/secret.txt', '/remote/../outside/secret.txt', "
            "'link.txt', 'linkdir/secret.txt', 'pkg/../../outside/secret.txt'):\n"
            " try:\n  print(repr(open(p).read()))\n except OSError as e:\n  print(e.errno)\n"
            "try:\n os.stat('linkdir')\nexcept OSError as e:\n print(e.errno)\n"
            "print(sorted(os.listdir()))")
    lines = (await session.exec(code)).decode().split("\r\n")
    assert lines[:6] == ["1"] * 6  # EPERM each time
    assert "link.txt" not in lines[6] and "linkdir" not in lines[6] and "inner.txt" in lines[6]
    # a board's absolute path is the board's own: the host's /etc is never meant
    with pytest.raises(BoardOSError) as e:
        await session.exec("open('/remote/etc/passwd')")
    assert e.value.errname == "ENOENT"
    assert await session.eval("open('inner.txt').read()") == (folder / "greet.py").read_text()
    # the board cannot write through a link out of the folder either
    with pytest.raises(BoardOSError):
        await session.exec("open('linkdir/new.txt', 'w').write('x')")
    assert not (outside / "new.txt").exists()


async def test_unsafe_links_follows_links_out_of_the_folder(session, folder, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shared.py").write_text("X = 'shared'\n")
    (folder / "shared.py").symlink_to(outside / "shared.py")
    m = Mount(session, str(folder), follow_links=True)
    await m.start()
    try:
        assert await session.eval("__import__('shared').X") == "shared"
        with pytest.raises(BoardOSError) as e:  # `..` still stops at the folder
            await session.exec("open('../outside/shared.py')")
        assert e.value.errno == 1
    finally:
        await m.stop()


@ON_LINKS
async def test_the_ota_secrets_file_is_never_served(session, mount, folder):
    (folder / ".mptui-secrets.toml").write_text('signing_key = "k"\n')
    (folder / "renamed.toml").write_text('# mptui OTA secrets\nsigning_key = "k"\n')
    code = ("import os\nfor p in ('.mptui-secrets.toml', 'renamed.toml'):\n"
            " try:\n  print(open(p).read())\n except OSError as e:\n  print(e.errno)\n"
            "print('.mptui-secrets.toml' in os.listdir())")
    assert (await session.exec(code)).decode().split() == ["13", "13", "False"]
    with pytest.raises(BoardOSError):
        await session.exec("import os\nos.rename('.mptui-secrets.toml', 'x.toml')")
    assert (folder / ".mptui-secrets.toml").exists()


@ON_LINKS
async def test_unmount_leaves_the_board_as_it_was(session, mount):
    await unmount(session)
    assert mounted(session) is None
    assert await session.eval("__import__('os').getcwd()") == "/"
    assert "remote" not in await session.eval("__import__('os').listdir('/')")
    await unmount(session)  # nothing mounted: quiet


@ON_LINKS
async def test_a_soft_reset_at_the_repl_mounts_the_folder_again(session, folder, link_profile):
    notes: asyncio.Queue[str] = asyncio.Queue()
    m = Mount(session, str(folder), on_note=notes.put_nowait)
    await m.start()
    try:
        session.set_console(lambda data: None)
        await session.console_write(b"\x04")  # Ctrl-D at the friendly REPL: a soft reboot
        note = await asyncio.wait_for(notes.get(), 30)
        assert "mounted again" in note
        assert await session.eval("__import__('greet').hello('again')") == "hello again"
        await session.soft_reset()  # the command's soft reset: mounted again before it returns
        assert await session.eval("__import__('greet').hello('twice')") == "hello twice"
    finally:
        await m.stop()
