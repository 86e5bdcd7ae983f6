"""The app against hostile boards, end to end: the real virtual board prints escape sequences
that crashed the terminal, huge parameters and random binary into the REPL while the Logs tab
watches it; board file names and contents with markup, escapes and controls go through the
Files tab, the file viewer and the dialogs. The app keeps running and answers afterwards, and
nothing the board sent reaches the user's terminal as a command."""

from __future__ import annotations

from mptui.ui.widgets.device_list import DeviceList
from mptui.ui.widgets.repl_terminal import ReplTerminal

from .apphelp import painted
from .conftest import wait_until
from .logs_help import on_screen, open_logs
from .logs_help import shown as log_texts

SIZE = (100, 30)
CONTROLS = {*range(32), *range(127, 160)}

# typed at the board's REPL, one line at a time (a blank line ends the loop)
HOSTILE_PROGRAM = [
    "import sys;w=sys.stdout.buffer.write",
    r"print('\x1b[\u00b9m')",  # pyte raised ValueError on it
    r"w(b'\x1b[1;2A\x1b[?5A\x1b[999999999@\x1b[99999999;99999999H\x1b['+b'9'*5000+b'm')",
    r"w(b'\x1b]0;'+b'T'*100000+b'\x07'); w(b'\x1b#8'*3000)",  # a giant title, DECALN
    r"w(b'a'+b'\xcc\x81'*20000+b'\r\n\xff\xfe\xc2\r\n\x1bP\x1b[\x1b]')",  # marks, bad UTF-8
    "x=1;b=bytearray(20000)",
    "for i in range(20000): x=(x*1103515245+12345)&0x7fffffff; b[i]=x>>16&255",
    "",
    "w(b)",  # 20 KB of (pseudo-random) binary
    "print();print('END'+'MARK')",
]


def screen_text(terminal: ReplTerminal) -> list[str]:
    return terminal.model.display()


def drawn(widget, height: int) -> str:
    return "".join(widget.render_line(y).text for y in range(height))


