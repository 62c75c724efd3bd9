"""Pilot tests of real (tiny) training runs: panel and charts update, pause, step, stop, quit."""

from __future__ import annotations

from tui_helpers import (
    commit_setting,
    notified,
    press,
    resize,
    run,
    tiny_spec,
    wait_dialog,
    wait_for,
    wait_ready,
)

from miniframe.tui.app import TrainerApp
from miniframe.tui.widgets.accuracy_panel import AccuracyPanel
from miniframe.tui.widgets.boundary import BoundaryView
from miniframe.tui.widgets.charts import MetricChart
from miniframe.tui.widgets.confirm import ConfirmDialog


def train_workers(app: TrainerApp) -> list:
    return [w for w in app.workers if w.group == "train" and not w.is_finished]


def test_short_training_run_updates_panel_charts_and_boundary(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=4))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_ready(pilot, engine=True)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            assert app.state.epoch == 4 and app.state.target == 4
            assert len(app.records) == 4 and len(app.history) == 4
            assert app.state.test_acc is not None and app.state.best_test is not None
            text = str(app.query_one(AccuracyPanel).render())
            assert "epoch 4/4" in text and "finished" in text
            chart = app.query_one("#loss-chart", MetricChart)
            await wait_for(pilot, lambda: chart._drawn_version == app.history.version)
            assert app.query_one(BoundaryView).data is not None
            assert app.query_one(BoundaryView).data.epoch == 4
            assert not train_workers(app)
            # Training again after "finished" starts over from fresh weights.
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished" and app.state.epoch == 4)
            assert len(app.records) == 4

    run(scenario())


def test_step_one_epoch_when_idle(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=10))
        async with app.run_test(size=(80, 24)) as pilot:
            await press(pilot, "n")
            await wait_for(pilot, lambda: not app.is_training and len(app.records) == 1)
            await press(pilot, "n")
            await wait_for(pilot, lambda: not app.is_training and len(app.records) == 2)
            assert app.state.epoch == 2 and app.session.epoch == 2

    run(scenario())


def test_pause_step_resume_and_stop(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=10**6))
        async with app.run_test(size=(80, 24)) as pilot:
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.epoch >= 2)
            await press(pilot, "p")
            # The worker says it is paused once it is waiting between epochs: from then on
            # the epoch count holds still (a condition, not a pause of some length).
            await wait_for(pilot, lambda: app.state.status == "paused" and app.session.paused)
            await wait_for(pilot, lambda: app.state.message.startswith("p resumes"))
            held = app.session.epoch
            await wait_for(pilot, lambda: app.state.epoch == held)
            await press(pilot, "n")
            await wait_for(pilot, lambda: app.state.epoch == held + 1)
            assert app.session.epoch == held + 1 and app.state.status == "paused"
            await press(pilot, "p")
            await wait_for(pilot, lambda: app.state.epoch > held + 2)
            assert app.state.status == "running"
            await press(pilot, "t")
            await wait_for(pilot, lambda: not app.is_training)
            assert app.state.status == "stopped"
            await wait_for(pilot, lambda: not train_workers(app))
            # Start again: continues from where it stopped (same run, no reset).
            stopped_at = app.session.epoch
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.session.epoch > stopped_at + 1)
            assert app.records[0].epoch == 1  # history kept
            await press(pilot, "t")
            await wait_for(pilot, lambda: not app.is_training)

    run(scenario())


def test_learning_rate_change_applies_to_running_training(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=10**6))
        async with app.run_test(size=(80, 24)) as pilot:
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.epoch >= 1)
            commit_setting(app, "lr", "0.0005")
            await wait_for(pilot, lambda: app.session.run.optimizer.lr == 0.0005)
            assert app.is_training, "a learning-rate change does not stop training"
            await press(pilot, "t")
            await wait_for(pilot, lambda: not app.is_training)

    run(scenario())


def test_structural_change_asks_to_reset(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=3))
        async with app.run_test(size=(80, 24)) as pilot:
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            commit_setting(app, "seed", "7")
            await wait_dialog(pilot, ConfirmDialog)
            await press(pilot, "y")
            await wait_for(pilot, lambda: app.session.run is None and not app.records)
            assert app.state.epoch == 0
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            assert app.session.run.spec.seed == 7

    run(scenario())


def test_reset_weights_during_training(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=10**6))
        async with app.run_test(size=(80, 24)) as pilot:
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.epoch >= 2)
            await press(pilot, "r")
            await wait_for(pilot, lambda: not app.is_training and app.session.run is None)
            await wait_for(pilot, lambda: not app.records and app.state.epoch == 0)

    run(scenario())


def test_quit_during_training_stops_the_worker(config_dir) -> None:
    workers = []

    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=100000, n=512, batch_size=1))
        async with app.run_test(size=(80, 24)) as pilot:
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.epoch >= 1)
            workers.extend(train_workers(app))
            assert workers
            await press(pilot, "ctrl+q")
            await wait_for(pilot, lambda: all(w.is_finished for w in workers))
        assert app.return_code == 0

    run(scenario())
    assert all(w.is_finished for w in workers)


def test_resize_during_training_never_crashes(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=10**6))
        async with app.run_test(size=(80, 24)) as pilot:
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.epoch >= 1)
            for size in [(60, 18), (200, 60), (60, 18), (80, 24), (40, 10), (120, 40)]:
                await resize(pilot, *size)
                epoch = app.state.epoch
                await wait_for(pilot, lambda: app.state.epoch > epoch)  # noqa: B023
            await press(pilot, "v")
            await resize(pilot, 60, 18)
            await wait_for(pilot, lambda: app.screen.size == (60, 18))
            assert app.is_training, (app.state.status, app.state.message)
            await press(pilot, "t")
            await wait_for(pilot, lambda: not app.is_training)

    run(scenario())


def test_divergence_is_reported_with_its_reason(config_dir) -> None:
    from miniframe.engine.spec import SolverSpec

    async def scenario() -> None:
        spec = tiny_spec(epochs=5, loss="mse", solver=SolverSpec(name="sgd", lr=1e6))
        app = TrainerApp(spec)
        async with app.run_test(size=(80, 24)) as pilot:
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "diverged")
            text = str(app.query_one(AccuracyPanel).render())
            assert "diverged" in text and "learning rate" in text
            await wait_for(pilot, lambda: notified(app, "learning rate"))
            assert not app.is_training

    run(scenario())
