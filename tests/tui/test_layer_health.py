"""The layer-health panel: number and sparkline formatting, the warning flags of the limits
table, and a Pilot test with a real run's layer stats."""

from __future__ import annotations

import math

from textual.app import App, ComposeResult
from tui_helpers import run, tiny_spec, wait_for

from miniframe.engine.layer_stats import LayerStats
from miniframe.engine.train import Run
from miniframe.tui.widgets.layer_health import (
    HEALTH_LIMITS,
    LayerHealth,
    flags,
    format_health,
    number,
    percent,
    spark_width,
    sparkline,
)


def stats(
    layer: int = 0, dead: float | None = 0.1, ratio: float = 1e-3, w: float = 2.0
) -> LayerStats:
    return LayerStats(layer, f"Linear 2 → {layer + 8}", w, 0.5, ratio, dead)


def test_numbers_fit_six_cells() -> None:
    for value, text in ((4.2134, "4.21"), (0.0134, "0.0134"), (2.1e-5, "2.1e-5"), (0.0, "0"),
                        (123456.0, "1.2e5"), (math.inf, "inf"), (None, "—")):  # fmt: skip
        assert number(value) == text
        assert len(text) <= 6
    assert percent(0.125) == "12%" and percent(None) == "—"


def test_sparkline_scales_and_marks_missing_values() -> None:
    assert sparkline([1.0, 2.0, 3.0]) == "▁▅█"
    assert sparkline([1e-3, 1e-2, 1e-1], log=True) == "▁▅█"
    assert sparkline([0.0, 1.0], lo=0.0, hi=1.0) == "▁█"
    assert sparkline([None, math.nan, 1.0]) == " !▁"


def test_flags_follow_the_limits_table() -> None:
    assert flags(stats()) == []
    dead = flags(stats(dead=0.6))
    assert [f.field for f in dead] == ["dead_fraction"]
    assert [f.field for f in flags(stats(ratio=5.0))] == ["update_ratio"]
    assert [f.field for f in flags(stats(ratio=0.0))] == ["update_ratio"]  # frozen
    assert any(f.field == "weight_norm" for f in flags(stats(w=math.nan)))
    assert all(limit.reason for limit in HEALTH_LIMITS)


def test_format_shows_every_layer_and_why_one_is_flagged() -> None:
    history = [(e, (stats(0, 0.1 * e), stats(2, None))) for e in range(1, 8)]
    text = format_health(history, 78).plain
    assert "epoch 7" in text and "0 Lin 2→8" in text and "2 Lin 2→10" in text
    assert "⚠0 Lin 2→8" in text and "over half its ReLU units never fire" in text
    assert "dead —" in text  # a layer without a ReLU after it
    assert all(len(line) <= 78 for line in text.split("\n"))
    assert spark_width(44) == 0 and "▁" not in format_health(history, 44).plain.split("\n")[1]


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield LayerHealth()


def test_panel_with_a_real_runs_layer_stats() -> None:
    run_ = Run(tiny_spec(epochs=5), layer_stats=True)
    summaries = list(run_.fit())

    async def go() -> None:
        app = Host()
        async with app.run_test(size=(80, 24)) as pilot:
            panel = app.query_one(LayerHealth)
            assert "no layer statistics yet" in str(panel.text())
            for s in summaries:
                panel.record(s.epoch, s.layer_stats)
            panel.record(6, None)  # a stopped epoch: ignored
            await wait_for(pilot, lambda: "epoch 5" in str(panel._body.render()))
            shown = str(panel._body.render())
            assert "0 Lin 2→8" in shown and "2 Lin 8→2" in shown
            assert any(ch in shown for ch in "▁▂▃▄▅▆▇█")
            panel.clear()
            await wait_for(pilot, lambda: "no layer statistics" in str(panel._body.render()))

    run(go())


def test_a_deep_stack_scrolls_at_80x24() -> None:
    history = [(1, tuple(stats(2 * k) for k in range(30)))]

    async def go() -> None:
        app = Host()
        async with app.run_test(size=(80, 24)) as pilot:
            panel = app.query_one(LayerHealth)
            panel.record(*history[0])
            await wait_for(pilot, lambda: panel.max_scroll_y > 0)
            panel.focus()
            await pilot.press("end")
            await wait_for(pilot, lambda: panel.scroll_y == panel.max_scroll_y)

    run(go())