async def test_hostile_output_from_the_real_board_leaves_the_app_running(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        devices = app.screen.query_one(DeviceList)
        await wait_until(lambda: "virtual" in devices.boards)
        await pilot.press("enter")
        terminal = app.screen.terminal("virtual")
        await wait_until(lambda: screen_text(terminal)[-1].startswith(">>>") or
                         ">>>" in "\n".join(screen_text(terminal)), what="the prompt")
        devices.focus()
        tab = await open_logs(pilot)  # the Logs tab watches the board's REPL output too
        assert tab.model.watching == {"virtual": "virtual"}

        for line in HOSTILE_PROGRAM:
            terminal.send(line.encode() + b"\r")
        await wait_until(lambda: "ENDMARK" in screen_text(terminal), timeout=60,
                         what="the end of the hostile output in the REPL")
        await wait_until(lambda: "ENDMARK" in log_texts(tab), what="... and in the Logs tab")
        assert terminal.received > 150_000

        terminal.send(b"6*7\r")
        await wait_until(lambda: "42" in screen_text(terminal), what="42 in the REPL")
        await wait_until(lambda: "42" in log_texts(tab), what="42 in the Logs tab")
        await pilot.pause()
        assert app.is_running
        # what reaches the user's terminal: no control character from the board
        logs = "".join(on_screen(tab))
        assert "42" in logs and not CONTROLS.intersection(map(ord, logs))
        tab.view.scroll_home(animate=False, immediate=True)  # the hostile lines themselves
        await pilot.pause()
        assert not CONTROLS.intersection(map(ord, "".join(on_screen(tab))))
        await pilot.press("r")  # back to the REPL
        await wait_until(lambda: app.focused is terminal, what="the REPL focused")
        await pilot.pause()
        text = drawn(terminal, terminal.size.height)
        assert "42" in text and not CONTROLS.intersection(map(ord, text))


# -- names and contents from the board: Files tab, viewer, dialogs, notifications -------------

HOSTILE_NAMES = {
    "[bold": "[bold]not bold[/] [link=http://x]link[/link]\n",  # markup: shown as text
    "[b]x[i": "x",
    "title\x1b]0;pwned\x07.txt": "ok",  # would retitle the user's terminal
    "clip\x1b]52;c;cHduZWQ=\x07": "ok",  # would set the clipboard (OSC 52)
    "red\x1b[31m.py": "print('[/] \x1b[2J')\n",  # an escape in the content: hex
    "c1\u009b31m.txt": "\u009b2J",  # C1 CSI in UTF-8: hex, not text
    "bad-utf8.txt": b"\xff\xfe\xc2 [/]",
    "marks.txt": "a" + "\u0301" * 5000,
}


def assert_clean(app) -> str:
    text = painted(app)
    bad = sorted({hex(ord(c)) for c in text if ord(c) in CONTROLS})
    assert not bad, f"control characters reach the terminal: {bad}"
    return text


async def test_board_names_and_contents_are_shown_as_text_never_run(make_app, project,
                                                                  board_root):
    from mptui.ui.screens.confirm import ConfirmScreen
    from mptui.ui.screens.file_view import FileViewScreen
    from mptui.ui.screens.prompt import PromptScreen

    from .filehelp import go_to, make_tree, names, open_files

    make_tree(board_root, HOSTILE_NAMES)
    (board_root / "[" / "]\x1b[7m").mkdir(parents=True)  # the path /[/]... as a title
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        tab = await open_files(app, pilot)
        pane = tab.board_pane
        await pilot.press("tab")
        assert set(HOSTILE_NAMES) <= set(names(pane))
        text = assert_clean(app)
        assert "[bold" in text and "[b]x[i" in text and "title\ufffd]0;pwned\ufffd.txt" in text

        modes = {}
        for name in HOSTILE_NAMES:
            await go_to(pilot, pane, name)
            await pilot.press("f3")
            await wait_until(lambda: isinstance(app.screen, FileViewScreen), what=f"view {name!r}")
            await wait_until(lambda: app.screen.query("#view-text"), what="the viewer's body")
            await pilot.pause()
            modes[name] = app.screen.mode
            text = assert_clean(app)
            if name == "[bold":
                assert "[bold]not bold[/] [link=http://x]link[/link]" in text
            await pilot.press("escape")
            await wait_until(lambda: not isinstance(app.screen, FileViewScreen))
        assert modes == {"[bold": "text", "[b]x[i": "text", "title\x1b]0;pwned\x07.txt": "text",
                         "clip\x1b]52;c;cHduZWQ=\x07": "text", "red\x1b[31m.py": "hex",
                         "c1\u009b31m.txt": "hex", "bad-utf8.txt": "hex", "marks.txt": "text"}

        await go_to(pilot, pane, "[b]x[i")  # rename: the name in the question and the input
        await pilot.press("shift+f6")
        await wait_until(lambda: isinstance(app.screen, PromptScreen), what="the rename prompt")
        await pilot.pause()
        assert "Rename [b]x[i to:" in assert_clean(app)
        await pilot.press("escape")
        await go_to(pilot, pane, "title\x1b]0;pwned\x07.txt")
        await pilot.press("shift+f6")
        await wait_until(lambda: isinstance(app.screen, PromptScreen), what="the rename prompt")
        await pilot.pause()
        assert_clean(app)
        await pilot.press("escape")
        await go_to(pilot, pane, "clip\x1b]52;c;cHduZWQ=\x07")  # delete asks first
        await pilot.press("f8")
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.pause()
        assert "clip\ufffd]52;c;cHduZWQ=\ufffd" in assert_clean(app)
        await pilot.press("n")
        await go_to(pilot, pane, "[")
        await pilot.press("enter")  # into the folders: their path is the pane's title
        await wait_until(lambda: pane.model.path == "/[" and not pane.model.loading,
                         what="the folder")
        await go_to(pilot, pane, "]\x1b[7m")
        await pilot.press("enter")
        await wait_until(lambda: pane.model.path == "/[/]\x1b[7m", what="the folder in it")
        await pilot.pause()
        assert "virtual:/[/]\ufffd[7m" in assert_clean(app)

        app.notify("copied [/] and [bold to \x1b]0;x\x07", title="[b]")  # as an error would
        await wait_until(lambda: "copied" in painted(app), what="the notification")
        text = assert_clean(app)
        assert "copied [/] and [bold to \ufffd]0;x\ufffd" in text and app.is_running


async def test_a_large_board_file_opens_at_once_and_is_coloured_after(make_app, project,
                                                                    board_root):
    from mptui.ui.screens.file_view import HIGHLIGHT_LIMIT, FileViewScreen
    from mptui.ui.widgets.file_text import FileText

    from .filehelp import go_to, make_tree, open_files, other_pane

    line = "print('x' * 10)  # a comment\n"
    make_tree(board_root, {"mid.py": line * (64 * 1024 // len(line)),
                           "huge.py": line * (2 * HIGHLIGHT_LIMIT // len(line))})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_files(app, pilot)
        await other_pane(pilot, tab.board_pane)
        await go_to(pilot, tab.board_pane, "mid.py")
        await pilot.press("f3")
        await wait_until(lambda: isinstance(app.screen, FileViewScreen), what="the viewer")
        view = app.screen.query_one(FileText)
        assert view.plain.startswith(line.rstrip())  # shown at once, plain
        await wait_until(lambda: app.screen.highlighted, what="the colours (from a thread)")
        assert len(view.lines[0].spans) > 1 and view.plain.startswith(line.rstrip())
        await pilot.press("escape")
        await go_to(pilot, tab.board_pane, "huge.py")
        await pilot.press("f3")
        await wait_until(lambda: isinstance(app.screen, FileViewScreen), what="the viewer")
        await pilot.pause()
        view = app.screen.query_one(FileText)
        assert "not coloured: over 128.0 KiB" in str(app.screen.query_one("#view-title").render())
        assert len(view.lines) == 2 * HIGHLIGHT_LIMIT // len(line) + 1
        view.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        drawn = [view.render_line(y).text for y in range(view.size.height)]
        assert any(f"{len(view.lines) - 1} print('x' * 10)" in row for row in drawn)
        assert not app.screen.highlighted


async def test_board_names_with_markup_and_escapes_in_the_list_and_panes(make_app, config_file):
    name = "[/]k\x1b]0;t\x07[b"
    config_file.write_text('[boards."[/]k\\u001b]0;t\\u0007[b"]\naddress = "socket://127.0.0.1:1"\n')
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        devices = app.screen.query_one(DeviceList)
        key = "socket://127.0.0.1:1"
        await wait_until(lambda: key in devices.boards, what="the configured board")
        assert devices.boards[key].name == name
        devices.select_board(key)
        await wait_until(lambda: app.screen.selected == key)
        await pilot.pause()
        assert "[/]k\ufffd]0;t\ufffd[b is not connected" in assert_clean(app)
        await pilot.press("enter")  # nothing listens there: the error, with the name
        await wait_until(lambda: "error: cannot connect" in painted(app), what="the error")
        assert_clean(app)
        await pilot.press("ctrl+p")  # the palette has a command per board, named
        await pilot.press("o", "p", "e", "n")
        await wait_until(lambda: "Open REPL on [/]k" in painted(app), what="the palette's hit")
        assert_clean(app)
        assert app.is_running
