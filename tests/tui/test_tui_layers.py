"""Pilot tests of the layer stack: add, insert, delete, move, edit, and invalid stacks."""

from __future__ import annotations

from tui_helpers import (
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

from miniframe.tui.app import TrainerApp
from miniframe.tui.widgets.layer_dialog import LayerDialog


def kinds(app: TrainerApp) -> list[str]:
    return [layer.kind for layer in app.layers]


def labels(app: TrainerApp) -> list[str]:
    table = app.layer_stack.table
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


def new_app(**changes: object) -> TrainerApp:
    return TrainerApp(tiny_spec(**changes), load_engine_on_start=False)


async def add_layer(pilot, key: str, downs: int, param: str | None = None) -> None:
    """Open the add/insert menu with ``key``, pick the kind ``downs`` rows down, and type
    its parameter (units / slope / p) when it has one; wait until the dialog closed."""
    await press(pilot, key)
    dialog = await wait_dialog(pilot, LayerDialog)
    await press(pilot, *["down"] * downs)
    await wait_for(pilot, lambda: dialog.query_one("#layer-kinds").highlighted == downs)
    await press(pilot, "enter")
    if param is not None:
        field = dialog.query_one("#param-input")
        await wait_for(pilot, lambda: dialog.focused is field, what="the parameter field")
        field.value = ""
        await type_text(pilot, param)
        await wait_for(pilot, lambda: field.value == param)
        await press(pilot, "enter")
    await wait_closed(pilot, LayerDialog)


async def edit_layer(pilot, key: str, text: str) -> None:
    """Open the edit dialog with ``key`` and type ``text``: the dialog opens with the old
    value selected, so the typed text replaces it. Press enter."""
    await press(pilot, key)
    dialog = await wait_dialog(pilot, LayerDialog)
    field = dialog.query_one("#param-input")
    await wait_for(
        pilot,
        lambda: dialog.focused is field and field.selected_text == field.value != "",
        what="the old value selected",
    )
    await type_text(pilot, text)
    await wait_for(pilot, lambda: field.value == text, what=f"{text!r} typed")
    await press(pilot, "enter")


async def move_cursor(pilot, row: int) -> None:
    app = pilot.app
    app.layer_stack.table.focus()
    while app.layer_stack.cursor != row:
        before = app.layer_stack.cursor
        await press(pilot, "down" if before < row else "up")
        await wait_for(pilot, lambda: app.layer_stack.cursor != before)  # noqa: B023


def test_stack_shows_shapes_params_and_total(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            assert labels(app) == ["Linear 2 → 8", "ReLU", "Linear 8 → 2"]
            table = app.layer_stack.table
            assert str(table.get_row_at(0)[2]) == "24" and str(table.get_row_at(2)[2]) == "18"
            total = str(app.query_one("#layer-total").render())
            assert "42" in total

    run(scenario())


def test_add_linear_after_cursor_with_units(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await add_layer(pilot, "a", 0, "16")  # Linear: asks for units
            await wait_for(pilot, lambda: len(app.layers) == 4)
            assert kinds(app) == ["linear", "linear", "relu", "linear"]
            assert app.layers[1].units == 16
            # widths re-inferred: the new layer takes 8 inputs
            assert labels(app)[1] == "Linear 8 → 16"
            assert app.layer_stack.cursor == 1

    run(scenario())


def test_add_each_kind_from_the_menu(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            # ReLU (2nd), LeakyReLU with slope (3rd), Tanh, Sigmoid, Dropout with p (7th)
            await add_layer(pilot, "a", 1)
            await add_layer(pilot, "a", 2, "0.2")
            await add_layer(pilot, "a", 3)
            await add_layer(pilot, "a", 4)
            await add_layer(pilot, "a", 6, "0.3")
            await wait_for(pilot, lambda: len(app.layers) == 8)
            assert kinds(app) == [
                "linear", "relu", "leaky_relu", "tanh", "sigmoid", "dropout", "relu", "linear",
            ]  # fmt: skip
            assert app.layers[2].negative_slope == 0.2
            assert app.layers[5].p == 0.3
            assert "LeakyReLU(0.2)" in labels(app) and "Dropout(0.3)" in labels(app)
            assert app.problem is None

    run(scenario())


def test_bad_layer_parameter_is_refused_in_the_dialog(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await press(pilot, "a")
            dialog = await wait_dialog(pilot, LayerDialog)
            await press(pilot, "enter")
            field = dialog.query_one("#param-input")
            await wait_for(pilot, lambda: dialog.focused is field)
            field.value = ""
            await type_text(pilot, "xy")
            await wait_for(pilot, lambda: field.value == "xy")
            await press(pilot, "enter")
            error = dialog.query_one("#dialog-error")
            await wait_for(pilot, lambda: "whole number" in str(error.render()))
            assert app.screen is dialog
            await press(pilot, "escape")
            await wait_closed(pilot, LayerDialog)
            assert kinds(app) == ["linear", "relu", "linear"]  # nothing lost

    run(scenario())


def test_insert_at_cursor(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await move_cursor(pilot, 1)  # cursor on ReLU
            await add_layer(pilot, "i", 3)  # Tanh before ReLU
            await wait_for(pilot, lambda: len(app.layers) == 4)
            assert kinds(app) == ["linear", "tanh", "relu", "linear"]
            assert app.layer_stack.cursor == 1

    run(scenario())


def test_delete_and_move(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await move_cursor(pilot, 1)
            await press(pilot, "d")
            await wait_for(pilot, lambda: kinds(app) == ["linear", "linear"])
            assert labels(app) == ["Linear 2 → 8", "Linear 8 → 2"]
            await add_layer(pilot, "a", 1)  # ReLU after cursor (last)
            await wait_for(pilot, lambda: kinds(app) == ["linear", "linear", "relu"])
            await press(pilot, "K")  # move up
            await wait_for(pilot, lambda: kinds(app) == ["linear", "relu", "linear"])
            assert app.layer_stack.cursor == 1
            await press(pilot, "K", "J", "J")
            await wait_for(pilot, lambda: kinds(app) == ["linear", "linear", "relu"])
            await wait_for(pilot, lambda: app.layer_stack.cursor == 2)
            await press(pilot, "shift+up")
            await wait_for(pilot, lambda: kinds(app) == ["linear", "relu", "linear"])
            await press(pilot, "delete", "delete", "delete", "delete")
            await wait_for(pilot, lambda: app.layers == [])
            assert "empty" in (app.problem or "")

    run(scenario())


def test_edit_units_slope_and_p(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await edit_layer(pilot, "e", "32")
            await wait_for(pilot, lambda: app.layers[0].units == 32)
            assert labels(app)[2] == "Linear 32 → 2"
            await wait_closed(pilot, LayerDialog)
            await edit_layer(pilot, "enter", "4")  # enter on a row edits too
            await wait_for(pilot, lambda: app.layers[0].units == 4)
            await wait_closed(pilot, LayerDialog)
            await move_cursor(pilot, 1)
            await press(pilot, "e")  # ReLU: nothing to edit, says so
            await wait_for(pilot, lambda: notified(app, "nothing to edit"))
            assert not isinstance(app.screen, LayerDialog)

    run(scenario())


def test_invalid_stack_explains_and_refuses_to_train(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await move_cursor(pilot, 2)
            await edit_layer(pilot, "e", "3")  # last Linear outputs 3
            await wait_for(pilot, lambda: "2 classes" in (app.problem or ""))
            error = app.query_one("#layer-error")
            assert "last Linear" in str(error.render())
            await wait_closed(pilot, LayerDialog)
            await press(pilot, "t")
            await wait_for(pilot, lambda: notified(app, "Cannot train"))
            assert not app.is_training and app.session.run is None
            assert app.state.status == "invalid"
            await edit_layer(pilot, "e", "2")  # fixing it clears the message
            await wait_for(pilot, lambda: app.problem is None)
            await wait_for(pilot, lambda: str(error.render()) == "")

    run(scenario())


def test_palette_offers_layer_and_training_commands(config_dir) -> None:
    async def scenario() -> None:
        app = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await press(pilot, "ctrl+p")
            await wait_for(pilot, lambda: app.screen.has_class("--textual-command-palette"))
            await wait_for(pilot, lambda: app.screen.focused is not None)
            await type_text(pilot, "delete layer")
            await wait_for(pilot, lambda: "layers: delete layer" in _palette_text(app).lower())
            await press(pilot, "enter")
            await wait_for(pilot, lambda: len(app.layers) == 2)

    run(scenario())


def _palette_text(app: TrainerApp) -> str:
    from textual.command import CommandList

    try:
        options = app.screen.query_one(CommandList)
    except Exception:
        return ""
    return " ".join(str(options.get_option_at_index(i).prompt) for i in range(options.option_count))
