"""The tabs of the main screen, in order: one entry each (see `mptui.ui.tab` for what an entry
and its widget answer). A new tab is its widget and one line here."""

from __future__ import annotations

from mptui.ui.screens.file_edit import FileEditScreen
from mptui.ui.tab import Tab
from mptui.ui.widgets.file_pane import FilePane
from mptui.ui.widgets.files_tab import FilesTab
from mptui.ui.widgets.logs_tab import LogsTab
from mptui.ui.widgets.ota_tab import OtaTab
from mptui.ui.widgets.repl_tab import ReplTab
from mptui.ui.widgets.repl_terminal import ReplTerminal

TABS: tuple[Tab, ...] = (
    Tab("repl", "REPL", "r", ReplTab, (("REPL", ReplTerminal),),
        help="Show the REPL tab, focus in the terminal"),
    Tab("files", "Files", "f", FilesTab, (("Files", FilesTab), ("File pane", FilePane),
                                         ("File editor", FileEditScreen))),
    Tab("ota", "OTA", "o", OtaTab, (("OTA", OtaTab),)),
    Tab("logs", "Logs", "l", LogsTab, (("Logs", LogsTab),)),
)
