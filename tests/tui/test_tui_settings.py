"""Pilot tests of the settings panel: every setting, and invalid values flagged inline."""

from __future__ import annotations

from textual.widgets import Input, Select
from tui_helpers import press, run, tiny_spec, wait_for, wait_ready

from miniframe.tui.app import TrainerApp
from miniframe.tui.widgets.settings_panel import SettingsPanel


def new_app() -> TrainerApp:
    return TrainerApp(tiny_spec(), load_engine_on_start=False)


async def type_into(pilot, field: str, text: str) -> None:
    """Clear the field, type ``text`` key by key and press Enter (a value counts when it
    is committed); wait until the app has taken it in."""
    app = pilot.app
    await wait_ready(pilot)
    widget = app.query_one(f"#set-{field}", Input)
    widget.focus()
    await wait_for(pilot, lambda: app.focused is widget, what=f"focus on {field}")
    widget.value = ""
    await press(pilot, *text)
    await wait_for(pilot, lambda: widget.value == text, what=f"{field} == {text!r}")
    await press(pilot, "enter")
    # ...and until the app has taken in the panel's last change (a message behind the keys)
    panel = app.query_one(SettingsPanel)
    await wait_for(
        pilot,
        lambda: panel.read() == (app._settings_values, app._settings_errors),
        what="the app to take the settings in",
    )


def error_text(app: TrainerApp, field: str) -> str:
    err = app.query_one(f"#err-{field}")
    return str(err.render()) if err.display else ""


TEXT_CASES = [
    ("lr", "0.05", lambda s: s.solver.lr == 0.05),
    ("weight_decay", "0.001", lambda s: s.solver.weight_decay == 0.001),
    ("batch_size", "8", lambda s: s.batch_size == 8),
    ("epochs", "12", lambda s: s.epochs == 12),
    ("seed", "3", lambda s: s.seed == 3),
    ("noise", "0.1", lambda s: s.data.noise == 0.1),
    ("n_train", "100", lambda s: s.data.n_train == 100),
    ("n_test", "50", lambda s: s.data.n_test == 50),
]

INVALID_CASES = [
    ("lr", "abc", "not a number"),
    ("lr", "-1", "positive"),
    ("lr", "0", "positive"),
    ("weight_decay", "-0.1", "≥ 0"),
    ("batch_size", "0", "≥ 1"),
    ("batch_size", "65", "larger than the training set"),
    ("batch_size", "2.5", "whole number"),
    ("epochs", "-3", "≥ 1"),
    ("seed", "x", "whole number"),
    ("noise", "-1", "≥ 0"),
    ("n_train", "0", "≥ 1"),
    ("n_test", "", "required"),
]


def test_text_settings_update_the_spec(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            for field, text, check in TEXT_CASES:
                await type_into(pilot, field, text)
                await wait_for(pilot, lambda: check(app.spec), what=f"{field} in the spec")  # noqa: B023
                assert app.problem is None
                assert error_text(app, field) == ""

    run(scenario())


def test_invalid_values_flagged_inline_and_refused(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            for field, text, message in INVALID_CASES:
                before = app.spec
                good = app.query_one(f"#set-{field}", Input).value
                await type_into(pilot, field, text)
                await wait_for(
                    pilot,
                    lambda: message in error_text(app, field) and message in (app.problem or ""),  # noqa: B023
                    what=f"{field}={text!r} flagged",
                )
                assert app.query_one(f"#set-{field}", Input).has_class("-invalid")
                assert app.query_one(f"#set-{field}", Input).value == text  # kept as typed
                assert app.problem is not None and message in app.problem
                assert app.spec == before  # the last good value stays in the spec
                app.action_train()  # refused at once: nothing to wait for
                assert not app.is_training and app.state.status == "invalid"
                await type_into(pilot, field, good)
                await wait_for(pilot, lambda: app.problem is None and not error_text(app, field))  # noqa: B023
                assert not app.query_one(f"#set-{field}", Input).has_class("-invalid")

    run(scenario())


def test_batch_size_hint(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            hint = app.query_one("#batch-hint")
            await type_into(pilot, "batch_size", "1")
            await wait_for(pilot, lambda: str(hint.render()) == "= SGD")
            await type_into(pilot, "batch_size", "64")
            await wait_for(pilot, lambda: "full-batch GD" in str(hint.render()))
            await type_into(pilot, "batch_size", "16")
            await wait_for(pilot, lambda: "mini-batch" in str(hint.render()))

    run(scenario())


def test_choice_settings(config_dir) -> None:
    cases = [
        ("loss", "mse", lambda s: s.loss == "mse"),
        ("solver", "sgd", lambda s: s.solver.name == "sgd" and s.solver.momentum == 0),
        ("solver", "momentum", lambda s: s.solver.name == "sgd" and s.solver.momentum == 0.9),
        ("init", "xavier", lambda s: s.init == "xavier"),
        ("dataset", "spirals", lambda s: s.data.name == "spirals"),
    ]

    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            for field, value, check in cases:
                app.query_one(f"#set-{field}", Select).value = value
                await wait_for(pilot, lambda: check(app.spec), what=f"{field}={value}")  # noqa: B023
                assert app.problem is None

    run(scenario())


def test_momentum_only_editable_for_sgd_with_momentum(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            momentum = app.query_one("#set-momentum", Input)
            assert momentum.disabled  # Adam
            app.query_one("#set-solver", Select).value = "momentum"
            await wait_for(pilot, lambda: not momentum.disabled)
            await type_into(pilot, "momentum", "0.5")
            await wait_for(pilot, lambda: app.spec.solver.momentum == 0.5)
            await type_into(pilot, "momentum", "1.5")
            await wait_for(pilot, lambda: "[0, 1)" in error_text(app, "momentum"))
            app.query_one("#set-solver", Select).value = "adam"
            await wait_for(pilot, lambda: app.problem is None and app.spec.solver.name == "adam")

    run(scenario())


def test_select_by_keyboard(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            loss = app.query_one("#set-loss", Select)
            await press(pilot, "g")  # focus settings: the loss select
            await wait_for(pilot, lambda: app.focused is loss, what="focus on the loss select")
            await press(pilot, "enter")
            await wait_for(pilot, lambda: loss.expanded, what="the loss menu to open")
            await press(pilot, "up", "enter")
            await wait_for(pilot, lambda: app.spec.loss == "mse")

    run(scenario())
