"""Under the Logs tab's lines, when asked: a live chart (textual-plotext) of one number in the
lines (`temp=24.3 hum=61`: temp or hum), one series per board in the board's colour. The key is
chosen from those seen; x is seconds before the newest point."""

from __future__ import annotations

from dataclasses import dataclass

from rich.color import Color
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Label, Select
from textual_plotext import PlotextPlot

Series = dict[str, list[tuple[float, float]]]  # board -> (time, value), oldest first


class LogChart(Vertical):
    DEFAULT_CSS = """
    LogChart { height: 50%; min-height: 8; border-top: hkey $panel; display: none; }
    LogChart.-open { display: block; }
    LogChart > #chart-bar { height: 1; }
    LogChart > #chart-bar > Label { padding: 0 1; color: $text-muted; }
    LogChart > #chart-bar > Select { width: 28; }
    LogChart > PlotextPlot { height: 1fr; }
    """

    @dataclass
    class KeyChosen(Message):
        chart: LogChart
        key: str | None

        @property
        def control(self) -> LogChart:
            return self.chart

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.keys: list[str] = []
        self.key: str | None = None
        self.plotted: Series = {}  # what the chart shows now

    def compose(self) -> ComposeResult:
        with Horizontal(id="chart-bar"):
            yield Label("Chart of")
            yield Select([], prompt="a number key", id="chart-key", compact=True)
            yield Label("", id="chart-note")
        yield PlotextPlot(id="chart-plot")

    @property
    def select(self) -> Select:
        return self.query_one("#chart-key", Select)

    def show_keys(self, keys: list[str], chosen: str | None) -> None:
        """The keys to choose from (those seen so far) and the one chosen."""
        self.key = chosen
        if keys != self.keys:
            self.keys = list(keys)
            with self.prevent(Select.Changed):
                self.select.set_options((key, key) for key in keys)
        if chosen is not None and self.select.value != chosen:
            with self.prevent(Select.Changed):
                self.select.value = chosen
        note = "" if keys else "no key=value numbers in the lines yet"
        self.query_one("#chart-note", Label).update(note)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        key = None if event.value is Select.NULL else str(event.value)
        if key != self.key:
            self.key = key
            self.post_message(self.KeyChosen(self, key))

    def plot(self, series: Series, colours: dict[str, Color | None]) -> None:
        """Draw the chosen key's series: x in seconds before the newest point of any board."""
        self.plotted = series
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        newest = max((points[-1][0] for points in series.values() if points), default=0.0)
        for board, points in series.items():
            if not points:
                continue
            colour = colours.get(board)
            rgb = colour.get_truecolor() if colour else None
            plt.plot([t - newest for t, _ in points], [v for _, v in points],
                     label=board if len(series) > 1 else None, marker="braille",
                     color=(rgb.red, rgb.green, rgb.blue) if rgb else "default")
        plt.xlabel("seconds (0: the newest)")
        plot.refresh()
