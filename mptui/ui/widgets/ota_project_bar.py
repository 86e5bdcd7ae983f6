"""The OTA tab's first line: which project, which release, and how it is protected."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from mptui.services.ota.fleet import OtaFleet
from mptui.ui.ota_text import Styles, plural, size


def shown_path(path: Path) -> str:
    """Relative to the current directory when inside it, else with ~ for the home folder."""
    path = path.resolve()
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        pass
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except (ValueError, RuntimeError):
        return str(path)


class OtaProjectBar(Static):
    DEFAULT_CSS = """
    OtaProjectBar { height: auto; padding: 0 1; background: $boost; }
    """

    def show_project(self, fleet: OtaFleet, look: Styles) -> None:
        project = fleet.project
        if project is None:
            self.update("")
            return
        line = Text.assemble(("Project ", "bold"), shown_path(project.path), " · release ",
                             (project.version, "bold"))
        if fleet.project_error:
            line.append(" · ")
            line.append(fleet.project_error, look.failed)
        else:
            line.append(f" ({plural(fleet.release_files, 'file')}, "
                        f"{size(fleet.release_bytes)})")
        secrets = project.secrets
        line.append(" · ")
        if secrets and secrets.signing_key:
            line.append("signed")
        else:
            line.append("not signed", look.busy)
        line.append(" · ")
        line.append("password" if secrets and secrets.password else "no password")
        self.update(line)
