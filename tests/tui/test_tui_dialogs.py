"""Dialogs survive a double Enter; no handler error ends the app; reads never block the UI.

Two Enters in one terminal read (a paste ending in newlines, key repeat over a laggy link)
used to crash the trainer from every dialog and from the command palette. Here both keys
are posted back to back, as the terminal driver does when it parses one read, and each
test checks the app is alive and the dialog's action happened exactly once.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input
from tui_helpers import (
    commit_setting,
    notes,
    notified,
    press,
    run,
    tiny_spec,
    type_text,
    wait_closed,
    wait_dialog,
    wait_for,
    wait_ready,
)

from miniframe.engine import load_preset
from miniframe.tui import jobs, presets
from miniframe.tui.app import TrainerApp
from miniframe.tui.errors import ErrorLog
from miniframe.tui.session import TrainingSession
from miniframe.tui.widgets.confirm import ConfirmDialog
from miniframe.tui.widgets.layer_dialog import LayerDialog
from miniframe.tui.widgets.layer_stack import LayerStack
from miniframe.tui.widgets.preset_picker import PresetPicker
from miniframe.tui.widgets.prompt import PromptDialog


def double_enter(app: TrainerApp) -> None:
    """Two Enters in one terminal read: posted back to back, nothing handled between."""
    app.post_message(events.Key("enter", "\r"))
    app.post_message(events.Key("enter", "\r"))


def count(app: TrainerApp, needle: str) -> int:
    return sum(needle in note for note in notes(app))


async def settle_after(pilot, app: TrainerApp, cls: type) -> None:
    """The dialog closed, the main screen is back, and the app still runs."""
    await wait_closed(pilot, cls)
    await wait_for(pilot, lambda: len(app.screen_stack) == 1)
    await pilot.pause(0)
    assert app.is_running and app.return_code is None


def new_app(**changes: object) -> TrainerApp:
    return TrainerApp(tiny_spec(**changes), load_engine_on_start=False)


def test_double_enter_in_the_preset_picker(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await press(pilot, "o")
            picker = await wait_dialog(pilot, PresetPicker)
            double_enter(app)
            await settle_after(pilot, app, PresetPicker)
            first = picker.entries[0]
            await wait_for(pilot, lambda: notified(app, f"Loaded preset {first.name}"))
            assert app.layers == load_preset(first.name).layers
            assert count(app, "Loaded preset") == 1

    run(scenario())


def test_double_enter_in_the_save_preset_prompt(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await press(pilot, "s")
            await wait_dialog(pilot, PromptDialog)
            double_enter(app)
            await settle_after(pilot, app, PromptDialog)
            await wait_for(pilot, lambda: notified(app, "Saved preset tiny"))
            assert (config_dir / "presets" / "tiny.toml").exists()
            assert count(app, "Saved preset") == 1

    run(scenario())


def test_double_enter_in_the_checkpoint_and_csv_prompts(config_dir, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)

    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=2))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot, engine=True)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            await press(pilot, "c")
            await wait_dialog(pilot, PromptDialog)
            double_enter(app)
            await settle_after(pilot, app, PromptDialog)
            await wait_for(pilot, lambda: notified(app, "Saved checkpoint"))
            assert (tmp_path / "tiny-e2.safetensors").exists()
            await press(pilot, "x")
            await wait_dialog(pilot, PromptDialog)
            double_enter(app)
            await settle_after(pilot, app, PromptDialog)
            await wait_for(pilot, lambda: notified(app, "Wrote 2 epochs"))
            assert (tmp_path / "tiny-metrics.csv").exists()
            assert count(app, "Saved checkpoint") == 1 and count(app, "Wrote") == 1

    run(scenario())


def test_double_enter_in_the_add_and_edit_layer_dialogs(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            # A kind without a parameter: one Enter adds it; the second must not add again.
            await press(pilot, "a")
            dialog = await wait_dialog(pilot, LayerDialog)
            await press(pilot, "down")
            await wait_for(pilot, lambda: dialog.query_one("#layer-kinds").highlighted == 1)
            double_enter(app)
            await settle_after(pilot, app, LayerDialog)
            assert [layer.kind for layer in app.layers] == ["linear", "relu", "relu", "linear"]
            # Linear: the first Enter picks the kind; the second selects it again or accepts
            # the units shown, depending on when the focus moved; never a crash.
            await press(pilot, "a")
            dialog = await wait_dialog(pilot, LayerDialog)
            double_enter(app)
            field = dialog.query_one("#param-input")
            await wait_for(pilot, lambda: len(app.layers) == 5 or dialog.focused is field)
            if len(app.layers) == 4:
                await press(pilot, "enter")
            await settle_after(pilot, app, LayerDialog)
            assert len(app.layers) == 5 and app.layers[2].kind == "linear"
            # Edit: one Enter accepts the value shown.
            before = list(app.layers)
            await press(pilot, "e")
            await wait_dialog(pilot, LayerDialog)
            double_enter(app)
            await settle_after(pilot, app, LayerDialog)
            assert app.layers == before

    run(scenario())


def test_double_enter_in_the_confirm_dialog(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=2))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot, engine=True)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            commit_setting(app, "seed", "7")  # needs a new model: asks
            await wait_dialog(pilot, ConfirmDialog)
            double_enter(app)
            await settle_after(pilot, app, ConfirmDialog)
            await wait_for(pilot, lambda: app.session.run is None and not app.records)

    run(scenario())


def test_double_enter_in_the_command_palette_runs_the_command_once(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await press(pilot, "ctrl+p")
            await wait_for(pilot, lambda: app.screen.has_class("--textual-command-palette"))
            await wait_for(pilot, lambda: app.screen.focused is not None)
            await type_text(pilot, "delete layer")
            await wait_for(pilot, lambda: "delete layer" in palette_text(app).lower())
            double_enter(app)
            await wait_for(pilot, lambda: len(app.screen_stack) == 1)
            await wait_for(pilot, lambda: len(app.layers) == 2)
            await pilot.pause()  # handle what is queued (a second run would be queued too)
            assert len(app.layers) == 2 and app.is_running

    run(scenario())


def palette_text(app: TrainerApp) -> str:
    from textual.command import CommandList

    try:
        options = app.screen.query_one(CommandList)
    except Exception:
        return ""
    return " ".join(str(options.get_option_at_index(i).prompt) for i in range(options.option_count))


# ---- no handler error ends the app ---------------------------------------------------------
def test_an_error_in_an_action_is_reported_and_the_app_goes_on(config_dir, monkeypatch) -> None:
    def broken(self: TrainerApp) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(TrainerApp, "action_toggle_view", broken)
    before = ErrorLog.count

    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await press(pilot, "v")
            await wait_for(pilot, lambda: notified(app, "RuntimeError: boom"))
            assert ErrorLog.count == before + 1
            await press(pilot, "d")  # still answers keys
            await wait_for(pilot, lambda: len(app.layers) == 2)
            assert app.is_running

    run(scenario())


def test_errors_in_a_handler_and_a_dialog_callback_are_reported(config_dir, monkeypatch) -> None:
    def broken_insert(self: LayerStack, at: int, layer: object) -> None:
        raise ValueError("bad insert")

    monkeypatch.setattr(LayerStack, "_insert", broken_insert)

    def broken_drain(self: TrainingSession) -> list:
        raise KeyError("feed")

    monkeypatch.setattr(TrainingSession, "drain", broken_drain)

    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=2))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot, engine=True)
            await press(pilot, "a")
            await wait_dialog(pilot, LayerDialog)
            await press(pilot, "down")
            await press(pilot, "enter")
            await wait_for(pilot, lambda: notified(app, "ValueError: bad insert"))
            await press(pilot, "t")  # the epoch handler fails on every message
            await wait_for(pilot, lambda: notified(app, "KeyError"))
            await wait_for(pilot, lambda: not app.is_training)
            assert app.is_running and app.session.run is not None  # the model is kept

    run(scenario())


# ---- the panels mounted after the first frame ----------------------------------------------
def test_keys_and_loads_before_the_panels_are_mounted(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        vanilla = load_preset("vanilla")
        async with app.run_test(size=(80, 24)) as pilot:
            if not app.ui_ready:  # act on the first frame's state
                app.load_spec(vanilla)
                await press(pilot, "v", "g", "l", "a", "escape")
            await wait_ready(pilot)
            await wait_for(pilot, lambda: app.query_one("#set-epochs", Input).value
                           == str(vanilla.epochs))  # fmt: skip
            assert app.layers == vanilla.layers and app.spec.epochs == vanilla.epochs
            assert app.problem is None and app.is_running

    run(scenario())


# ---- reading files off the UI thread ---------------------------------------------------------
async def pick(pilot, name: str) -> None:
    await press(pilot, "o")
    picker = await wait_dialog(pilot, PresetPicker)
    names = [e.name for e in picker.entries]
    options = picker.query_one("#preset-list")
    await press(pilot, *["down"] * names.index(name))
    await wait_for(pilot, lambda: options.highlighted == names.index(name))
    await press(pilot, "enter")
    await wait_closed(pilot, PresetPicker)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_the_presets_folder_is_refused_without_blocking(config_dir) -> None:
    folder = config_dir / "presets"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "pipe.toml")

    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            before = list(app.layers)
            await pick(pilot, "pipe")
            await wait_for(pilot, lambda: notified(app, "FIFO"))
            assert app.layers == before and not app.jobs.busy
            await press(pilot, "d")  # responsive
            await wait_for(pilot, lambda: len(app.layers) == len(before) - 1)

    run(scenario())


def test_a_deeply_nested_preset_is_a_notification(config_dir) -> None:
    folder = config_dir / "presets"
    folder.mkdir(parents=True)
    (folder / "nested.toml").write_text("a = " + "[" * 50_000 + "]" * 50_000 + "\n")

    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            before = list(app.layers)
            await pick(pilot, "nested")
            await wait_for(pilot, lambda: notified(app, "nested.toml"))
            assert app.layers == before and app.is_running

    run(scenario())


def test_a_read_that_never_answers_times_out(config_dir, monkeypatch) -> None:
    folder = config_dir / "presets"
    folder.mkdir(parents=True)
    (folder / "slow.toml").write_text(tiny_spec().to_toml())
    release = threading.Event()
    real_load = presets.load_entry

    def stalled(entry: presets.PresetEntry) -> object:
        release.wait(60)  # a stalled network drive, in effect
        return real_load(entry)

    monkeypatch.setattr(presets, "load_entry", stalled)
    monkeypatch.setattr(jobs, "READ_TIMEOUT_S", 0.5)

    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await pick(pilot, "slow")
            await wait_for(pilot, lambda: notified(app, "no answer after"))
            release.set()  # the late answer is dropped
            await wait_for(pilot, lambda: not app.jobs.busy)
            await pilot.pause()  # the late JobDone, if any, is handled by now
            assert not notified(app, "Loaded preset") and app.is_running

    try:
        run(scenario())
    finally:
        release.set()


def test_paths_typed_in_a_prompt_expand_the_home_folder(config_dir, tmp_path, monkeypatch) -> None:
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)

    async def answer(pilot, text: str) -> None:
        prompt = await wait_dialog(pilot, PromptDialog)
        prompt.query_one(Input).value = text
        await press(pilot, "enter")
        await wait_closed(pilot, PromptDialog)

    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=2))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot, engine=True)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            await press(pilot, "c")
            await answer(pilot, "~/m.safetensors")
            await wait_for(pilot, (home / "m.safetensors").exists)
            await press(pilot, "x")
            await answer(pilot, "~/m.csv")
            await wait_for(pilot, (home / "m.csv").exists)

    run(scenario())
    assert not (cwd / "~").exists()
    assert not Path("~").exists()


# ---- quitting never waits for the training thread ---------------------------------------------
def test_quit_does_not_wait_for_a_batch_that_ignores_stop(config_dir, monkeypatch) -> None:
    """A batch that takes long and never checks should_stop: the app still quits at once
    (the process then ends with os._exit, see test_tui_process)."""
    release = threading.Event()
    entered = threading.Event()

    def long_batch(self: TrainingSession, *args: object) -> tuple[str, str]:
        entered.set()
        release.wait(60)
        return "stopped", "stopped"

    monkeypatch.setattr(TrainingSession, "_train", long_batch)
    seen: dict[str, bool] = {}

    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await press(pilot, "t")
            await wait_for(pilot, entered.is_set)
            await press(pilot, "ctrl+q")
            await wait_for(pilot, lambda: not app.is_running)
            seen["training"] = app.session.training
        seen["exited"] = True
        release.set()  # let the executor thread go, or asyncio.run would wait for it

    try:
        run(scenario())
    finally:
        release.set()
    assert seen == {"training": True, "exited": True}
