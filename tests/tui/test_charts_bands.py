"""Seed bands and run overlays in the charts: pure band statistics, and Pilot tests that the
band, the mean line and the legend are drawn (and that the single-run chart is unchanged)."""

from __future__ import annotations

import math

from textual.app import App, ComposeResult
from tui_helpers import run, wait_for

from miniframe.tui.history import MetricHistory
from miniframe.tui.widgets.charts import (
    BAND_MARKER,
    BandHistory,
    MetricChart,
    OverlayChart,
    band_stats,
    legend,
)


def test_band_stats_ignore_non_finite_values() -> None:
    assert band_stats(None) is None
    assert band_stats([1.0, 3.0, math.inf, math.nan]) == (2.0, 1.0, 3.0)
    mean, lo, hi = band_stats([math.inf])  # type: ignore[misc]
    assert math.isnan(mean) and math.isnan(lo) and math.isnan(hi)


def test_band_history_keeps_mean_min_max_per_metric() -> None:
    bands = BandHistory()
    bands.append(1, [0.5, 0.7], [0.6, 0.8], [80.0, 90.0], [70.0, 100.0])
    bands.append(2, None, None, None, None)  # a stopped epoch: nothing recorded
    assert len(bands) == 1 and bands.seeds == 2
    assert bands.mean.series()[3] == [85.0] and bands.low.series()[4] == [70.0]
    assert bands.high.series()[2] == [0.8]  # test loss
    version = bands.version
    bands.clear()
    assert len(bands) == 0 and bands.version > version


def test_legend_names_each_run_and_cuts_long_lists() -> None:
    text = legend(["3 quick", "7 vanilla"])
    assert "━ 3 quick" in text and "━ 7 vanilla" in text
    assert legend([f"run number {k}" for k in range(20)], width=40).endswith("+18")


def _ten_seeds(bands: BandHistory, epochs: int = 30) -> None:
    for e in range(1, epochs + 1):
        acc = [min(100.0, 50 + e * 1.5 + s * 2 - 9) for s in range(10)]
        loss = [1.0 / (e + s) for s in range(10)]
        bands.append(e, loss, [v * 1.2 for v in loss], acc, [a - 3 for a in acc])


class BandHost(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.history = MetricHistory()
        self.bands = BandHistory()

    def compose(self) -> ComposeResult:
        yield MetricChart(self.history, "accuracy", live=True, id="acc")


def test_band_chart_draws_a_shaded_band_and_goes_back_to_single_lines() -> None:
    async def go() -> None:
        app = BandHost()
        async with app.run_test(size=(80, 24)) as pilot:
            chart = app.query_one(MetricChart)
            assert "━ train" in str(chart.border_subtitle)
            assert "seeds" not in str(chart.border_subtitle)
            assert BAND_MARKER not in chart.render().plain
            chart.set_bands(app.bands)
            _ten_seeds(app.bands)
            # the live timer (on the widget) picks the new version up
            await wait_for(pilot, lambda: chart._drawn_version == -1 - app.bands.version)
            drawn = chart.render().plain
            assert BAND_MARKER in drawn
            assert any("\u2800" < ch <= "\u28ff" for ch in drawn)  # the braille mean line
            assert "10 seeds" in str(chart.border_subtitle)
            chart.set_bands(None)
            assert BAND_MARKER not in chart.render().plain
            assert "seeds" not in str(chart.border_subtitle)

    run(go())


def _colours(chart: OverlayChart) -> set[str]:
    """The foreground colours of the plotted (braille) cells."""
    text = chart.render()
    out = set()
    for span in text.spans:
        cells = text.plain[span.start : span.end]
        if any("\u2800" < ch <= "\u28ff" for ch in cells):
            out.add(str(span.style))
    return out


class OverlayHost(App[None]):
    def compose(self) -> ComposeResult:
        yield OverlayChart("test_acc", title="Test accuracy %")


def test_overlay_draws_every_named_run() -> None:
    async def go() -> None:
        app = OverlayHost()
        async with app.run_test(size=(80, 24)) as pilot:
            chart = app.query_one(OverlayChart)
            await wait_for(pilot, lambda: chart.is_mounted)
            empty = chart.render().plain
            chart.show_curves(
                {
                    "1 quick": [(e, 60.0 + e) for e in range(1, 20)],
                    "2 deep": [(e, None if e == 3 else 55.0 + 2 * e) for e in range(1, 20)],
                }
            )
            drawn = chart.render().plain
            assert drawn != empty
            assert "━ 1 quick" in str(chart.border_subtitle)
            assert "━ 2 deep" in str(chart.border_subtitle)
            assert len(_colours(chart)) == 2  # one colour per run
            chart.show_curves({"1 quick": [(e, 60.0 + e) for e in range(1, 20)]})
            assert len(_colours(chart)) == 1
            chart.show_curves({})
            assert str(chart.border_subtitle) == ""

    run(go())
