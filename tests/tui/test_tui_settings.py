"""Pilot tests of the settings panel: every setting, and invalid values flagged inline."""

from __future__ import annotations

from conftest import run, tiny_spec
from textual.widgets import Input, Select

from miniframe.tui.app import TrainerApp


def new_app() -> TrainerApp:
    return TrainerApp(tiny_spec(), load_engine_on_start=False)


async def type_into(pilot, field: str, text: str) -> None:
    app = pilot.app
    widget = app.query_one(f"#set-{field}", Input)
    widget.focus()
    widget.value = ""
    await pilot.press(*[c for c in text])
    await pilot.pause()


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
                assert check(app.spec), (field, app.spec)
                assert app.problem is None
                assert error_text(app, field) == ""

    run(scenario())


def test_invalid_values_flagged_inline_and_refused(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            for field, text, message in INVALID_CASES:
                before = app.spec
                good = app.query_one(f"#set-{field}", Input).value
                await type_into(pilot, field, text)
                assert message in error_text(app, field), (field, text)
                assert app.query_one(f"#set-{field}", Input).has_class("-invalid")
                assert app.query_one(f"#set-{field}", Input).value == text  # kept as typed
                assert app.problem is not None and message in app.problem
                assert app.spec == before  # the last good value stays in the spec
                app.action_train()
                await pilot.pause()
                assert not app.is_training and app.state.status == "invalid"
                await type_into(pilot, field, good)
                assert app.problem is None and error_text(app, field) == ""
                assert not app.query_one(f"#set-{field}", Input).has_class("-invalid")

    run(scenario())


def test_batch_size_hint(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            hint = app.query_one("#batch-hint")
            await type_into(pilot, "batch_size", "1")
            assert "SGD" in str(hint.render()) and "full" not in str(hint.render())
            await type_into(pilot, "batch_size", "64")
            assert "full-batch GD" in str(hint.render())
            await type_into(pilot, "batch_size", "16")
            assert "mini-batch" in str(hint.render())

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
            for field, value, check in cases:
                app.query_one(f"#set-{field}", Select).value = value
                await pilot.pause()
                assert check(app.spec), app.spec
                assert app.problem is None

    run(scenario())


def test_momentum_only_editable_for_sgd_with_momentum(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            momentum = app.query_one("#set-momentum", Input)
            assert momentum.disabled  # Adam
            app.query_one("#set-solver", Select).value = "momentum"
            await pilot.pause()
            assert not momentum.disabled
            await type_into(pilot, "momentum", "0.5")
            assert app.spec.solver.momentum == 0.5
            await type_into(pilot, "momentum", "1.5")
            assert "[0, 1)" in error_text(app, "momentum")
            app.query_one("#set-solver", Select).value = "adam"
            await pilot.pause()
            assert app.problem is None and app.spec.solver.name == "adam"

    run(scenario())


def test_select_by_keyboard(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("g")  # focus settings: the loss select
            assert app.focused is app.query_one("#set-loss", Select)
            await pilot.press("enter", "up", "enter")
            assert app.spec.loss == "mse"

    run(scenario())
