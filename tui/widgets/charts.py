"""Live loss and accuracy charts (textual-plotext), redrawn at most ~10 times a second.

The chart reads the app's :class:`~miniframe.tui.history.MetricHistory` and listens to it:
a change schedules one replot (a one-shot timer), so a fast run does not redraw the chart on
every epoch and an idle chart wakes nothing. Replotting is costly (plotext builds the whole
canvas: ~5-10 ms of CPU at 80×24-120×40, more on big terminals, plus the screen update) and
the UI shares the interpreter with the training thread, so a chart also waits between
redraws long enough that its replots take at most ~``RENDER_SHARE`` of the time (at least
one every ``MAX_GAP`` seconds).

Seed bands (K replicas trained at once). The app keeps one :class:`BandHistory` beside its
``MetricHistory`` and hands it to both charts once::

    bands = BandHistory()
    for chart in app.query(MetricChart):
        chart.set_bands(bands)          # None goes back to the single-run lines
    # every replica epoch (UI thread), per-seed lists in seed order, None = not evaluated:
    bands.append(epoch, train_loss, test_loss, train_acc, test_acc)
    # after a reset: bands.clear()

With bands set, a chart draws each series' mean as a line over a shaded min–max band (a
plotext "internal" fill of the band's outline: the upper edge, then the lower one backwards);
the mean, min and max are over the finite values (a diverged seed's loss is NaN or inf).

Overlays (the runs view): :class:`OverlayChart` draws several named runs' curves of one
metric on one chart, one colour each from :data:`SERIES_COLOURS`, with a legend in its border::

    chart = OverlayChart("test_acc", title="Test accuracy %")
    chart.show_curves({"run 3": [(1, 71.0), (2, 80.5)], "run 7": [(1, 64.0), (2, None)]})

It posts no messages.
"""

from __future__ import annotations

import math
import re
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from rich.ansi import AnsiDecoder
from rich.segment import Segment
from rich.style import Style
from textual.markup import escape
from textual.strip import Strip
from textual_plotext import PlotextPlot

from ..history import MetricHistory
from ..palette import CHART_SERIES, CHART_TEST, CHART_TRAIN
from .render_cost import RenderTimed

REDRAW_INTERVAL = 0.1
RENDER_SHARE = 0.005
#: The longest a chart waits between replots while its data change (a replot that cost more than
#: ``RENDER_SHARE`` of the time it waited is followed by a longer wait, up to this). A replot
#: took 10-15 ms on a slow host: at one per 2 s each chart held 0.6 % of the wall, above its share.
MAX_GAP = 4.0

#: The train and test colours of the live charts (the palette's table).
TRAIN_COLOUR, TEST_COLOUR = CHART_TRAIN, CHART_TEST
#: The marker that shades a min–max band (one character cell per point).
BAND_MARKER = "░"
#: One colour per overlaid run, in order (the palette's table).
SERIES_COLOURS = CHART_SERIES


