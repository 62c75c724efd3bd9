"""Pilot tests of the trainer's run history and seed bands: every run recorded, the runs view
(overlay, load spec), K seeds trained at once (bands, mean ± std, one seed's map, a sweep)."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Input
from tui_helpers import (
    commit_setting,
    notified,
    press,
    run,
    tiny_spec,
    wait_dialog,
    wait_for,
    wait_ready,
)

from miniframe.runs import RunStore
from miniframe.tui.app import TrainerApp
from miniframe.tui.widgets.accuracy_panel import AccuracyPanel
from miniframe.tui.widgets.charts import BAND_MARKER, MetricChart, OverlayChart
from miniframe.tui.widgets.confirm import ConfirmDialog
from miniframe.tui.widgets.prompt import PromptDialog
from miniframe.tui.widgets.runs_view import RunsView


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh run history of its own for the test."""
    folder = tmp_path / "data"
    monkeypatch.setenv("MINIFRAME_DATA_DIR", str(folder))
    return folder


async def train_to_the_end(pilot, app: TrainerApp) -> None:
    """Press t and wait for that training (not an earlier one) to finish."""
    begun = app.control.generation
    await press(pilot, "t")
    await wait_for(pilot, lambda: app.control.generation > begun and app.state.status == "finished")


def stored_runs() -> list:
    with RunStore.open() as store:
        return store.runs()


def test_every_trainer_run_is_recorded_with_its_end(config_dir, history) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=4))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot, engine=True)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            assert app.recorder.flush()
            (first,) = stored_runs()
            assert (first.status, first.epochs, first.source) == ("finished", 4, "trainer")
            assert first.metric("test_acc") == pytest.approx(app.state.test_acc)
            # A long run, stopped: its own record, status stopped.
            commit_setting(app, "epochs", "100000")
            await press(pilot, "r")
            await wait_for(pilot, lambda: not app.session.has_run)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.epoch >= 2)
            await press(pilot, "t")  # stop
            await wait_for(pilot, lambda: app.state.status == "stopped")
            assert app.recorder.flush()
            runs = stored_runs()
            assert [r.status for r in runs] == ["finished", "stopped"]
            assert runs[1].epochs >= 2
            # Trained on, then quit while training: interrupted.
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "running")
            await wait_for(pilot, lambda: app.state.epoch >= runs[1].epochs + 1)
            await press(pilot, "ctrl+q")
        runs = stored_runs()
        assert [r.status for r in runs] == ["finished", "interrupted"]

    run(scenario())


def test_an_unusable_history_is_one_line_and_training_goes_on(
    config_dir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MINIFRAME_DATA_DIR", str(blocker / "data"))

    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=4))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot, engine=True)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            await wait_for(pilot, lambda: notified(app, "Run history"))
            assert app.state.epoch == 4
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished" and app.state.epoch == 4)
            assert app.recorder.flush()
            notes = [n for n in app._notifications if "Run history" in n.message]
            assert len(notes) == 1

    run(scenario())


def test_runs_view_overlays_trainer_runs_and_loads_a_spec(config_dir, history) -> None:
    other = tiny_spec(
        epochs=7, batch_size=8, name="other", solver=replace(tiny_spec().solver, lr=0.05)
    )
    with RunStore.open() as store:
        run_id = store.start_run(other, source="cli")
        store.record_epoch(run_id, {"epoch": 1, "train_acc": 50.0, "test_acc": 50.0})
        store.finish_run(run_id, "finished")

    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=4))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot, engine=True)
            for _ in range(2):  # two trainer runs (the second from fresh weights)
                await train_to_the_end(pilot, app)
            assert app.recorder.flush()
            await press(pilot, "R")
            view = await wait_dialog(pilot, RunsView)
            await wait_for(pilot, lambda: len(view.rows) == 3)
            await press(pilot, "space", "up", "space")
            loss = view.query_one("#runs-loss", OverlayChart)
            await wait_for(pilot, lambda: len(loss.curves) == 2)
            assert all(len(points) == 4 for points in loss.curves.values())
            assert any("\u2800" < ch <= "\u28ff" for ch in loss.render().plain)
            # the third row up is the CLI run: load its spec
            await press(pilot, "up", "l")
            await wait_for(pilot, lambda: app.screen is not view)
            # the trained model differs from the loaded spec: the usual question
            dialog = await wait_dialog(pilot, ConfirmDialog)
            assert "Rebuild" in dialog.question
            assert app.spec.epochs == 7 and app.spec.batch_size == 8
            assert app.spec.solver.lr == pytest.approx(0.05)
            assert app.query_one("#set-lr").value == "0.05"

    run(scenario())


def test_three_seeds_train_a_band_recorded_as_a_sweep(config_dir, history) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=5))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_ready(pilot, engine=True)
            commit_setting(app, "seeds", "3")
            await wait_for(pilot, lambda: app.seeds_setting() == 3)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            assert app.state.epoch == 5
            chart = app.query_one("#acc-chart", MetricChart)
            assert chart.bands is not None and chart.bands.seeds == 3
            await wait_for(pilot, lambda: chart._drawn_version == -1 - chart.bands.version)
            assert BAND_MARKER in chart.render().plain
            assert "3 seeds" in str(chart.border_subtitle)
            panel = str(app.query_one(AccuracyPanel).render())
            assert "±" in panel and "worst" in panel
            # the map shows one chosen seed; E picks the next
            await press(pilot, "E")
            await wait_for(pilot, lambda: notified(app, "seed 1 (2 of 3)"))
            assert app.recorder.flush()
            runs = stored_runs()
            assert len(runs) == 3 and {r.seed for r in runs} == {0, 1, 2}
            assert len({r.sweep_id for r in runs}) == 1 and runs[0].sweep_id is not None
            assert all(r.status == "finished" and r.epochs == 5 for r in runs)
            # x exports every seed's epochs (it wrote nothing with seeds > 1 before)
            out = config_dir.parent / "seeds.csv"
            await press(pilot, "x")
            prompt = await wait_dialog(pilot, PromptDialog)
            prompt.query_one("Input", Input).value = str(out)
            await press(pilot, "enter")
            await wait_for(pilot, lambda: notified(app, "Wrote 5 epochs × 3 seeds"))
            rows = list(csv.DictReader(out.open()))
            assert len(rows) == 15 and {r["seed"] for r in rows} == {"0", "1", "2"}
            assert {r["epoch"] for r in rows} == {"1", "2", "3", "4", "5"}
            # back to one seed: an ordinary run, lines without a band
            commit_setting(app, "seeds", "1")
            await wait_for(pilot, lambda: app.seeds_setting() == 1)
            await press(pilot, "r")
            await wait_for(pilot, lambda: not app.session.has_run)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            assert chart.bands is None and app.state.replicas is None
            assert len(app.records) == 5

    run(scenario())
