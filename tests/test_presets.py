"""Presets: the shipped ones (Table I exactly, and quick), and one store for built-in and user
presets shared by the CLI and the trainer: names listed once with their origin, shadowing and
overwriting only when asked, bad files refused with a message naming them."""

import itertools
import json
import os
import sys

import pytest

from miniframe.engine import (
    SGD,
    Adam,
    CrossEntropyLoss,
    LeakyReLU,
    Linear,
    MSELoss,
    Origin,
    PresetExistsError,
    ReLU,
    Run,
    RunSpec,
    SpecError,
    builtin_names,
    find_preset,
    list_presets,
    load_builtin,
    load_preset,
    preset_names,
    save_user_preset,
    train_spec,
    user_preset_dir,
)


def linear_shapes(model):
    return [(m.in_features, m.out_features) for m in model if isinstance(m, Linear)]


@pytest.fixture
def config(tmp_path, monkeypatch):
    """An empty user config folder (MINIFRAME_CONFIG_DIR)."""
    monkeypatch.setenv("MINIFRAME_CONFIG_DIR", str(tmp_path))
    return tmp_path


# ---- the shipped presets ------------------------------------------------------------------------
def test_quick_preset_reaches_97_percent():
    """The full quick preset (200 epochs) classifies the disk at ≥ 97 % test accuracy."""
    summaries = list(train_spec(load_preset("quick")))
    assert len(summaries) == 200
    last = summaries[-1]
    assert last.status == "finished" and last.epoch == 200
    assert last.test_acc >= 97.0, last
    assert last.train_loss < summaries[0].train_loss


def test_preset_names():
    assert {"vanilla", "deep", "quick"} <= set(preset_names())
    with pytest.raises(SpecError, match="unknown preset"):
        load_preset("nope")


def test_vanilla_preset_is_table_one():
    spec = load_preset("vanilla")
    run = Run(spec)
    kinds = [type(m) for m in run.model]
    assert kinds == [Linear, ReLU, Linear, ReLU, Linear, ReLU, Linear]
    assert linear_shapes(run.model) == [(2, 25), (25, 25), (25, 25), (25, 2)]
    assert isinstance(run.loss, MSELoss)
    assert type(run.optimizer) is SGD
    assert run.optimizer.lr == 1e-4
    assert run.optimizer.momentum == 0 and run.optimizer.weight_decay == 0
    assert spec.batch_size == 5 and run.trainer.batch_size == 5
    assert spec.epochs == 200
    assert spec.init == "normal" and all(
        m.init == "normal" for m in run.model if hasattr(m, "init")
    )
    assert spec.data.name == "disk" and spec.data.n_train == 1000 and spec.data.n_test == 1000
    assert len(run.train_data) == 1000 and len(run.test_data) == 1000


def test_deep_preset_is_table_one():
    spec = load_preset("deep")
    run = Run(spec)
    widths = [2, 10, 50, 100, 100, 50, 10, 2]
    assert linear_shapes(run.model) == list(itertools.pairwise(widths))
    mods = list(run.model)
    assert all(isinstance(m, Linear) for m in mods[::2])
    assert all(isinstance(m, LeakyReLU) for m in mods[1::2])
    assert len(mods) == 13
    assert isinstance(run.loss, CrossEntropyLoss)
    assert type(run.optimizer) is SGD and run.optimizer.lr == 1e-4
    assert spec.batch_size == 5 and spec.epochs == 200 and spec.init == "normal"


def test_quick_preset_shape():
    run = Run(load_preset("quick"))
    assert linear_shapes(run.model) == [(2, 25), (25, 25), (25, 25), (25, 2)]
    assert isinstance(run.optimizer, Adam)


@pytest.mark.parametrize("name", ["vanilla", "deep", "quick"])
def test_preset_round_trips(name):
    spec = load_preset(name)
    assert RunSpec.from_toml(spec.to_toml()) == spec
    assert RunSpec.from_dict(spec.to_dict()) == spec
    assert RunSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


# ---- one store: built-in and yours -----------------------------------------------------------
def mine(name="mine", epochs=7):
    return load_preset("quick").replace(name=name, epochs=epochs)