def thin(
    xs: Sequence[int], ys: Sequence[float], buckets: int, keep: str = "both"
) -> tuple[list[int], list[float]]:
    """At most two points per bucket of the x range (``buckets`` of equal width): each
    bucket's lowest and highest point, in order (``keep`` "min" or "max": only that one),
    and always the first and the last point (the live tip). A chart ``w`` cells wide shows
    2·w braille dots across, so more points than that only cost time (plotext's cost grows
    with the points), and min–max keeps every spike."""
    n = len(xs)
    if buckets <= 0 or n <= 2 * buckets:
        return list(xs), list(ys)
    lo_x, span = xs[0], (xs[-1] - xs[0]) or 1
    out_x: list[int] = []
    out_y: list[float] = []
    start = 0
    while start < n:
        b = min(buckets - 1, (xs[start] - lo_x) * buckets // span)
        end = start + 1
        while end < n and min(buckets - 1, (xs[end] - lo_x) * buckets // span) == b:
            end += 1
        idx = range(start, end)
        low, high = min(idx, key=ys.__getitem__), max(idx, key=ys.__getitem__)
        chosen = {"min": {low}, "max": {high}}.get(keep, {low, high})
        chosen |= {i for i in (0, n - 1) if start <= i < end}
        for i in sorted(chosen):
            out_x.append(xs[i])
            out_y.append(ys[i])
        start = end
    return out_x, out_y


def _drawable(epochs: list[int], values: list[float]) -> tuple[list[int], list[float]]:
    """The points with a finite value (a metric not evaluated is NaN; a diverged loss inf)."""
    points = [(e, v) for e, v in zip(epochs, values, strict=True) if math.isfinite(v)]
    return [e for e, _ in points], [v for _, v in points]


def band_stats(values: Sequence[float] | None) -> tuple[float, float, float] | None:
    """(mean, min, max) of the finite ``values``; NaN for all three when none is finite;
    None when there are no values (the metric was not evaluated)."""
    if values is None:
        return None
    finite = [float(v) for v in values if math.isfinite(v)]
    if not finite:
        return (math.nan, math.nan, math.nan)
    return (statistics.fmean(finite), min(finite), max(finite))


@dataclass
class BandHistory:
    """Per-epoch mean, min and max over the seeds of each metric, down-sampled like
    :class:`MetricHistory` (three of them: ``mean``, ``low``, ``high``)."""

    max_points: int = 500
    mean: MetricHistory = field(init=False)
    low: MetricHistory = field(init=False)
    high: MetricHistory = field(init=False)
    seeds: int = 0

    def __post_init__(self) -> None:
        self.mean = MetricHistory(self.max_points)
        self.low = MetricHistory(self.max_points)
        self.high = MetricHistory(self.max_points)

    @property
    def version(self) -> int:
        return self.mean.version + self.low.version + self.high.version

    def __len__(self) -> int:
        return len(self.mean)

    def clear(self) -> None:
        """Forget everything (after a reset)."""
        for h in (self.mean, self.low, self.high):
            h.clear()
        self.seeds = 0

    def append(
        self,
        epoch: int,
        train_loss: Sequence[float] | None,
        test_loss: Sequence[float] | None,
        train_acc: Sequence[float] | None,
        test_acc: Sequence[float] | None,
    ) -> None:
        """Record one epoch of every seed: each metric a list with one value per seed (None
        when the epoch was not evaluated)."""
        per_metric = [band_stats(v) for v in (train_loss, test_loss, train_acc, test_acc)]
        self.seeds = max(self.seeds, *(len(v) for v in (train_loss, train_acc) if v is not None), 0)
        for k, history in enumerate((self.mean, self.low, self.high)):
            history.append(epoch, *(None if s is None else s[k] for s in per_metric))

    def append_replica_epoch(self, replica_epoch: Any) -> None:
        """Record an ``engine.replicas.ReplicaEpoch`` (anything with ``epoch`` and per-seed
        ``train_loss``, ``test_loss``, ``train_acc``, ``test_acc`` lists)."""
        r = replica_epoch
        self.append(r.epoch, r.train_loss, r.test_loss, r.train_acc, r.test_acc)


_SGR = re.compile(r"\x1b\[([0-9;]*)m")


@lru_cache(maxsize=256)
def _sgr_style(codes: tuple[str, ...]) -> Style:
    """The style that these SGR escape codes, in turn since the last reset, leave in force."""
    text = AnsiDecoder().decode_line("".join(f"\x1b[{c}m" for c in codes) + "x")
    return Style.combine(span.style for span in text.spans if isinstance(span.style, Style))


def ansi_strip(line: str, width: int, base: Style) -> Strip:
    """One line of text with SGR colour codes (what plotext prints) as a strip ``width``
    cells wide over ``base``: the same cells and colours as ``Text.from_ansi`` gives."""
    segments: list[Segment] = []
    codes: list[str] = []
    pieces = _SGR.split(line)  # text, codes, text, codes, ..., text
    for i, piece in enumerate(pieces):
        if i % 2:
            if piece in ("", "0"):
                codes.clear()
            else:
                codes.append(piece)
        elif piece:
            style = base + _sgr_style(tuple(codes)) if codes else base
            segments.append(Segment(piece, style))
    return Strip(segments).adjust_cell_length(width, base)


#: How long past its due time a chart waits for the next change before it replots anyway.
FOLLOW_UP_S = 0.3
_NEXT = object()  # a replot is queued right after the current handler


class _Throttled(RenderTimed, PlotextPlot):
    """A plot replotted by :meth:`redraw`. A live one also replots when the data it
    :meth:`follows <_follow>` change: at most every ``REDRAW_INTERVAL`` and within
    ``RENDER_SHARE`` of the CPU, by a one-shot timer set when a change comes."""

    def __init__(self, live: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.live = live
        self._drawn_version = -1
        self._drawn_at = 0.0
        self._min_gap = REDRAW_INTERVAL
        self._followed: MetricHistory | None = None
        self._due: Any = None  # the replot a change asked for: a timer, or _NEXT
        self._plotted = 0  # replots so far: the drawn lines are kept until the next one
        self._lines: list[Strip] = []
        self._lines_key: tuple[object, ...] = ()

    def on_mount(self) -> None:
        # Textual calls each class's on_mount: a subclass's must not call this one again.
        self.redraw()
        if self.live:
            self._follow(self._source())

    def on_unmount(self) -> None:
        self._follow(None)

    def _source(self) -> MetricHistory | None:
        """The history whose changes this chart shows (live charts)."""
        return None

    def _follow(self, history: MetricHistory | None) -> None:
        """Listen to ``history`` (None: to nothing) instead of what was followed before."""
        if self._followed is not None and self._changed in self._followed.listeners:
            self._followed.listeners.remove(self._changed)
        self._followed = history
        if history is not None:
            history.listeners.append(self._changed)

    def _version(self) -> int:
        return 0

    def _changed(self) -> None:
        """The data changed: replot once the budget allows, one replot however many changes
        come. A change that finds the chart due replots right after the handler that made
        it, so in the same screen update as the rest of what that handler changed (the
        Training panel, when epochs arrive); one that comes too early waits for the next
        change, or, when none comes, ``FOLLOW_UP_S`` past the due time (each screen update
        costs the training thread its time)."""
        if not self.is_mounted:
            return
        wait = self._drawn_at + self._min_gap - time.monotonic()
        if wait > 0:
            if self._due is None:
                self._due = self.set_timer(wait + FOLLOW_UP_S, self._replot_due)
            return
        if self._due is _NEXT:
            return
        if self._due is not None:
            self._due.stop()
        self._due = _NEXT
        self.call_next(self._replot_due)

    def _replot_due(self) -> None:
        self._due = None
        if self._version() != self._drawn_version:
            self.redraw()

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the plot. plotext draws the whole canvas as text with colour escape
        codes; they are decoded here straight into strips, once per replot and size (the
        general route, rich Text, then Textual content, then strips, took longer than the
        plot itself, on the thread the training shares)."""
        width, height = self.size
        key = (width, height, self.app.theme, self._plotted)
        if self._lines_key != key:
            self._lines = self._plot_lines(width, height)
            self._lines_key = key
        if y < len(self._lines):
            return self._lines[y]
        return Strip.blank(width, self.visual_style.rich_style)

    def _plot_lines(self, width: int, height: int) -> list[Strip]:
        # What PlotextPlot.render does before building (size twice: see its comment).
        self._plot.plotsize(width, height)
        self._plot._set_size(width, height)
        self._plot.theme(self._get_plotext_theme_name(self.app.theme))
        base = self.visual_style.rich_style
        return [ansi_strip(line, width, base) for line in self._plot.build().split("\n")]

    def redraw(self) -> None:
        """Replot now."""
        start = time.thread_time()
        self._drawn_version = self._version()
        self._plotted += 1
        self._replot()
        # Budget: the last render and this replot together (capped: one slow render, a GC
        # pause, must not freeze the chart).
        spent = self.take_render_cpu() + time.thread_time() - start
        self._min_gap = min(MAX_GAP, max(REDRAW_INTERVAL, spent / RENDER_SHARE))
        self._drawn_at = time.monotonic()

    def _replot(self) -> None:
        raise NotImplementedError


class MetricChart(_Throttled):
    """Train and test series of one metric ("loss" or "accuracy") against the epoch; with
    :meth:`set_bands`, each series' mean over the seeds in its min–max band."""

    def __init__(
        self,
        history: MetricHistory,
        metric: Literal["loss", "accuracy"],
        live: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(live, **kwargs)
        self.history = history
        self.metric = metric
        self.bands: BandHistory | None = None

    def on_mount(self) -> None:  # then _Throttled.on_mount (Textual calls both)
        self.border_title = "Loss" if self.metric == "loss" else "Accuracy %"
        self._subtitle()

    def _source(self) -> MetricHistory | None:
        return self.history if self.bands is None else self.bands.mean

    def _subtitle(self) -> None:
        if self.bands is None:
            self.border_subtitle = "[cyan]━ train[/] [orange]━ test[/]"
        else:
            seeds = f"{self.bands.seeds} seeds " if self.bands.seeds else ""
            self.border_subtitle = f"{seeds}[cyan]━ train[/] [orange]━ test[/] ░ min–max"

    def set_bands(self, bands: BandHistory | None) -> None:
        """Draw the mean and min–max band of ``bands`` from now on (None: the single run's
        ``history`` again); replots at once."""
        self.bands = bands
        if self.is_mounted:
            if self.live:
                self._follow(self._source())
            self._subtitle()
            self.redraw()

    def _version(self) -> int:
        return self.history.version if self.bands is None else -1 - self.bands.version

    def _pick(self, history: MetricHistory) -> tuple[list[int], list[float], list[float]]:
        epochs, tr_loss, te_loss, tr_acc, te_acc = history.series()
        return (epochs, tr_loss, te_loss) if self.metric == "loss" else (epochs, tr_acc, te_acc)

    def _replot(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel("")
        values: list[float] = []
        n_epochs = 0
        first_epoch = 0
        buckets = self.size.width  # two braille dots a cell: at most two points each
        if self.bands is not None:
            if self.is_mounted:
                self._subtitle()
            epochs, mean_tr, mean_te = self._pick(self.bands.mean)
            _, low_tr, low_te = self._pick(self.bands.low)
            _, high_tr, high_te = self._pick(self.bands.high)
            n_epochs, first_epoch = len(epochs), epochs[0] if epochs else 0
            for low, high, colour in (
                (low_tr, high_tr, TRAIN_COLOUR),
                (low_te, high_te, TEST_COLOUR),
            ):
                xs, lo, hi = _band_points(epochs, low, high)
                xs_hi, hi = thin(xs, hi, buckets, "max")
                xs_lo, lo = thin(xs, lo, buckets, "min")
                if xs:
                    values += lo + hi
                    # The outline, upper edge then lower edge backwards; "internal" fills each
                    # column from its upper point down to its lower one.
                    plt.plot(xs_hi + xs_lo[::-1], hi + lo[::-1], marker=BAND_MARKER,
                             color=colour, fillx="internal")  # fmt: skip
            lines = [
                (thin(*_drawable(epochs, mean_tr), buckets), TRAIN_COLOUR),
                (thin(*_drawable(epochs, mean_te), buckets), TEST_COLOUR),
            ]
        else:
            epochs, train, test = self._pick(self.history)
            n_epochs, first_epoch = len(epochs), epochs[0] if epochs else 0
            lines = [
                (thin(*_drawable(epochs, train), buckets), TRAIN_COLOUR),
                (thin(*_drawable(epochs, test), buckets), TEST_COLOUR),
            ]
        values += [y for (_, ys), _ in lines for y in ys]
        if values:
            for (xs, ys), color in lines:
                if xs:
                    plt.plot(xs, ys, marker="braille", color=color)
            if n_epochs == 1:
                plt.xlim(0, max(2, first_epoch + 1))
            if self.metric == "accuracy":
                plt.ylim(max(0.0, min(min(values), 90.0) - 1.0), 100.0)
        else:
            plt.xlim(0, 1)
            plt.ylim(0, 1 if self.metric == "loss" else 100)
        self.refresh()


def _band_points(
    epochs: list[int], low: list[float], high: list[float]
) -> tuple[list[int], list[float], list[float]]:
    keep = [i for i in range(len(epochs)) if math.isfinite(low[i]) and math.isfinite(high[i])]
    return [epochs[i] for i in keep], [low[i] for i in keep], [high[i] for i in keep]


Curve = Sequence[tuple[int, float | None]]


class OverlayChart(_Throttled):
    """Several named runs' curves of one metric on one chart, with a legend in the border.

    ``metric`` only decides the y range (an accuracy runs to 100); ``title`` is the border
    title. Call :meth:`show_curves` with the curves to draw (an empty mapping clears it).
    """

    def __init__(self, metric: str, title: str | None = None, **kwargs: Any) -> None:
        super().__init__(live=False, **kwargs)
        self.metric = metric
        self.title = title or metric
        self.curves: dict[str, list[tuple[int, float | None]]] = {}

    def on_mount(self) -> None:  # then _Throttled.on_mount (Textual calls both)
        self.border_title = self.title

    def show_curves(self, curves: Mapping[str, Curve]) -> None:
        """Draw these runs (name → [(epoch, value or None)], in legend order); replots now."""
        self.curves = {name: list(points) for name, points in curves.items()}
        self.border_subtitle = legend(list(self.curves))
        if self.is_mounted:
            self.redraw()

    def _replot(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel("")
        values: list[float] = []
        epochs: list[int] = []
        for k, points in enumerate(self.curves.values()):
            finite = [(e, v) for e, v in points if v is not None and math.isfinite(v)]
            if not finite:
                continue
            xs, ys = [e for e, _ in finite], [v for _, v in finite]
            values += ys
            epochs += xs
            plt.plot(xs, ys, marker="braille", color=SERIES_COLOURS[k % len(SERIES_COLOURS)])
        if values:
            if len(set(epochs)) == 1:
                plt.xlim(0, max(2, epochs[0] + 1))
            if "acc" in self.metric:
                plt.ylim(max(0.0, min(min(values), 90.0) - 1.0), 100.0)
        else:
            plt.xlim(0, 1)
            plt.ylim(0, 100 if "acc" in self.metric else 1)
        self.refresh()


def legend(names: Sequence[str], width: int = 60) -> str:
    """Rich markup: ``━ name`` in each run's colour, cut to about ``width`` cells."""
    parts: list[str] = []
    used = 0
    for k, name in enumerate(names):
        colour = SERIES_COLOURS[k % len(SERIES_COLOURS)]
        label = name if len(name) <= 16 else name[:15] + "…"
        if used + len(label) + 3 > width and parts:
            parts.append(f"+{len(names) - k}")
            break
        used += len(label) + 3
        parts.append(f"[{colour}]━ {escape(label)}[/]")
    return " ".join(parts)
