"""Pilot tests of the trainer's state (issue 8, item 4): what the screen says about the model
in memory, when a setting applies, the checkpoint launch, the edit dialog, end states, fit at
80×24, and focus in a 16-colour theme."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Select
from tui_helpers import press, run, tiny_spec, type_text, wait_dialog, wait_for, wait_ready

from miniframe.engine import inspect_checkpoint, load_preset
from miniframe.tui.app import TrainerApp
from miniframe.tui.controller import TrainerStatus
from miniframe.tui.widgets.accuracy_panel import AccuracyPanel
from miniframe.tui.widgets.boundary import BoundaryView
from miniframe.tui.widgets.confirm import ConfirmDialog
from miniframe.tui.widgets.layer_dialog import LayerDialog


def status_line(app: TrainerApp) -> str:
    return str(app.query_one(AccuracyPanel).render()).splitlines()[-1]


async def train_then_stop(pilot, app: TrainerApp, epochs: int = 3) -> int:
    await wait_ready(pilot)
    await press(pilot, "t")
    await wait_for(pilot, lambda: app.session.epoch >= epochs)
    await press(pilot, "t")
    await wait_for(pilot, lambda: app.control.status is TrainerStatus.STOPPED)
    return app.control.epoch


async def focus_field(pilot, app: TrainerApp, name: str) -> Input:
    field = app.query_one(f"#set-{name}", Input)
    field.focus()
    await wait_for(pilot, lambda: app.focused is field)
    field.value = ""
    return field


# ---- a. a setting applies when committed, never per keystroke ----------------------------
def test_a_setting_applies_on_enter_never_per_keystroke(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=10**6))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.session.epoch >= 1)
            lr = app.session.run.optimizer.lr
            field = await focus_field(pilot, app, "lr")
            await press(pilot, "5")  # on the way to 5e-4
            await wait_for(pilot, lambda: field.value == "5")
            for _ in range(5):
                await pilot.pause(0.02)
            assert app.spec.solver.lr == 0.01 and app.session.run.optimizer.lr == lr
            await type_text(pilot, "e-4")
            await press(pilot, "enter")
            await wait_for(pilot, lambda: app.session.run.optimizer.lr == 5e-4)
            assert app.is_training
            await press(pilot, "ctrl+q")

    run(scenario())


def test_a_setting_applies_when_the_focus_leaves_it(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(), load_engine_on_start=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            field = await focus_field(pilot, app, "lr")
            await type_text(pilot, "0.002")
            await wait_for(pilot, lambda: field.value == "0.002")
            assert app.spec.solver.lr == 0.01
            await press(pilot, "tab")
            await wait_for(pilot, lambda: app.spec.solver.lr == 0.002)

    run(scenario())


def test_a_value_that_does_not_validate_never_reaches_the_solver(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=10**6))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.session.epoch >= 1)
            lr = app.session.run.optimizer.lr
            field = await focus_field(pilot, app, "lr")
            await type_text(pilot, "-5")
            await press(pilot, "enter")
            await wait_for(pilot, lambda: field.has_class("-invalid") and app.problem is not None)
            assert app.spec.solver.lr == 0.01 and app.session.pending_lr is None
            assert app.session.run.optimizer.lr == lr and app.is_training
            await press(pilot, "ctrl+q")

    run(scenario())


# ---- b. the screen says whether the model is the screen's; No keeps it; asked every time ----
def test_b_model_that_differs_is_shown_and_no_keeps_training_it(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=10**6))
        async with app.run_test(size=(80, 24)) as pilot:
            stopped = await train_then_stop(pilot, app)
            panel = app.query_one(AccuracyPanel)
            assert panel.border_subtitle == "model = screen"
            app.query_one("#set-dataset", Select).value = "xor"
            await wait_dialog(pilot, ConfirmDialog)
            await press(pilot, "n")
            await wait_for(pilot, lambda: not app.control.model_matches and not app._asking)
            assert panel.border_subtitle == "model ≠ screen"
            assert "model ≠ screen" in status_line(app) or "differs" in status_line(app)
            assert app.control.status is TrainerStatus.STOPPED  # the end state is kept
            # t asks; No trains the model in memory on (its data: still the disk)
            await press(pilot, "t")
            await wait_dialog(pilot, ConfirmDialog)
            await press(pilot, "n")
            await wait_for(pilot, lambda: app.session.epoch > stopped + 1)
            assert app.session.run.spec.data.name == "disk"
            assert "model ≠ screen" in status_line(app)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.control.status is TrainerStatus.STOPPED)
            # n (a step) asks too, and No steps the current model
            held = app.session.epoch
            await press(pilot, "n")
            await wait_dialog(pilot, ConfirmDialog)
            await press(pilot, "n")
            await wait_for(pilot, lambda: app.session.epoch == held + 1 and not app.is_training)

    run(scenario())


def test_b_changing_the_network_or_loading_a_preset_asks_every_time(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=10**6))
        async with app.run_test(size=(80, 24)) as pilot:
            await train_then_stop(pilot, app)
            for change in ("seed", "preset", "preset"):
                if change == "seed":
                    app.query_one("#set-dataset", Select).value = "xor"
                else:
                    app.load_spec(load_preset("vanilla"))
                await wait_dialog(pilot, ConfirmDialog)
                await press(pilot, "n")
                await wait_for(pilot, lambda: not app._asking)
                assert not app.control.model_matches
            app.load_spec(load_preset("vanilla"))
            await wait_dialog(pilot, ConfirmDialog)
            await press(pilot, "y")  # rebuild from the screen
            await wait_for(pilot, lambda: not app.session.has_run and app.control.epoch == 0)
            assert app.control.status is TrainerStatus.READY and app.control.model_matches
            assert app.query_one(AccuracyPanel).border_subtitle == "no model yet"

    run(scenario())


# ---- c. --checkpoint shows the loaded model at once ---------------------------------------
def test_c_checkpoint_launch_shows_accuracy_map_and_epoch(config_dir, tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"

    async def make() -> None:
        app = TrainerApp(tiny_spec(epochs=6))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.control.status is TrainerStatus.FINISHED)
            app.session.save_checkpoint(path)

    async def launch() -> None:
        app = TrainerApp(checkpoint=path)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.control.epoch == 6 and app.state.test_acc is not None)
            assert app.state.train_acc is not None and app.state.epoch == 6
            view = app.query_one(BoundaryView)  # the map: the model's, not a preview
            await wait_for(pilot, lambda: view.data is not None and bool(view.data.probs))
            assert app.spec.epochs == 6 and app.control.model_matches
            assert status_line(app).startswith("finished at epoch 6/6")
            assert "epoch 6/6" in str(app.query_one(AccuracyPanel).render())

    run(make())
    assert inspect_checkpoint(path).epoch == 6  # the session saves the epoch reached
    run(launch())


# ---- d. the edit dialog: the first key replaces the old value, however fast ------------------
def test_d_edit_dialog_first_key_replaces_old_value_however_fast(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(), load_engine_on_start=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            app.layer_stack.focus_table()
            await wait_for(pilot, lambda: app.focused is app.layer_stack.table)
            await press(pilot, "e", "7")  # in the same breath as the key opening it
            dialog = await wait_dialog(pilot, LayerDialog)
            field = dialog.query_one("#param-input", Input)
            await wait_for(pilot, lambda: field.value in ("7", "8"))
            if field.value == "8":  # the 7 came before the dialog could take it: type it now
                await press(pilot, "7")
                await wait_for(pilot, lambda: field.value == "7")
            await press(pilot, "enter")
            await wait_for(pilot, lambda: app.layers[0].units == 7)

    run(scenario())


# ---- e. end states read as one fact and stay until the model is rebuilt ---------------------
def test_e_stopped_reads_as_one_fact_and_stays_when_a_field_is_edited(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=10**6))
        async with app.run_test(size=(80, 24)) as pilot:
            stopped = await train_then_stop(pilot, app)
            target = app.spec.epochs
            assert status_line(app).startswith(f"stopped at epoch {stopped}/{target}")
            field = await focus_field(pilot, app, "lr")
            await type_text(pilot, "0.02")
            await press(pilot, "enter")
            await wait_for(pilot, lambda: app.spec.solver.lr == 0.02)
            assert app.control.status is TrainerStatus.STOPPED
            assert status_line(app).startswith(f"stopped at epoch {stopped}/")
            assert not status_line(app).startswith("ready")
            del field
            app.layer_stack.focus_table()  # keys, not text in the field
            await wait_for(pilot, lambda: app.focused is app.layer_stack.table)
            await press(pilot, "r")
            await wait_for(pilot, lambda: app.control.status is TrainerStatus.READY)
            assert status_line(app).startswith("ready")

    run(scenario())


# ---- f. every message fits at 80×24 ------------------------------------------------------
def test_f_status_messages_fit_at_80x24(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(), load_engine_on_start=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            panel = app.query_one(AccuracyPanel)
            width = panel.content_size.width
            control = app.control
            control.engine_loaded()
            cases = [
                ("reset", lambda: control.reset("weights reset")),
                ("invalid", lambda: control.spec_edited(app.spec, "stack " + "too long " * 12)),
            ]
            for _name, make in cases:
                make()
                app._show_state()
                await pilot.pause()
                for line in str(panel.render()).splitlines():
                    assert len(line) <= width, line
            assert "stack too long" in " ".join(getattr(app, "notes", []))  # given in full

    run(scenario())


# ---- g. focus is plainly visible, and not error red, in a 16-colour theme -------------------
def test_g_focus_visible_and_distinct_from_error_in_ansi_theme(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(), load_engine_on_start=False, theme="ansi-dark")
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            layers, settings = app.query_one("#layers"), app.query_one("#settings")
            app.layer_stack.focus_table()
            await wait_for(pilot, lambda: layers.has_focus_within)
            await pilot.pause()
            focused_type, focused_colour = layers.styles.border_top
            blurred_type, _ = settings.styles.border_top
            assert focused_type != blurred_type  # the shape says it, not a colour step
            error = app.theme_variables["error"]
            assert focused_colour.hex.lower() != app.get_css_variables()["error"].lower()
            assert error.lower() != app.theme_variables["accent"].lower()

    run(scenario())