def test_user_presets_live_in_the_config_folder(config):
    assert user_preset_dir() == config / "presets"
    path = save_user_preset("mine", mine())
    assert path == config / "presets" / "mine.toml"
    assert not list(path.parent.glob(".*.tmp"))  # written atomically, nothing left behind


def test_a_saved_preset_is_usable_by_name(config):
    save_user_preset("mymoons", mine("ignored", epochs=9))
    spec = load_preset("mymoons")
    assert spec.epochs == 9 and spec.name == "mymoons"
    assert "mymoons" in preset_names()


def test_names_are_listed_once_with_their_origin(config):
    save_user_preset("deep", mine(), shadow=True)
    save_user_preset("zeta", mine())
    entries = list_presets()
    names = [e.name for e in entries]
    assert len(names) == len(set(names))
    assert names == [*builtin_names(), "zeta"]
    by_name = {e.name: e for e in entries}
    assert by_name["deep"].origin is Origin.USER and by_name["deep"].shadows
    assert by_name["deep"].title == "deep  (yours, shadows built-in)"
    assert by_name["quick"].title == "quick  (built-in)"
    assert by_name["zeta"].title == "zeta  (yours)"
    assert find_preset("deep").path == config / "presets" / "deep.toml"
    assert load_preset("deep").epochs == 7  # yours wins...
    assert load_builtin("deep").epochs == 200  # ...unless the built-in is asked for


def test_unknown_preset_lists_each_name_once_with_its_origin(config):
    save_user_preset("deep", mine(), shadow=True)
    save_user_preset("mymoons", mine())
    with pytest.raises(SpecError) as info:
        load_preset("nope")
    msg = str(info.value)
    assert msg.startswith("unknown preset 'nope'; choose one of ")
    assert msg.count("deep") == 1 and "deep (yours, shadows built-in)" in msg
    assert "mymoons (yours)" in msg and "vanilla" in msg and "vanilla (" not in msg


def test_empty_preset_name_is_refused(config):
    with pytest.raises(SpecError, match="empty preset name"):
        load_preset("")


def test_saving_over_a_file_or_a_built_in_asks_first(config):
    save_user_preset("mine", mine(epochs=3))
    with pytest.raises(PresetExistsError) as info:
        save_user_preset("mine", mine(epochs=4))
    assert info.value.reason == "file" and "overwrite" in str(info.value)
    assert load_preset("mine").epochs == 3  # untouched
    save_user_preset("mine", mine(epochs=4), overwrite=True)
    assert load_preset("mine").epochs == 4
    with pytest.raises(PresetExistsError) as info:
        save_user_preset("vanilla", mine())
    assert info.value.reason == "builtin" and "built-in" in str(info.value)
    assert not (config / "presets" / "vanilla.toml").exists()
    save_user_preset("vanilla", mine(), shadow=True)
    assert find_preset("vanilla").shadows


def test_bad_names_are_refused(config):
    for bad in ("../evil", "", "a b", "-x", "x" * 65):
        with pytest.raises(ValueError, match="letters"):
            save_user_preset(bad, mine())


def test_a_malformed_user_preset_names_its_file(config):
    folder = config / "presets"
    folder.mkdir()
    (folder / "broken.toml").write_text("layers = [\n")
    with pytest.raises(SpecError, match=r"broken\.toml.*not valid TOML"):
        load_preset("broken")
    (folder / "deep.toml").write_text("[" * 100_000)
    with pytest.raises(SpecError, match=r"deep\.toml"):
        load_preset("deep")


@pytest.mark.skipif(sys.platform == "win32", reason="no FIFOs")
def test_a_fifo_in_the_presets_folder_is_refused_without_blocking(config):
    folder = config / "presets"
    folder.mkdir()
    os.mkfifo(folder / "pipe.toml")
    assert "pipe" in preset_names()
    with pytest.raises(SpecError, match="FIFO"):
        load_preset("pipe")


def test_preset_files_honour_the_umask(config):
    old = os.umask(0o027)
    try:
        path = save_user_preset("mine", mine())
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o640


def test_saved_preset_round_trips_as_json_too(config):
    path = save_user_preset("mine", mine())
    spec = RunSpec.load(path)
    assert RunSpec.from_json(json.dumps(spec.to_dict())) == spec
