"""What the OTA tab says when there is no project to push: why, and how to make one."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

HOW = (
    "To set one up, run this in your project's folder:\n\n"
    "    mptui ota init                  mptui.toml [ota], app/, the secrets file\n"
    "    mptui ota install -d ADDRESS    the agent, once per board\n\n"
    "then start mptui there, or press {open} to open a project folder."
)


class OtaEmptyState(Static, can_focus=True):
    """Focusable, so that the OTA keys (open a project, history) work from here."""

    DEFAULT_CSS = """
    OtaEmptyState { width: 1fr; height: 1fr; padding: 1 2; }
    OtaEmptyState:focus { background: $boost; }
    """

    def show_reason(self, reason: str, open_key: str, muted: str = "dim") -> None:
        """`reason`: why there is none (or that it is being loaded); `open_key`: the key that
        opens a project."""
        if not reason:
            self.update(Text("Loading the OTA project…", muted))
            return
        self.update(Text.assemble(("No OTA project. ", "bold"), reason, "\n\n",
                                  (HOW.format(open=open_key), muted)))
