"""What tripped a new user in the first hour (issue 21), each driven with Pilot against the real
virtual board: the palette's key works in the REPL too and is in the footer, the palette shows
text as text, F1 says how to close it, notifications leave dialogs' hints visible, the REPL
shows the prompt after connecting."""

from __future__ import annotations

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import Footer, Input, TabbedContent

from mptui.ui.screens.help import HelpScreen
from mptui.ui.screens.prompt import PromptScreen
from mptui.ui.widgets.device_list import DeviceList
from mptui.ui.widgets.ota_tab import OtaTab
from mptui.ui.widgets.repl_terminal import ReplTerminal

from .apphelp import SIZE, notices, open_repl, painted, pick_theme, shown
from .conftest import wait_until


def footer_text(app) -> str:
    footer = app.screen.query_one(Footer)
    return " ".join(str(key.render()) for key in footer.children)


async def test_the_palette_key_works_in_the_repl_and_is_in_the_footer(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        terminal = await open_repl(app, pilot)
        await pilot.press("6", "*", "7", "enter")
        await wait_until(lambda: "42" in shown(terminal).splitlines())
        await wait_until(lambda: "f12 Palette" in footer_text(app), what="the footer's key")
        await pilot.press("ctrl+p")  # the board's history: the last line comes back
        await wait_until(lambda: shown(terminal).rstrip().endswith(">>> 6*7"), what="history")
        assert not isinstance(app.screen, CommandPalette)
        await pilot.press("f12")
        await wait_until(lambda: isinstance(app.screen, CommandPalette), what="the palette")
        await pilot.press("escape")
        await wait_until(lambda: isinstance(app.focused, ReplTerminal))
        await pilot.press("ctrl+right_square_bracket")  # outside the REPL Ctrl-P opens it too
        assert isinstance(app.focused, DeviceList)
        await pilot.press("ctrl+p")
        await wait_until(lambda: isinstance(app.screen, CommandPalette), what="the palette")


async def test_a_remapped_palette_key_is_the_one_in_the_footer(make_app, config_file):
    config_file.write_text('[keys]\n"app.command-palette" = "f11"\n')
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: "f11 Palette" in footer_text(app), what="the footer's key")
        await pilot.press("f11")
        await wait_until(lambda: isinstance(app.screen, CommandPalette), what="the palette")


async def test_the_palette_shows_descriptions_as_text_and_no_none(make_app, isolated,
                                                                   monkeypatch):
    from .ota_help import write_project

    monkeypatch.chdir(write_project(isolated / "proj", "1.0", {"main.py": b""}, []))
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("o")
        tab = app.screen.query_one(OtaTab)
        await wait_until(lambda: tab.fleet.project is not None, what="the project")
        helps = [help_text for _, help_text, _ in app.screen.palette_commands()]
        assert helps and not [h for h in helps if "None" in h]
        await pilot.press("f12")
        await wait_until(lambda: isinstance(app.screen, CommandPalette))
        app.screen.query_one(Input).value = "mark the fleet"
        await wait_until(lambda: app.screen.query_one(CommandList).option_count > 0)
        await wait_until(lambda: "Mark the fleet ([ota] boards" in painted(app),
                         what="the command with its [ota] text")
        assert "(None)" not in painted(app)


