"""Keyboard-first: every binding has an id and description, and a palette entry."""

from __future__ import annotations

from conftest import run, tiny_spec, wait_for
from textual.binding import Binding

from miniframe.tui.app import TrainerApp
from miniframe.tui.commands import COMMANDS
from miniframe.tui.widgets.layer_stack import LayerTable


def all_bindings() -> list[Binding]:
    return [b for b in [*TrainerApp.BINDINGS, *LayerTable.BINDINGS] if isinstance(b, Binding)]


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
            await wait_for(pilot, lambda: app.engine_ready)
            await pilot.press("ctrl+p", *"train")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.state.status == "finished")
            assert len(app.records) == 3

    run(scenario())


def test_ansi_theme_renders(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=2), theme="ansi-dark")
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.engine_ready)
            await pilot.press("t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            await pilot.press("v")
            await pilot.pause()
            assert app.theme == "ansi-dark"

    run(scenario())
