"""The line under the Logs tab's lines: following or paused (and how many lines wait), what is
wrong (a bad filter), what was lost (dropped by a board because this listener fell behind, or
pushed out by the limit), then how many lines are shown and kept of how many allowed. The most
urgent first: a narrow terminal cuts the end."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from mptui.ui.log_feed import LogFeed
from mptui.ui.ota_text import plural


class LogsStatus(Static):
    DEFAULT_CSS = """
    LogsStatus { height: 1; width: 1fr; background: $panel; padding: 0 1; }
    """

    def show(self, feed: LogFeed, following: bool, problem: str = "") -> None:
        if feed.paused:
            state = Content.styled(f"⏸ paused, {plural(feed.held, 'new line')} held "
                                   "(p resumes)", "bold $warning")
        elif following:
            state = Content.styled("following", "$success")
        else:
            state = Content.styled("not following (End follows)", "$text-muted")
        buffer = feed.buffer
        parts = [state]
        if problem:
            parts.append(Content.styled(problem, "$error"))
        lost = sum(buffer.board_dropped.values())
        if lost:
            parts.append(Content.styled(f"{lost:,} dropped by boards", "$warning"))
        if buffer.evicted:
            parts.append(Content.styled(f"{buffer.evicted:,} pushed out", "$text-muted"))
        parts.append(Content(f"{len(feed.shown):,} shown of {len(buffer):,} "
                             f"(keeps {buffer.limit:,})"))
        self.update(Content(" · ").join(parts))
