"""Saving: model checkpoint (engine format) and metrics CSV, and loading a checkpoint back."""

from __future__ import annotations

import csv

from conftest import press, run, tiny_spec, wait_for
from textual.widgets import Input

from miniframe.tui.app import TrainerApp
from miniframe.tui.widgets.prompt import PromptDialog


async def answer(pilot, text: str) -> None:
    """Replace the prompt's text and press enter."""
    pilot.app.screen.query_one(Input).value = text
    await pilot.press("enter")


def test_save_checkpoint_and_csv_then_reload(config_dir, tmp_path) -> None:
    model = tmp_path / "tiny.safetensors"
    metrics = tmp_path / "metrics.csv"

    async def train_and_save() -> None:
        app = TrainerApp(tiny_spec(epochs=3))
        async with app.run_test(size=(80, 24)) as pilot:
            await press(pilot, "c")  # nothing trained yet: says so
            assert any("train first" in n.message for n in app._notifications)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            await pilot.press("c")
            assert isinstance(app.screen, PromptDialog)
            await answer(pilot, str(tmp_path / "nope" / "x"))
            assert isinstance(app.screen, PromptDialog)  # missing folder: refused inline
            assert "does not exist" in str(app.screen.query_one("#dialog-error").render())
            await answer(pilot, str(model))
            await wait_for(pilot, model.exists)
            await pilot.press("x")
            await answer(pilot, str(metrics))
            await wait_for(pilot, metrics.exists)

    run(train_and_save())
    rows = list(csv.DictReader(metrics.open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"] and rows[-1]["status"] == "finished"

    async def reload() -> None:
        app = TrainerApp(checkpoint=model)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.session.run is not None)
            await wait_for(pilot, lambda: app.spec.name == "tiny")
            assert app.layers == tiny_spec().layers and app.spec.epochs == 3
            await press(pilot, "n")  # the loaded model trains on
            await wait_for(pilot, lambda: len(app.records) == 1)

    run(reload())


def test_bad_checkpoint_is_a_notification(config_dir, tmp_path) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")

    async def scenario() -> None:
        app = TrainerApp(tiny_spec(), checkpoint=bad)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: any("bad.safetensors" in n.message
                                              for n in app._notifications))  # fmt: skip
            assert app.is_running and app.layers == tiny_spec().layers

    run(scenario())
