"""Keyboard-first: every binding has an id and description, and a palette entry."""

from __future__ import annotations

from textual.binding import Binding
from tui_helpers import press, run, tiny_spec, type_text, wait_for, wait_ready

from miniframe.tui.app import TrainerApp
from miniframe.tui.commands import COMMANDS
from miniframe.tui.widgets.layer_stack import LayerStack


def all_bindings() -> list[Binding]:
    return [b for b in [*TrainerApp.BINDINGS, *LayerStack.BINDINGS] if isinstance(b, Binding)]


def test_every_binding_has_id_description_and_palette_entry() -> None:
    palette_actions = {action for _, _, action in COMMANDS}
    for binding in all_bindings():
        assert binding.id and binding.description, binding
        action = binding.action.removeprefix("app.")
        assert action in palette_actions or action in {"quit", "train"}, action
    assert "start" in palette_actions and "stop" in palette_actions


def test_palette_train_command_starts_training(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=3))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot, engine=True)
            await press(pilot, "ctrl+p")
            await wait_for(pilot, lambda: app.screen.has_class("--textual-command-palette"))
            await wait_for(pilot, lambda: app.screen.focused is not None)
            await type_text(pilot, "train: start")
            await wait_for(pilot, lambda: "Train: start training" in palette_text(app))
            await press(pilot, "enter")
            await wait_for(pilot, lambda: app.state.status == "finished")
            assert len(app.records) == 3

    run(scenario())


def test_ansi_theme_renders(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=2), theme="ansi-dark")
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot, engine=True)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            await press(pilot, "v")
            viz = app.query_one("#viz")
            await wait_for(pilot, lambda: viz.has_class("-boundary"))
            assert app.theme == "ansi-dark"

    run(scenario())


def palette_text(app: TrainerApp) -> str:
    from textual.command import CommandList

    try:
        options = app.screen.query_one(CommandList)
    except Exception:
        return ""
    return " ".join(str(options.get_option_at_index(i).prompt) for i in range(options.option_count))
