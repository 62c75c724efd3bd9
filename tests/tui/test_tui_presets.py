"""Presets: picker loads shipped and user presets, save writes TOML atomically, bad files."""

from __future__ import annotations

import pytest
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

from miniframe.engine import RunSpec, SpecError, load_preset
from miniframe.tui import presets
from miniframe.tui.app import TrainerApp
from miniframe.tui.widgets.preset_picker import PresetPicker
from miniframe.tui.widgets.prompt import PromptDialog


def test_store_lists_saves_and_loads(config_dir) -> None:
    names = [e.name for e in presets.list_presets()]
    assert {"quick", "vanilla", "deep"} <= set(names)
    path = presets.save_user_preset("mine", tiny_spec())
    assert path == config_dir / "presets" / "mine.toml"
    assert not list(path.parent.glob("*.tmp"))
    entry = presets.find_preset("mine")
    assert entry is not None and entry.origin == "user"
    assert presets.load_entry(entry).layers == tiny_spec().layers
    with pytest.raises(ValueError, match="letters"):
        presets.save_user_preset("../evil", tiny_spec())


def test_malformed_user_preset_names_the_file(config_dir) -> None:
    folder = config_dir / "presets"
    folder.mkdir(parents=True)
    (folder / "broken.toml").write_text("layers = [\n")
    entry = presets.find_preset("broken")
    with pytest.raises(SpecError, match=r"broken\.toml"):
        presets.load_entry(entry)


async def pick(pilot, name: str) -> None:
    """Open the preset picker with ``o`` and load ``name``."""
    await press(pilot, "o")
    picker = await wait_dialog(pilot, PresetPicker)
    names = [e.name for e in picker.entries]
    options = picker.query_one("#preset-list")
    await press(pilot, *["down"] * names.index(name))
    await wait_for(pilot, lambda: options.highlighted == names.index(name))
    await press(pilot, "enter")
    await wait_closed(pilot, PresetPicker)


def test_picker_loads_a_shipped_preset(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(), load_engine_on_start=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await pick(pilot, "deep")
            deep = load_preset("deep")
            await wait_for(pilot, lambda: app.layers == deep.layers)
            assert app.spec.epochs == deep.epochs and app.spec.solver == deep.solver
            assert app.query_one("#set-epochs").value == str(deep.epochs)

    run(scenario())


def test_save_as_preset_then_load_it_back(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(), load_engine_on_start=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            commit_setting(app, "epochs", "7")
            await wait_for(pilot, lambda: app.spec.epochs == 7)
            await press(pilot, "s")
            prompt = await wait_dialog(pilot, PromptDialog)
            field = prompt.query_one("#prompt-input")
            field.value = "bad name!"
            await press(pilot, "enter")
            error = prompt.query_one("#dialog-error")
            await wait_for(pilot, lambda: "letters" in str(error.render()))
            assert app.screen is prompt  # refused, the dialog stays
            field.value = ""
            await type_text(pilot, "my-net")
            await wait_for(pilot, lambda: field.value == "my-net")
            await press(pilot, "enter")
            path = config_dir / "presets" / "my-net.toml"
            await wait_for(pilot, path.exists)
            saved = RunSpec.load(path)
            assert saved.epochs == 7 and saved.name == "my-net"
            await wait_closed(pilot, PromptDialog)
            # load something else, then our preset again
            await pick(pilot, "vanilla")
            await wait_for(pilot, lambda: app.spec.epochs == load_preset("vanilla").epochs)
            await pick(pilot, "my-net")
            await wait_for(pilot, lambda: app.spec.epochs == 7 and app.layers == saved.layers)

    run(scenario())


def test_malformed_preset_notifies_and_keeps_state(config_dir) -> None:
    folder = config_dir / "presets"
    folder.mkdir(parents=True)
    (folder / "oops.toml").write_text('name = "oops"\nepochs = "many"\nlayers = []\n')

    async def scenario() -> None:
        app = TrainerApp(tiny_spec(), load_engine_on_start=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            before = list(app.layers), app.spec
            await pick(pilot, "oops")
            await wait_for(pilot, lambda: notified(app, "oops.toml"))
            messages = notes(app)
            assert any("oops.toml" in m and "epochs" in m for m in messages), messages
            assert (list(app.layers), app.spec) == before
            assert app.is_running

    run(scenario())


def test_saving_over_a_taken_name_asks_first(config_dir) -> None:
    """Your file of that name, or a built-in it would hide: a question; "No" keeps the file
    (and the built-in), "Yes" replaces it."""
    from miniframe.tui.widgets.confirm import ConfirmDialog

    async def save_as(pilot, name: str) -> None:
        await press(pilot, "s")
        prompt = await wait_dialog(pilot, PromptDialog)
        prompt.query_one("#prompt-input").value = name
        await press(pilot, "enter")

    async def scenario() -> None:
        app = TrainerApp(tiny_spec(), load_engine_on_start=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            await save_as(pilot, "mine")
            path = config_dir / "presets" / "mine.toml"
            await wait_for(pilot, path.exists)
            await wait_closed(pilot, PromptDialog)
            before = path.read_text()
            commit_setting(app, "epochs", "9")
            await wait_for(pilot, lambda: app.spec.epochs == 9)
            await save_as(pilot, "mine")
            question = await wait_dialog(pilot, ConfirmDialog)
            assert "already exists" in question.question
            await press(pilot, "n")
            await wait_closed(pilot, ConfirmDialog)
            assert path.read_text() == before  # "No" keeps your file
            await save_as(pilot, "mine")
            await wait_dialog(pilot, ConfirmDialog)
            await press(pilot, "y")
            await wait_for(pilot, lambda: RunSpec.load(path).epochs == 9)
            # a built-in name: asked too; yes writes yours, which then hides the built-in
            await save_as(pilot, "vanilla")
            question = await wait_dialog(pilot, ConfirmDialog)
            assert "built-in" in question.question
            await press(pilot, "y")
            await wait_for(pilot, (config_dir / "presets" / "vanilla.toml").exists)

    run(scenario())
