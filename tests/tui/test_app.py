"""The app driven with Pilot against a real virtual board: device list, states, the REPL
terminal (keys, output, flood, capture, inject, scrollback, copy, paste), config and themes."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from mptui.board.session import DISCONNECTED, IDLE, RUNNING
from mptui.ui.screens.help import HelpScreen
from mptui.ui.screens.main import MainScreen
from mptui.ui.screens.prompt import PromptScreen
from mptui.ui.widgets.device_list import DeviceList
from mptui.ui.widgets.repl_terminal import ReplTerminal

from .apphelp import SIZE, notices, open_repl, pick_theme, shown, status
from .conftest import wait_until


async def test_first_run_offers_the_virtual_board_and_one_key_opens_its_repl(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        devices = app.screen.query_one(DeviceList)
        await wait_until(lambda: devices.option_count == 1)
        assert devices.selected_key == "virtual"
        assert app.focused is devices
        assert "virtual │ virtual │ disconnected" in status(app)
        terminal = await open_repl(app, pilot)
        assert "MicroPython" in shown(terminal)
        assert "idle at the REPL" in status(app)


async def test_dash_d_opens_connected_with_the_repl_focused(make_app):
    app = make_app(device="virtual:lab")
    async with app.run_test(size=SIZE):
        await wait_until(lambda: isinstance(app.focused, ReplTerminal), what="REPL focus")
        assert app.focused.board_key == "virtual:lab"
        await wait_until(lambda: shown(app.focused).rstrip().endswith(">>>"))
        assert app.manager.board("virtual:lab").state == IDLE


async def test_keys_reach_the_board(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = await open_repl(app, pilot)
        await pilot.press("6", "7", "left", "*", "end", "enter")  # line editing on the board
        await wait_until(lambda: ">>> 6*7\n42\n>>>" in shown(terminal), what="42")
        await pilot.press("i", "m", "p", "o", "tab")  # the board's tab completion
        await wait_until(lambda: shown(terminal).rstrip().endswith(">>> import"))
        # the virtual board's Ctrl-C is a signal: let it land before typing on, as one would
        await pilot.press("ctrl+c")
        await wait_until(lambda: shown(terminal).rstrip().endswith(">>> import\n>>>"))
        await pilot.press("ctrl+e")  # paste mode
        await wait_until(lambda: "paste mode; Ctrl-C to cancel" in shown(terminal))
        await pilot.press("ctrl+c")
        await wait_until(lambda: shown(terminal).rstrip().endswith(">>>"))
        await pilot.press("up", "backspace", "8", "enter")  # history: 6*7 becomes 6*8
        await wait_until(lambda: "48" in shown(terminal).splitlines(), what="48")
        await pilot.press("ctrl+d")
        await wait_until(lambda: "MPY: soft reboot" in shown(terminal))
        await wait_until(lambda: shown(terminal).rstrip().endswith(">>>"))


async def test_ctrl_c_stops_a_running_program(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = await open_repl(app, pilot)
        terminal.send(b"while True: pass\r\r")
        await app.manager.wait_state("virtual", RUNNING)
        await wait_until(lambda: "running a program" in status(app))
        await pilot.press("ctrl+c")
        await wait_until(lambda: "KeyboardInterrupt" in shown(terminal))
        await app.manager.wait_state("virtual", IDLE)


async def test_the_leave_key_releases_focus(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_repl(app, pilot)
        await pilot.press("ctrl+right_square_bracket")
        assert isinstance(app.focused, DeviceList)
        await pilot.press("r")  # back into the REPL
        assert isinstance(app.focused, ReplTerminal)


async def test_a_flood_is_rendered_and_input_still_gets_through(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = await open_repl(app, pilot)
        terminal.send(b"for i in range(100000): print(i)\r\r")
        await wait_until(
            lambda: shown(terminal).rstrip().endswith("99999\n>>>"),
            timeout=60,
            what="the end of the flood on screen",
        )
        assert terminal.received > 600_000
        model = terminal.model
        kept = [model.text(n) for n in range(model.first_line, model.screen_top + model.lines)]
        numbers = kept[: kept.index("99999") + 1][-4000:]
        assert numbers == [str(i) for i in range(96000, 100000)]  # the scrollback is intact
        # an endless flood: Ctrl-C still gets through and the prompt comes back
        terminal.send(b"while True: print(12345678)\r\r")
        await wait_until(lambda: terminal.received > 2_000_000, timeout=60, what="flooding")
        await pilot.press("ctrl+c")
        await wait_until(
            lambda: "KeyboardInterrupt" in shown(terminal)
            and shown(terminal).rstrip().endswith(">>>"),
            timeout=60,
            what="the prompt after the flood",
        )


async def test_an_echo_and_a_prompt_are_painted_without_the_screens_update_beat(make_app):
    """The terminal paints a key's echo, and output after a pause, itself: with the screen's
    update beat stopped, the frame that shows them is still written to the terminal."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = await open_repl(app, pilot)
        await pilot.pause()
        written: list[str] = []  # the model's last line at each frame written
        display = app._display

        def spy(screen, update) -> None:
            display(screen, update)
            written.append(terminal.model.text(terminal.model.screen_top + terminal.model.cursor[1]))

        app._display = spy
        beat = app.screen._update_timer
        beat.pause()
        beat.resume = lambda: None  # the beat never comes again
        terminal.send(b"6")
        await wait_until(lambda: ">>> 6" in written, what="the echo painted")
        terminal.send(b"*7\r")
        await wait_until(lambda: ">>>" in written[written.index(">>> 6") + 1:],
                         what="the next prompt painted")
        assert shown(terminal).rstrip().endswith("42\n>>>")


