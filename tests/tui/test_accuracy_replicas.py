"""The accuracy panel's replica mode: mean ± std, the worst seed, "—" for a metric never
evaluated, never "-0.0"; the single-run text unchanged."""

from __future__ import annotations

import math

from textual.app import App, ComposeResult
from tui_helpers import run, wait_for

from miniframe.tui.widgets.accuracy_panel import (
    AccuracyPanel,
    TrainState,
    format_panel,
    replica_metric,
)

SEEDS = list(range(10))
ACC = [90.0, 92.0, 94.0, 96.0, 88.0, 91.0, 93.0, 95.0, 97.0, 84.0]


def test_replica_metric_mean_std_and_worst_seed() -> None:
    m = replica_metric(ACC, SEEDS, higher_is_better=True)
    assert m is not None
    assert math.isclose(m.mean, 92.0) and m.worst == 84.0 and m.worst_seed == 9
    loss = replica_metric([0.2, math.inf, 0.1], [5, 6, 7], higher_is_better=False)
    assert loss is not None and loss.worst_seed == 6 and loss.count == 2  # diverged first
    assert replica_metric(None, SEEDS, True) is None


def test_replica_lines_fit_the_width_and_keep_five_lines() -> None:
    state = TrainState(target=50, status="running")
    state.record_replicas(10, SEEDS, [0.3] * 10, ACC, [0.35] * 10, [a - 2 for a in ACC], 1.0, 100.0)
    for width in (30, 38, 46, 76):
        lines = format_panel(state, width).plain.split("\n")
        assert len(lines) == 5
        assert all(len(line) <= width for line in lines), (width, lines)
        assert lines[1].startswith("train  92.0%") and "±" in lines[1]
        assert "10 seeds" in lines[3]
    wide = format_panel(state, 76).plain
    assert "worst 84.0% s9" in wide and "worst 82.0% s9" in wide
    assert "loss 0.300 ±0.000" in wide
    assert state.test_acc == 90.0  # the mean is what a lone run's number would be


def test_unevaluated_metrics_show_a_dash_and_zero_is_unsigned() -> None:
    state = TrainState(target=5)
    state.record_replicas(1, [0, 1], None, None, None, None, 0.1, None)
    text = format_panel(state, 46).plain
    assert "train      —" in text and "test       —" in text
    state.record_replicas(2, [0, 1], [1e-9, -1e-9], [-0.0, 0.0], [0.0, 0.0], [-0.0, -0.0], 0.1, 1)
    text = format_panel(state, 60).plain
    assert "-0.0" not in text and "0.0%" in text


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield AccuracyPanel(id="status")


def test_panel_shows_replicas_and_single_runs() -> None:
    async def go() -> None:
        app = Host()
        async with app.run_test(size=(80, 24)) as pilot:
            panel = app.query_one(AccuracyPanel)
            state = TrainState(target=20, status="running")
            state.record_replicas(3, SEEDS, [0.3] * 10, ACC, [0.4] * 10, ACC, 0.5, 1000.0)
            panel.show(state)
            await wait_for(pilot, lambda: "±" in str(panel.render()))
            assert "worst 84.0% s9" in str(panel.render())
            single = TrainState(target=20, status="running")
            single.record(3, 0.3, 91.0, 0.4, 90.0, 0.5, 1000.0)
            panel.show(single)
            await wait_for(pilot, lambda: "best" in str(panel.render()))
            assert "±" not in str(panel.render())

    run(go())
