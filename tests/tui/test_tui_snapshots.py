"""Snapshots of the main screen at 80×24 and 120×40 in deterministic states.

No torch, no timers in what is drawn: the engine is marked loaded by hand, and epochs and the
boundary grid are fed as fixed fake data (elapsed time is the sum of the epochs' seconds).
Update with ``pytest tests/tui/test_tui_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import math

from tui_helpers import press, settle, wait_for, wait_ready

from miniframe.engine import load_preset
from miniframe.engine.train import EpochSummary
from miniframe.tui.app import TrainerApp
from miniframe.tui.messages import BoundaryData, BoundaryReady, EngineLoaded
from miniframe.tui.widgets.accuracy_panel import AccuracyPanel
from miniframe.tui.widgets.charts import MetricChart

RADIUS = 1.0 / math.sqrt(2.0 * math.pi)


def make_app() -> TrainerApp:
    return TrainerApp(load_preset("quick"), load_engine_on_start=False, live_charts=False)


def fake_boundary(grid: int = 32) -> BoundaryData:
    probs = []
    for i in range(grid):
        for j in range(grid):
            x, y = (j + 0.5) / grid, 1 - (i + 0.5) / grid
            d = math.hypot(x - 0.5, y - 0.5)
            probs.append(1 / (1 + math.exp(-25 * (RADIUS + 0.03 * math.sin(6 * x) - d))))
    points = []
    for k in range(60):
        x, y = ((k * 37) % 97) / 97, ((k * 61) % 89) / 89
        label = int(math.hypot(x - 0.5, y - 0.5) < RADIUS)
        points.append((x, y, label, label if k % 9 else 1 - label))
    return BoundaryData(grid=grid, probs=probs, points=points, epoch=40)


async def ready(pilot) -> None:
    """Every panel mounted, torch marked loaded, the screen quiet."""
    app: TrainerApp = pilot.app
    await wait_ready(pilot)
    app.post_message(EngineLoaded())
    await wait_for(pilot, lambda: app.engine_ready and app.state.status == "ready")
    await settle(pilot)


async def trained(pilot) -> None:
    """40 fake epochs and a fake boundary shown, paused."""
    app: TrainerApp = pilot.app
    await ready(pilot)
    for epoch in range(1, 41):
        acc = 100 - 50 * math.exp(-epoch / 6)
        loss = 0.7 * math.exp(-epoch / 8) + 0.02
        summary = EpochSummary(epoch, 200, loss, acc, loss * 1.1, acc - 1.0, 0.05, 20000.0)
        app.session._push(summary, app.post_message)
    app.post_message(BoundaryReady(fake_boundary()))
    boundary = app.query_one("#boundary")
    await wait_for(pilot, lambda: app.state.epoch == 40 and boundary.data is not None)
    app.state.status, app.state.message = "paused", "p resumes, n steps one epoch"
    app.query_one(AccuracyPanel).show(app.state)
    for chart in app.query(MetricChart):
        chart.redraw()
    await wait_for(
        pilot, lambda: all(c._drawn_version == app.history.version for c in app.query(MetricChart))
    )
    await settle(pilot)


def test_main_screen_80x24(snap_compare, config_dir) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=ready)


def test_training_80x24(snap_compare, config_dir) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=trained)


def test_boundary_view_80x24(snap_compare, config_dir) -> None:
    async def run_before(pilot) -> None:
        await trained(pilot)
        await press(pilot, "v")
        viz = pilot.app.query_one("#viz")
        await wait_for(pilot, lambda: viz.has_class("-boundary"))
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_training_120x40(snap_compare, config_dir) -> None:
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=trained)
