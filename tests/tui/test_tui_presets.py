"""Presets: picker loads shipped and user presets, save writes TOML atomically, bad files."""

from __future__ import annotations

import pytest
from conftest import run, tiny_spec, wait_for

from miniframe.engine.spec import RunSpec, SpecError, load_preset
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


def test_picker_loads_a_shipped_preset(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(), load_engine_on_start=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("o")
            assert isinstance(app.screen, PresetPicker)
            names = [e.name for e in app.screen.entries]
            await pilot.press(*["down"] * names.index("deep"), "enter")
            deep = load_preset("deep")
            assert app.layers == deep.layers
            assert app.spec.epochs == deep.epochs and app.spec.solver == deep.solver
            assert app.query_one("#set-epochs").value == str(deep.epochs)

    run(scenario())


def test_save_as_preset_then_load_it_back(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(), load_engine_on_start=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("d")  # change something: delete the first layer...
            await pilot.press("a", "enter", "8", "enter")  # ...and add it back (Linear 8)
            app.query_one("#set-epochs").value = "7"
            await pilot.press("s")
            assert isinstance(app.screen, PromptDialog)
            await pilot.press("ctrl+a", "ctrl+k", *"bad name!", "enter")
            assert isinstance(app.screen, PromptDialog)  # refused, dialog stays
            await pilot.press("ctrl+a", "ctrl+k", *"my-net", "enter")
            path = config_dir / "presets" / "my-net.toml"
            await wait_for(pilot, path.exists)
            saved = RunSpec.load(path)
            assert saved.epochs == 7 and saved.name == "my-net"
            # load something else, then our preset again
            app.load_spec(load_preset("vanilla"))
            await pilot.pause()
            await pilot.press("o")
            names = [e.name for e in app.screen.entries]
            await pilot.press(*["down"] * names.index("my-net"), "enter")
            assert app.spec.epochs == 7 and app.layers == saved.layers

    run(scenario())


def test_malformed_preset_notifies_and_keeps_state(config_dir) -> None:
    folder = config_dir / "presets"
    folder.mkdir(parents=True)
    (folder / "oops.toml").write_text('name = "oops"\nepochs = "many"\nlayers = []\n')

    async def scenario() -> None:
        app = TrainerApp(tiny_spec(), load_engine_on_start=False)
        async with app.run_test(size=(80, 24)) as pilot:
            before = list(app.layers), app.spec
            await pilot.press("o")
            names = [e.name for e in app.screen.entries]
            await pilot.press(*["down"] * names.index("oops"), "enter")
            await pilot.pause()
            messages = [n.message for n in app._notifications]
            assert any("oops.toml" in m and "epochs" in m for m in messages), messages
            assert (list(app.layers), app.spec) == before
            await pilot.press("down")  # still responsive
            assert app.is_running

    run(scenario())
