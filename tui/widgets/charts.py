"""Live loss and accuracy charts (textual-plotext), redrawn at most ~10 times a second.

The chart reads the app's :class:`~miniframe.tui.history.MetricHistory`; a timer on the
widget (not the app) checks the history's version and replots only when it changed, so a
fast run does not redraw the chart on every epoch. Replotting is costly (plotext builds the
whole canvas: ~2-5 ms of CPU at 80×24-120×40, more on big terminals, plus the screen update)
and the UI shares the interpreter with the training thread, so a chart also waits between
redraws long enough that its replots take at most ~``RENDER_SHARE`` of the time (≈2-4
redraws/s at 80×24-120×40; at least one a second).
"""

from __future__ import annotations

import math
import time
from typing import Any, Literal

from textual.geometry import Region
from textual.strip import Strip
from textual_plotext import PlotextPlot

from ..history import MetricHistory

REDRAW_INTERVAL = 0.1
RENDER_SHARE = 0.01
MAX_GAP = 1.0


def _drawable(epochs: list[int], values: list[float]) -> tuple[list[int], list[float]]:
    """The points with a finite value (a metric not evaluated is NaN; a diverged loss inf)."""
    points = [(e, v) for e, v in zip(epochs, values, strict=True) if math.isfinite(v)]
    return [e for e, _ in points], [v for _, v in points]


class MetricChart(PlotextPlot):
    """Train and test series of one metric ("loss" or "accuracy") against the epoch."""

    def __init__(
        self,
        history: MetricHistory,
        metric: Literal["loss", "accuracy"],
        live: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.history = history
        self.metric = metric
        self.live = live
        self._drawn_version = -1
        self._drawn_at = 0.0
        self._render_cpu = 0.0  # CPU seconds spent rendering since the last redraw
        self._min_gap = REDRAW_INTERVAL

    def on_mount(self) -> None:
        self.border_title = "Loss" if self.metric == "loss" else "Accuracy %"
        self.border_subtitle = "[cyan]━ train[/] [orange]━ test[/]"
        self.redraw()
        if self.live:
            self.set_interval(REDRAW_INTERVAL, self._tick)

    def _tick(self) -> None:
        if self.history.version == self._drawn_version:
            return
        if time.monotonic() - self._drawn_at < self._min_gap:
            return
        self.redraw()

    def render_lines(self, crop: Region) -> list[Strip]:
        start = time.thread_time()
        try:
            return super().render_lines(crop)
        finally:
            self._render_cpu += time.thread_time() - start

    def redraw(self) -> None:
        """Replot from the history now."""
        start = time.thread_time()
        self._replot()
        self._render_cpu += time.thread_time() - start
        # Budget: the last replot and render together (capped: one slow render, a GC pause,
        # must not freeze the chart).
        self._min_gap = min(MAX_GAP, max(REDRAW_INTERVAL, self._render_cpu / RENDER_SHARE))
        self._render_cpu = 0.0
        self._drawn_at = time.monotonic()

    def _replot(self) -> None:
        self._drawn_version = self.history.version
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel("")
        epochs, tr_loss, te_loss, tr_acc, te_acc = self.history.series()
        train, test = (tr_loss, te_loss) if self.metric == "loss" else (tr_acc, te_acc)
        lines = [(_drawable(epochs, train), "cyan"), (_drawable(epochs, test), "orange")]
        values = [y for (_, ys), _ in lines for y in ys]
        if values:
            for (xs, ys), color in lines:
                if xs:
                    plt.plot(xs, ys, marker="braille", color=color)
            if len(epochs) == 1:
                plt.xlim(0, max(2, epochs[0] + 1))
            if self.metric == "accuracy":
                plt.ylim(max(0.0, min(min(values), 90.0) - 1.0), 100.0)
        else:
            plt.xlim(0, 1)
            plt.ylim(0, 1 if self.metric == "loss" else 100)
        self.refresh()
