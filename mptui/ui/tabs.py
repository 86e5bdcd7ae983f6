"""The tabs of the main screen, in order: one entry each (see `mptui.ui.tab` for what an entry
and its widget answer). A new tab is its widget and one line here. Widgets are named by
"module:Class": the first tab's is imported at start-up, the others when first needed."""

from __future__ import annotations

from mptui.ui.tab import Tab

W = "mptui.ui.widgets."

TABS: tuple[Tab, ...] = (
    Tab("repl", "REPL", "r", W + "repl_tab:ReplTab", (("REPL", W + "repl_terminal:ReplTerminal"),),
        help="Show the REPL tab, focus in the terminal"),
    Tab("files", "Files", "f", W + "files_tab:FilesTab",
        (("Files", W + "files_tab:FilesTab"), ("File pane", W + "file_pane:FilePane"),
         ("File editor", "mptui.ui.screens.file_edit:FileEditScreen"))),
    Tab("ota", "OTA", "o", W + "ota_tab:OtaTab", (("OTA", W + "ota_tab:OtaTab"),)),
    Tab("logs", "Logs", "l", W + "logs_tab:LogsTab", (("Logs", W + "logs_tab:LogsTab"),)),
)
