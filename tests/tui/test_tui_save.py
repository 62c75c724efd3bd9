"""Saving: model checkpoint (engine format) and metrics CSV, and loading a checkpoint back."""

from __future__ import annotations

import csv

from textual.widgets import Input
from tui_helpers import notified, press, run, tiny_spec, wait_for, wait_ready

from miniframe.tui.app import TrainerApp
from miniframe.tui.widgets.prompt import PromptDialog


async def answer(pilot, text: str) -> None:
    """Wait for the prompt, replace its text and press enter."""
    app = pilot.app
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, PromptDialog) and bool(app.screen.query(Input)),
        what="the prompt and its input",
    )
    app.screen.query_one(Input).value = text
    await press(pilot, "enter")


def dialog_error(app: TrainerApp) -> str:
    if not isinstance(app.screen, PromptDialog):
        return ""
    return str(app.screen.query_one("#dialog-error").render())


def test_save_checkpoint_and_csv_then_reload(config_dir, tmp_path) -> None:
    model = tmp_path / "tiny.safetensors"
    metrics = tmp_path / "metrics.csv"

    async def train_and_save() -> None:
        app = TrainerApp(tiny_spec(epochs=3))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await press(pilot, "c")  # nothing trained yet: says so
            await wait_for(pilot, lambda: notified(app, "train first"))
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            await press(pilot, "c")
            await answer(pilot, str(tmp_path / "nope" / "x"))
            # missing folder: refused inline, the dialog stays
            await wait_for(pilot, lambda: "does not exist" in dialog_error(app))
            assert isinstance(app.screen, PromptDialog)
            await answer(pilot, str(model))
            await wait_for(pilot, model.exists)
            await wait_for(pilot, lambda: notified(app, "Saved checkpoint"))
            await wait_for(pilot, lambda: not isinstance(app.screen, PromptDialog))
            await press(pilot, "x")
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
            await wait_for(pilot, lambda: notified(app, "bad.safetensors"))
            assert app.is_running and app.layers == tiny_spec().layers

    run(scenario())


def test_save_dialogs_refuse_an_input_or_the_history(config_dir, tmp_path) -> None:
    """The checkpoint and CSV export dialogs refuse, inline, a file the trainer reads (its CSV
    data, by another spelling or through a link too) or keeps (the run history and its -wal),
    and the file stays as it was; a fresh name then saves."""
    import os

    from miniframe.engine import DataSpec
    from miniframe.runs import database_path

    data = tmp_path / "d.csv"
    data.write_text("x,y,c\n" + "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(40)))
    before = data.read_bytes()
    link = tmp_path / "link.csv"
    os.symlink(data, link)
    spec = tiny_spec(epochs=1, data=DataSpec(name="csv", path=str(data)))
    model = tmp_path / "m.safetensors"

    config = tmp_path / "run.toml"
    spec.save(config)
    config_before = config.read_bytes()

    async def scenario() -> None:
        app = TrainerApp(spec)
        app.config_file = config  # as miniframe-tui --config run.toml sets it
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            history = database_path()
            await wait_for(pilot, history.exists, what="the run history")
            for key in ("c", "x"):
                await press(pilot, key)
                for text in (str(data), f"{tmp_path}/./d.csv", str(link), str(history),
                             f"{history}-wal", str(config)):  # fmt: skip
                    await answer(pilot, text)
                    await wait_for(
                        pilot, lambda: "an output never replaces an input" in dialog_error(app)
                    )
                    assert isinstance(app.screen, PromptDialog)
                await press(pilot, "escape")
                await wait_for(pilot, lambda: not isinstance(app.screen, PromptDialog))
            await press(pilot, "c")
            await answer(pilot, str(model))
            await wait_for(pilot, model.exists)

    run(scenario())
    assert data.read_bytes() == before and link.is_symlink()
    assert config.read_bytes() == config_before