async def test_capture_to_a_file(make_app, isolated):
    target = isolated / "capture.log"
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = await open_repl(app, pilot)
        await pilot.press("f2")
        await wait_until(lambda: isinstance(app.screen, PromptScreen))
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_until(lambda: terminal.capturing)
        await wait_until(lambda: "capturing to capture.log" in status(app), what="the status")
        terminal.send(b"print('captured', 6*7)\r")
        await wait_until(lambda: "captured 42" in shown(terminal))
        await pilot.press("f2")
        assert not terminal.capturing
    assert b"captured 42\r\n>>> " in target.read_bytes()


async def test_inject_code_asks_once_then_repeats(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = await open_repl(app, pilot)
        await pilot.press("ctrl+j")
        await wait_until(lambda: isinstance(app.screen, PromptScreen))
        app.screen.query_one(Input).value = "print('inj' + 'ected')"
        await pilot.press("enter")
        await wait_until(lambda: shown(terminal).count("injected\n") == 1)
        await pilot.press("ctrl+j")
        await wait_until(lambda: shown(terminal).count("injected\n") == 2)


async def test_inject_file_runs_it_with_output_in_the_repl(make_app, config_file, isolated):
    script = isolated / "blink.py"
    script.write_text("for n in range(3):\n    print('blink', n)\n")
    config_file.write_text(f"[repl]\ninject_file = {str(script)!r}\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = await open_repl(app, pilot)
        await pilot.press("ctrl+k")
        await wait_until(lambda: "blink 2" in shown(terminal))
        await wait_until(lambda: shown(terminal).rstrip().endswith(">>>"))
        lines = shown(terminal).splitlines()
        before = "".join(lines[: lines.index("blink 0")])  # the notice may wrap
        assert before.endswith(f"[running {script}]")


async def test_hex_display_of_non_printable_bytes(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = await open_repl(app, pilot)
        await pilot.press("f3")
        assert terminal.hex and "hex" in status(app)
        terminal.send(b"print('A\\x01B')\r")
        await wait_until(lambda: "A01B" in shown(terminal).splitlines())


async def test_scrollback_keys_wheel_and_copy(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = await open_repl(app, pilot)
        terminal.send(b"for i in range(200): print('line', i)\r\r")
        await wait_until(lambda: "line 199" in shown(terminal))
        await wait_until(lambda: shown(terminal).rstrip().endswith(">>>"))
        await pilot.press("shift+pageup")
        assert terminal.scrolled_back == terminal.size.height - 1
        terminal.post_message(events.MouseScrollUp(terminal, 1, 1, 0, 0, 0, False, False, False))
        await pilot.pause()
        assert terminal.scrolled_back == terminal.size.height + 2
        top = terminal.render_line(1).text  # row 0 carries the "lines back" bar
        assert top.startswith("line ")
        await pilot.press("ctrl+insert")  # copies the screen as shown
        assert top.rstrip() in app.clipboard.splitlines()
        await pilot.press("shift+end")
        assert terminal.scrolled_back == 0


async def test_mouse_selection_copies_and_paste_uses_paste_mode(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = await open_repl(app, pilot)
        terminal.send(b"6*7\r")
        await wait_until(lambda: "42" in shown(terminal).splitlines())
        row = shown(terminal).splitlines().index("42")
        await pilot.mouse_down(terminal, offset=(0, row))
        terminal.post_message(events.MouseMove(terminal, 1, row, 1, 0, 1, False, False, False))
        await pilot.pause()
        await pilot.mouse_up(terminal, offset=(1, row))
        assert app.clipboard == "42"
        terminal.post_message(events.Paste("x = 6\ndef f():\n    return x * 7\n\nprint(f())\n"))
        await wait_until(lambda: shown(terminal).splitlines().count("42") == 2, what="pasted code ran")
        assert "=== def f():" in shown(terminal)


async def test_disconnect_reset_and_reconnect_are_shown(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = await open_repl(app, pilot)
        devices = app.screen.query_one(DeviceList)
        await pilot.press("ctrl+right_square_bracket", "s")  # soft reset from the board list
        await wait_until(lambda: "MPY: soft reboot" in shown(terminal))
        await pilot.press("ctrl+r")  # hard reset
        await wait_until(lambda: "[hard reset]" in shown(terminal))
        await wait_until(lambda: app.manager.board("virtual").state == IDLE)
        session = app.manager.session("virtual")
        before = shown(terminal).count("[reconnected]")  # a hard reset drops a USB link too
        await session.transport.board.stop()  # the link drops
        await wait_until(lambda: shown(terminal).count("[reconnected]") > before, what="reconnected")
        assert "[link lost: the virtual board stopped; reconnecting]" in shown(terminal)
        await pilot.press("d")
        await wait_until(lambda: app.manager.board("virtual").state == DISCONNECTED)
        await wait_until(lambda: "[disconnected]" in shown(terminal))
        assert "disconnected" in str(devices.get_option_at_index(0).prompt)
        assert "virtual │ virtual │ disconnected" in status(app)
        await pilot.press("c")
        await wait_until(lambda: app.manager.board("virtual").state == IDLE)
        assert "idle at the REPL" in str(devices.get_option_at_index(0).prompt)


async def test_usb_boards_come_first_and_are_marked_gone(make_app, usb_ports):
    app = make_app()
    async with app.run_test(size=SIZE):
        devices = app.screen.query_one(DeviceList)
        usb_ports.plug("/dev/ttyACM0")
        await wait_until(lambda: devices.option_count == 2, what="the USB board listed")
        assert devices.selected_key == "/dev/ttyACM0"  # preferred over the virtual board
        usb_ports.unplug("/dev/ttyACM0")
        await wait_until(lambda: "gone" in str(devices.get_option_at_index(0).prompt))
        assert "✕" in str(devices.get_option_at_index(0).prompt)
        assert "ttyACM0 │ /dev/ttyACM0 │ gone" in status(app)


async def test_a_board_connected_with_c_keeps_the_cursor_when_a_board_listed_first_comes(
        make_app, usb_ports):
    """c is the user's choice: a board that comes later (a USB one, an agent announcing
    itself) and is listed first does not take the cursor, nor the next Enter."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        devices = app.screen.query_one(DeviceList)
        await wait_until(lambda: devices.option_count >= 1 and app.focused is devices)
        await pilot.press("c")
        await app.manager.wait_state("virtual", IDLE)
        usb_ports.plug("/dev/ttyACM0")
        await wait_until(lambda: devices.option_count == 2, what="the USB board listed")
        assert devices.selected_key == "virtual"
        assert "/dev/ttyACM0" not in status(app)


async def test_a_bad_config_is_one_error_and_defaults_are_used(make_app, config_file):
    config_file.write_text('theme = "mptui-light"\n[keys]\n"repl.leave" = 12\n')
    messages = []
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=messages.append):
        await wait_until(lambda: notices(messages))
        errors = notices(messages)
        assert errors == [f"config ignored: {config_file}, line 3: [keys] 'repl.leave' must be a key name"]
        assert app.theme == "mptui-dark"  # defaults, not half the file


async def test_theme_and_keys_from_the_config(make_app, config_file):
    config_file.write_text(
        'theme = "mptui-light"\n[keys]\n"repl.leave" = "f12"\n"no.such-binding" = "x"\n'
    )
    messages = []
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        assert app.theme == "mptui-light"
        assert notices(messages) == ["config [keys]: unknown binding id 'no.such-binding' (F1 lists them)"]
        terminal = await open_repl(app, pilot)
        await pilot.press("ctrl+right_square_bracket")  # no longer the leave key: sent on
        assert app.focused is terminal
        await pilot.press("f12")
        assert isinstance(app.focused, DeviceList)


async def test_bad_theme_files_are_reported_and_skipped(make_app, config_file):
    themes = config_file.parent / "themes"
    themes.mkdir()
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "#12345G"\n')
    (themes / "mine.toml").write_text('name = "mine"\nprimary = "#884488"\ndark = false\n')
    config_file.write_text('theme = "mine"\n')
    messages = []
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=messages.append):
        assert notices(messages) == [
            f"theme skipped: {themes / 'broken.toml'}, line 2: bad colour '#12345G' for 'primary'"
        ]
        assert app.theme == "mine"
        assert "broken" not in app.available_themes
        assert {"mptui-dark", "mptui-light"} <= set(app.available_themes)


async def test_the_theme_is_set_before_the_first_screen(make_app, config_file):
    """The config's theme is the app's before its stylesheet is first read: the first screen's
    CSS is not parsed and applied a second time over it (~25 ms before the prompt)."""
    config_file.write_text('theme = "mptui-light"\n')
    app = make_app()
    refreshed_over: list[list[str]] = []
    refresh_css = app.refresh_css

    def spy(animate: bool = True) -> None:
        refreshed_over.append([type(s).__name__ for s in app.screen_stack])
        refresh_css(animate)

    app.refresh_css = spy  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: isinstance(app.screen, MainScreen), what="the main screen")
        await pilot.pause()
        assert app.theme == "mptui-light"
        assert app.theme_variables["background"] == app.get_theme("mptui-light").background
        assert not [stack for stack in refreshed_over if "MainScreen" in stack]
        await pick_theme(app, pilot, "mptui-dark")  # a theme picked later still restyles it
        await wait_until(lambda: any("MainScreen" in stack for stack in refreshed_over),
                         what="the CSS refreshed for the new theme")
        assert app.theme_variables["background"] == app.get_theme("mptui-dark").background


async def test_an_unknown_theme_is_said_and_the_config_left_as_written(make_app, config_file):
    """The default theme stands in (a warning says so); the config keeps the name the user
    wrote (a typo to fix), not the stand-in: only a theme picked in the app is remembered."""
    config_file.write_text('theme = "nosuch"\n')
    messages = []
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await wait_until(lambda: isinstance(app.screen, MainScreen), what="the main screen")
        await pilot.pause()
        assert app.theme == "mptui-dark"
        assert notices(messages) == ["unknown theme 'nosuch'; using mptui-dark (F9 lists themes)"]
        await app.workers.wait_for_complete()
    assert config_file.read_text() == 'theme = "nosuch"\n'


async def test_the_main_screen_is_styled_once_when_first_shown(make_app):
    """Its nodes are styled as they are mounted; its first resume does not style them all
    again (Textual's default on every resume)."""
    app = make_app()
    restyled: list[bool] = []
    real_update = MainScreen.update_node_styles

    def update_node_styles(screen: MainScreen, animate: bool = True) -> None:
        restyled.append(True)
        real_update(screen, animate)

    MainScreen.update_node_styles = update_node_styles  # type: ignore[method-assign]
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(lambda: isinstance(app.screen, MainScreen), what="the main screen")
            await pilot.pause()
            assert restyled == []
    finally:
        MainScreen.update_node_styles = real_update  # type: ignore[method-assign]


async def test_f1_lists_every_key_and_the_palette_every_action(make_app, config_file):
    config_file.write_text('[keys]\n"repl.capture" = "f7"\n')
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_repl(app, pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        ids = {entry.id for entry in app.screen.keys}
        assert {"app.quit", "app.help", "board.connect", "board.open", "repl.leave",
                "repl.capture", "repl.inject-code", "repl.inject-file", "repl.hex"} <= ids
        capture = next(e for e in app.screen.keys if e.id == "repl.capture")
        assert capture.keys == ("f7",)
        await pilot.press("escape")
        main = app.screen
        titles = [c.title for c in app.get_system_commands(main)]
        assert "Open REPL on virtual" in titles
        assert "Boards: Disconnect the selected board" in titles
        assert "REPL: Capture the board's output to a file; again to stop" in titles
        assert "Theme" in titles


async def test_typing_while_disconnected_says_so_once(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = await open_repl(app, pilot)
        await app.manager.disconnect("virtual")
        await pilot.press("x", "y")
        await wait_until(lambda: "[not connected" in shown(terminal))
        assert shown(terminal).count("[not connected") == 1


async def test_the_theme_command_switches_themes(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "mptui-dark"
        await pick_theme(app, pilot, "mptui-light")
        await wait_until(lambda: app.theme == "mptui-light", what="the light theme")


async def test_a_bad_address_on_the_command_line_is_one_error(make_app):
    messages = []
    app = make_app(device="bogus://board")
    async with app.run_test(size=SIZE, message_hook=messages.append):
        await wait_until(lambda: notices(messages))
        assert notices(messages)[0].startswith("unknown device address 'bogus://board'; valid forms:")
        assert isinstance(app.focused, DeviceList)  # the app runs on
