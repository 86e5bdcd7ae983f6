"""The app: themes, keymap, help, and the DeviceManager's life; the main screen does the rest."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterable, Sequence
from functools import partial
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from mptui import log
from mptui.config import Config
from mptui.errors import MptuiError
from mptui.services.manager import DeviceManager
from mptui.settings import remember
from mptui.ui.keys import Group, binding_ids, key_help
from mptui.ui.quiet import when_quiet
from mptui.ui.safe_text import printable
from mptui.ui.screens.main import MainScreen
from mptui.ui.tab import Tab
from mptui.ui.tabs import TABS
from mptui.ui.themes import DEFAULT_THEME, all_themes, theme_problem, variable_defaults
from mptui.ui.widgets.device_list import DeviceList

logger = logging.getLogger(__name__)
GLOBAL_KEY_IDS = ("app.quit",)  # keys that work even in the REPL (not sent to the board)
# The palette's key: an F-key, so it works in the REPL too, where Ctrl-P is the board's history
# (Ctrl-P still opens it everywhere else). Not F10, which GNOME Terminal and Firefox keep.
PALETTE_KEY = "f12"
FREEZE_AFTER = 2.0  # seconds after start-up (the main screen makes its other tabs by then)


class MptuiApp(App):
    TITLE = "mptui"
    COMMAND_PALETTE_BINDING = PALETTE_KEY  # the footer shows the key bound to it
    # Over a dialog, notifications go to the top: its keys' hints are at its bottom.
    CSS = """
    ModalScreen ToastRack { dock: top; align: right top; margin-bottom: 0; }
    """
    BINDING_GROUP_TITLE = "App"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="app.quit",
                tooltip="Quit (works in the REPL too)"),
        Binding("f1", "help", "Help", id="app.help", tooltip="This list of keys"),
        Binding(f"{PALETTE_KEY},ctrl+p", "command_palette", "Palette", show=False,
                priority=True, id="app.command-palette",
                tooltip="Command palette: every action, boards, themes (Ctrl-P too, outside "
                        "the REPL)"),
        Binding("f9", "change_theme", "Theme", show=False, id="app.theme",
                tooltip="Choose a theme"),
    ]

    def __init__(
        self, config: Config, manager: DeviceManager | None = None, device: str | None = None,
        tabs: Sequence[Tab] = TABS, run_macro=None,
    ) -> None:
        super().__init__()
        # runs a [commands] macro on a session (the command line's chain runner, given by it)
        self.run_macro = run_macro
        self.config = config
        self.manager = manager or DeviceManager(config)
        self.device = device
        self.tabs = tuple(tabs)
        self.keymap: dict[str, str] = dict(config.keys)
        self.theme_errors: list[str] = []
        # the theme before the stylesheet is first read: set once mounted, every rule would be
        # parsed and applied again over the whole first screen (~25 ms before the prompt)
        self._theme_warnings = self._load_themes()

    def key_groups(self) -> list[Group]:
        return key_groups(self.tabs)

    async def on_mount(self) -> None:
        for warning in self._theme_warnings:
            self.notify(warning, severity="warning", timeout=15)
        self.theme_changed_signal.subscribe(self, self._theme_picked)
        self._apply_keymap()
        if self.config.error:
            self.notify(f"config ignored: {self.config.error}", severity="error", timeout=15)
        await self.manager.start(settle=0.3)
        await self.push_screen(MainScreen(self.manager, self.tabs, device=self.device))
        self.set_timer(FREEZE_AFTER, partial(when_quiet, self, self._freeze))

    def _freeze(self) -> None:
        """What exists once the app is up (every tab made) lives as long as the app: keep it
        out of Python's full collections, which otherwise stop the loop for ~70 ms while lines
        pour in (bench/logs_tab.py). Not at start-up: the collection itself takes ~30 ms."""
        gc.collect()
        gc.freeze()
        gc.enable()  # (off for the start-up: mptui.ui.launch)

    async def on_unmount(self) -> None:
        gc.unfreeze()
        await self.manager.stop()

    def _load_themes(self) -> list[str]:
        """Register the themes and take the config's; the warnings to show once mounted."""
        themes, self.theme_errors = all_themes()
        for theme in themes:
            self.register_theme(theme)
        warnings = [f"theme skipped: {error}" for error in self.theme_errors]
        wanted = self.config.theme or DEFAULT_THEME
        problem = theme_problem(wanted, themes)
        if problem:
            warnings.append(f"{problem}; using {DEFAULT_THEME} (F9 lists themes)")
            wanted = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self.theme = wanted
        return warnings

    def _theme_picked(self, theme) -> None:
        """A theme picked with F9 or the palette is the theme from now on, next time too."""
        if theme.name != (self.config.theme or DEFAULT_THEME):
            self.config.theme = theme.name
            self.remember({"theme": theme.name})

    def remember(self, values: dict[str, str]) -> None:
        """Keep choices made in the app in the config file (mptui.settings), off the loop;
        a file that cannot take them is one warning."""

        async def write() -> None:
            error = await asyncio.to_thread(remember, self.config.path, values)
            if error:
                self.notify(error, severity="warning", timeout=10)

        self.run_worker(write(), group="settings")

    @staticmethod
    def unknown_key_ids(keymap: dict[str, str], tabs: Sequence[Tab] = TABS) -> list[str]:
        """Binding ids of a keymap that no binding has (the app and `config check` ask)."""
        return sorted(set(keymap) - binding_ids(key_groups(tabs)))

    def _apply_keymap(self) -> None:
        if not self.keymap:  # nothing to check (the tabs' modules stay unimported until needed)
            return
        known = binding_ids(self.key_groups())
        unknown = self.unknown_key_ids(self.keymap, self.tabs)
        if unknown:
            self.notify(
                f"config [keys]: unknown binding id {unknown[0]!r} (F1 lists them)",
                severity="warning",
                timeout=15,
            )
        keymap = {k: v for k, v in self.keymap.items() if k in known}
        taken = {key.strip() for keys in keymap.values() for key in keys.split(",")}
        if "app.command-palette" not in keymap and PALETTE_KEY in taken:
            keymap["app.command-palette"] = "ctrl+p"  # the user gave its F-key to another
        self.set_keymap(keymap)
        palette = keymap.get("app.command-palette", "").split(",")[0].strip()
        if palette:  # the footer looks the palette's key up by this name
            # (this app's: tests run several apps, each with its own keymap)
            self.COMMAND_PALETTE_BINDING = palette  # type: ignore[misc]

    def worker_failed(self, error: Exception, board: str | None = None, label: str = "",
                      what: str = "") -> None:
        """The one place a worker's failure is shown (ui/workers.py): its one line in a
        notification, and in the board's state when the work was for one; an error mptui did
        not expect is a bug: the line names the log file, which has the traceback."""
        if isinstance(error, MptuiError):
            message = error.message
            logger.info("%s: %s", what or "worker", message)
        else:
            message = log.unexpected(logger, error, what)
        try:
            name = self.manager.board(board).name if board else ""
        except KeyError:
            name = board or ""
        prefix = name or label
        self.notify(f"{prefix}: {message}" if prefix else message, severity="error", timeout=15)
        if board:
            self.manager.report_error(board, message)

    def notify(self, message: str, *, title: str = "", severity="information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification as plain text: messages carry names and errors from boards,
        and `[/]` in a file name is no markup (Textual's default would fail on it and stop the
        app), nor may a control character in one reach the terminal."""
        super().notify(printable(message, keep="\n"), title=printable(title), severity=severity,
                       timeout=timeout, markup=False)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return variable_defaults(self.current_theme.to_color_system().generate())

    def global_keys(self) -> set[str]:
        """Keys the REPL lets through to the app (quit), after the keymap."""
        keys: set[str] = set()
        for entry in key_help([("App", MptuiApp)], self.keymap):
            if entry.id in GLOBAL_KEY_IDS:
                keys.update(entry.keys)
        return keys

    async def action_quit(self) -> None:
        """Ctrl-Q: quit; when an editor holds unsaved changes, after a yes (Ctrl-Q again, too)."""
        from mptui.ui.screens.confirm import ConfirmScreen
        from mptui.ui.screens.file_edit import FileEditScreen

        unsaved = [s for s in self.screen_stack if isinstance(s, FileEditScreen) and s.modified]
        if not unsaved or (isinstance(self.screen, ConfirmScreen) and self.screen.id == "quit"):
            self.exit()
            return
        names = ", ".join(s.info.name for s in unsaved)
        question = ConfirmScreen(f"Quit without saving {names}?",
                                 "Ctrl-S in the editor saves it.", title="Unsaved")
        question.id = "quit"

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(question, answered)

    def action_help(self) -> None:
        from mptui.ui.screens.help import HelpScreen  # (the dialogs: not at start-up)

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(key_help(self.key_groups(), self.keymap)))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        main = next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)
        if main is not None:
            for title, help_text, callback in main.palette_commands():
                yield SystemCommand(title, help_text, callback)


def key_groups(tabs: Sequence[Tab]) -> list[Group]:
    """Where bindings live, for the help screen and keymap checks: the app, the main screen
    with a key per tab, the board list, then each tab's own."""
    return [
        ("App", MptuiApp),
        ("Boards", MainScreen),
        ("Boards", [tab.binding for tab in tabs]),
        ("Board list", DeviceList),
        *(group for tab in tabs for group in tab.key_groups()),
    ]
