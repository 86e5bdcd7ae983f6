"""The line under the Logs tab's lines: following or paused (and how many lines wait), what is
wrong (a bad filter), what was lost (dropped by a board because this listener fell behind, or
pushed out by the limit), then how many lines are shown and kept of how many allowed. The most
urgent first; where the full wording does not fit, a shorter one that does."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from mptui.ui.models.logs import LogFeed, LogsModel
from mptui.ui.ota_text import plural

SEPARATOR = Content(" · ")


class LogsStatus(Static):
    DEFAULT_CSS = """
    LogsStatus { height: 1; width: 1fr; background: $panel; padding: 0 1; }
    """

    _wordings: tuple[Content, ...] = ()

    def show(self, model: LogsModel) -> None:
        said = wordings(model.feed, model.following, model.problem)
        self._wordings = tuple(SEPARATOR.join(p) for p in said)
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        if not self._wordings:
            return
        width = self.content_size.width
        fits = [w for w in self._wordings if w.cell_length <= width]
        self.update(fits[0] if fits else self._wordings[-1])  # else the end is cut


def wordings(feed: LogFeed, following: bool, problem: str) -> list[list[Content]]:
    """The status said three ways, longest first."""
    buffer = feed.buffer
    if feed.paused:
        held = plural(feed.held, "new line")
        state = (f"⏸ paused, {held} held (p resumes)", f"⏸ paused, {feed.held:,} held")
        state_style = "bold $warning"
    elif following:
        state, state_style = ("following", "following"), "$success"
    else:
        state, state_style = ("not following (End follows)", "not following"), "$text-muted"
    lost = sum(buffer.board_dropped.values())
    shown, kept = f"{len(feed.shown):,}", f"{len(buffer):,}"
    said: list[list[Content]] = []
    for long in (True, True, False):
        parts = [Content.styled(state[0 if long else 1], state_style)]
        if problem:
            parts.append(Content.styled(problem, "$error"))
        if lost:
            parts.append(Content.styled(f"{lost:,} dropped" + " by boards" * long, "$warning"))
        if buffer.evicted:
            parts.append(Content.styled(f"{buffer.evicted:,} pushed out", "$text-muted"))
        count = f"{shown} shown of {kept}" if long else f"{shown}/{kept} shown"
        if not said:
            count += f" (keeps {buffer.limit:,})"
        parts.append(Content(count))
        said.append(parts)
    return said