async def test_help_says_how_to_close_it(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: app.screen.query(DeviceList))
        await pilot.press("f1")
        await wait_until(lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        assert "Esc, F1 or q closes this list" in painted(app)
        await pilot.press("q")
        await wait_until(lambda: not isinstance(app.screen, HelpScreen))


async def test_notifications_leave_the_hints_of_dialogs_visible(make_app, project):
    """A toast over a dialog never covers the line that says its keys (at its bottom)."""
    from textual.widgets._toast import Toast

    from mptui.ui.screens.sync_plan import SyncPlanScreen
    from mptui.ui.screens.watch_setup import WatchSetupScreen

    from .filehelp import open_files

    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_files(app, pilot)
        dialogs = (("f2", SyncPlanScreen, "#sync-keys"), ("w", WatchSetupScreen, "#watch-keys"),
                   ("f1", HelpScreen, None), ("a", PromptScreen, None))
        for key, screen_type, hint in dialogs:
            if screen_type is PromptScreen:  # the board list's Add
                app.screen.query_one(DeviceList).focus()
            await pilot.press(key)
            await wait_until(lambda: isinstance(app.screen, screen_type))  # noqa: B023
            app.notify("a notification\nof three lines\nat least")
            await wait_until(lambda: app.screen.query(Toast))
            await pilot.pause()
            if hint:
                hint_rows = app.screen.query_one(hint).region
            else:  # the hint is on the box's bottom border
                box = app.screen.children[-1].region
                hint_rows = box._replace(y=box.bottom - 1, height=1)
            toast = app.screen.query_one(Toast).region
            assert not toast.overlaps(hint_rows), (
                f"{screen_type.__name__}: the toast {toast} covers the hint {hint_rows}")
            await pilot.press("escape")
            await wait_until(lambda: not isinstance(app.screen, screen_type))  # noqa: B023


CONFIG = """# my boards and my look
[boards.kitchen]      # the one by the fridge
address = "socket://127.0.0.1:1"

[repl]
scrollback = 4000     # enough
"""


async def test_choices_made_in_the_app_are_kept_in_the_config(make_app, config_file, tmp_path):
    config_file.write_text(CONFIG)
    program = tmp_path / "blink.py"
    program.write_text("print('blink ' + str(6*7))\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "mptui-dark"
        await pick_theme(app, pilot, "mptui-light")
        await wait_until(lambda: 'theme = "mptui-light"' in config_file.read_text(),
                         what="the theme in the config file")
        app.screen.query_one(DeviceList).select_board("virtual")
        terminal = await open_repl(app, pilot)
        await pilot.press("ctrl+k")  # asked once, then kept
        await wait_until(lambda: isinstance(app.screen, PromptScreen))
        app.screen.query_one(Input).value = str(program)
        await pilot.press("enter")
        await wait_until(lambda: "blink 42" in shown(terminal), what="the file's output")
        await wait_until(lambda: "inject_file" in config_file.read_text())
    text = config_file.read_text()
    # the user's comments and layout stay; the choices are where they belong
    added = ('theme = "mptui-light"\n\n', f'inject_file = "{program}"\n')
    assert text.replace(added[0], "").replace(added[1], "") == CONFIG
    assert text.index(added[0]) < text.index("[boards.kitchen]")
    assert f'inject_file = "{program}"' in text.split("[repl]")[1]

    app = make_app()  # the next start
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "mptui-light"
        await wait_until(lambda: app.screen.query(DeviceList))
        app.screen.query_one(DeviceList).select_board("virtual")
        terminal = await open_repl(app, pilot)
        await pilot.press("ctrl+k")  # not asked again
        await wait_until(lambda: "blink 42" in shown(terminal), what="the file's output")
        assert not isinstance(app.screen, PromptScreen)


async def test_a_config_that_is_not_toml_is_never_overwritten(make_app, config_file):
    config_file.write_text("theme = [unclosed\n")
    messages = []
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=messages.append):
        app.theme = "mptui-light"
        await wait_until(lambda: any("not saved" in n for n in notices(messages)),
                         what="the warning")
    assert config_file.read_text() == "theme = [unclosed\n"


async def test_a_bridge_board_shows_its_prompt_on_connecting(make_app, bridge):
    """The board behind a bridge runs already and says nothing when a client comes: the REPL
    shows its prompt all the same, no key pressed."""
    app = make_app(device=bridge.socket_url)
    async with app.run_test(size=SIZE):
        await wait_until(lambda: isinstance(app.focused, ReplTerminal), what="the REPL")
        terminal = app.focused
        await wait_until(lambda: shown(terminal).rstrip().endswith(">>>"), what="the prompt")


async def test_the_chart_leaves_the_newest_lines_in_view_and_one_point_per_instant(make_app):
    from mptui.services.logs import LogLine

    from .logs_help import T0, chart, fed, fixture_lines, on_screen, open_logs, settled

    app = make_app(virtual=False)
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_logs(pilot)
        await fed(pilot, fixture_lines(100))
        assert on_screen(tab)[-1].endswith("n=99")
        await pilot.press("g")  # the chart takes half the height: the newest line stays
        plot = chart(tab)
        await wait_until(lambda: plot.display and plot.plotted, what="the chart")
        await settled(pilot)
        await wait_until(lambda: on_screen(tab)[-1].endswith("n=99"), what="the newest line")
        # three lines that came in one batch (one time), then one later
        then = T0 + 100
        await fed(pilot, [LogLine("kitchen", then, f"temp={v}") for v in (30, 20, 10)]
                  + [LogLine("kitchen", then + 1, "temp=40")])
        await wait_until(lambda: plot.plotted["kitchen"][-1] == (then + 1, 40.0))
        assert plot.plotted["kitchen"][-2:] == [(then, 10.0), (then + 1, 40.0)]
        times = [t for t, _ in plot.plotted["kitchen"]]
        assert times == sorted(set(times))  # one point per instant, in order
        assert on_screen(tab)[-1].endswith("temp=40")


async def test_the_local_pane_follows_changes_on_disk(make_app, project):
    from .filehelp import names, open_files

    (project / "notes.txt").write_text("short\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_files(app, pilot)
        pane = tab.local_pane

        def size_of(name: str) -> int | None:
            return next((e.size for e in pane.model.entries if e.name == name), None)

        assert size_of("notes.txt") == 6
        (project / "notes.txt").write_text("x" * 5000)  # saved by an editor elsewhere
        await wait_until(lambda: size_of("notes.txt") == 5000, what="the new size")
        await wait_until(lambda: any(
            "notes.txt" in row and row.endswith(" 5000") for row in
            (str(pane.get_option_at_index(i).prompt) for i in range(pane.option_count))),
            what="the new size drawn")
        (project / "new.py").write_text("N = 1\n")
        await wait_until(lambda: "new.py" in names(pane), what="a new file listed")
        (project / "notes.txt").unlink()
        await wait_until(lambda: "notes.txt" not in names(pane), what="a deleted file gone")


async def test_the_focused_field_of_the_call_form_looks_focused(make_app):
    from mptui.ui.screens.call_form import CallScreen

    from .logs_help import open_logs

    app = make_app(virtual=False)
    async with app.run_test(size=SIZE) as pilot:
        tab = await open_logs(pilot)
        tab.action_call()
        await wait_until(lambda: isinstance(app.screen, CallScreen), what="the form")
        await pilot.pause()
        fields = list(app.screen.query(Input))
        assert len(fields) == 3 and app.focused in fields

        def background(field) -> tuple[int, int, int]:
            return tuple(field.rich_style.bgcolor.get_truecolor())

        for field in fields:
            field.focus()
            await pilot.pause()
            for other in fields:
                if other is not field:  # plainly apart, not a shade
                    apart = sum(abs(a - b) for a, b in zip(background(field), background(other), strict=True))
                    assert apart >= 60, f"{field.id} looks as {other.id} ({apart})"


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
async def test_no_footer_key_is_cut(make_app, project, size):
    """Every key in the footer is whole, in every tab: a key that does not fit is left out
    (F1 lists it), never cut in the middle; F1 and the palette's key are always there."""
    from textual.widgets._footer import FooterKey

    app = make_app()
    async with app.run_test(size=size) as pilot:
        await wait_until(lambda: app.screen.query(DeviceList))
        tabs = app.screen.query_one(TabbedContent)
        for key, tab in (("r", "repl"), ("f", "files"), ("o", "ota"), ("l", "logs")):
            app.screen.query_one(DeviceList).focus()
            await pilot.press(key)
            await wait_until(lambda: tabs.active == tab, what=f"the {tab} tab in front")  # noqa: B023
            await pilot.pause()
            await pilot.pause()
            keys = list(app.screen.query_one(Footer).query(FooterKey))
            palette = [k for k in keys if k.has_class("-command-palette")]
            assert palette and any(k.key_display == "f1" for k in keys), key
            for footer_key in keys:
                region = footer_key.region
                assert region.right <= size[0], f"{key}: {footer_key.render()} is cut"
                if footer_key not in palette:
                    assert region.right <= palette[0].region.x, (
                        f"{key}: {footer_key.render()} runs under the palette's key")
                assert footer_key.content_region.width >= len(str(footer_key.render()))
