"""Checkpoints: bit-exact round trip, clear errors for bad files, atomic writes, no pickle."""

import dataclasses
import json
import os
import pickle

import pytest
import torch
from safetensors.torch import save as st_save
from safetensors.torch import save_file

import miniframe.engine.checkpoint as ckpt
import miniframe.engine.spec as spec_mod
from miniframe.engine import CheckpointError, Run, load_checkpoint, load_preset, save_checkpoint


def trained_run(name="quick", epochs=2, **changes):
    spec = load_preset(name)
    spec = spec.replace(data=dataclasses.replace(spec.data, n_train=100, n_test=50), **changes)
    run = Run(spec)
    list(run.fit(epochs))
    return run


def state(model):
    return [p.clone() for p, _ in model.param()]


def assert_same_model(a, b):
    assert [type(m) for m in a] == [type(m) for m in b]
    pa, pb = a.param(), b.param()
    assert len(pa) == len(pb)
    for (x, _), (y, _) in zip(pa, pb, strict=True):
        assert x.dtype == y.dtype
        assert torch.equal(x, y)


@pytest.mark.parametrize("name", ["quick", "deep", "vanilla"])
def test_round_trip_is_bit_exact(tmp_path, name):
    run = trained_run(name, seed=5)
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, run.model, run.spec)
    model, spec = load_checkpoint(path)
    assert spec == run.spec
    assert_same_model(model, run.model)
    x = torch.rand(64, 2)
    run.model.eval()
    assert torch.equal(model.forward(x), run.model.forward(x))


def test_round_trip_with_dropout_and_str_path(tmp_path):
    from miniframe.engine import LayerSpec

    layers = [
        LayerSpec("linear", 8),
        LayerSpec("tanh"),
        LayerSpec("dropout", p=0.25),
        LayerSpec("leaky_relu", negative_slope=0.2),
        LayerSpec("linear", 2),
    ]
    run = trained_run(layers=layers)
    path = str(tmp_path / "d.safetensors")
    save_checkpoint(path, run.model, run.spec)
    model, spec = load_checkpoint(path)
    assert spec == run.spec and spec.layers[2].p == 0.25
    assert_same_model(model, run.model)
    assert model[3].negative_slope == 0.2


def test_save_overwrites_and_creates_folders(tmp_path):
    a, b = trained_run(seed=1), trained_run(seed=2)
    path = tmp_path / "deep" / "er" / "m.safetensors"
    save_checkpoint(path, a.model, a.spec)
    save_checkpoint(path, b.model, b.spec)
    model, spec = load_checkpoint(path)
    assert spec.seed == 2
    assert_same_model(model, b.model)
    assert sorted(p.name for p in path.parent.iterdir()) == ["m.safetensors"]


def good_checkpoint(tmp_path):
    run = trained_run()
    path = tmp_path / "good.safetensors"
    save_checkpoint(path, run.model, run.spec)
    return run, path


@pytest.mark.parametrize("keep", [0, 5, 8, 20, -1, -100])
def test_truncated_file(tmp_path, keep):
    _, path = good_checkpoint(tmp_path)
    data = path.read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(data[:keep])
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(cut)
    assert str(cut) in str(info.value)


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.safetensors"
    path.write_bytes(bytes(torch.randint(0, 256, (4096,), dtype=torch.uint8).tolist()))
    with pytest.raises(CheckpointError, match=r"not a safetensors|truncated|corrupt"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"hello",
        b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!",
        b"\x02\x00\x00\x00\x00\x00\x00\x00[]",
    ],
    ids=["empty", "short", "bad-json", "not-a-dict"],
)
def test_garbage_headers(tmp_path, content):
    path = tmp_path / "g.safetensors"
    path.write_bytes(content)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_pickle_file_is_rejected_without_unpickling(tmp_path):
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"layers.0.weight": [1, 2, 3]}))
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_foreign_safetensors_file(tmp_path):
    path = tmp_path / "foreign.safetensors"
    save_file({"weight": torch.zeros(2, 2)}, str(path))
    with pytest.raises(CheckpointError, match="not a miniframe checkpoint"):
        load_checkpoint(path)
    save_file({"weight": torch.zeros(2, 2)}, str(path), metadata={"format": "pt"})
    with pytest.raises(CheckpointError, match="not a miniframe checkpoint"):
        load_checkpoint(path)


def forge(tmp_path, tensors, spec, **meta):
    metadata = {"format": ckpt.FORMAT, "version": ckpt.VERSION, "spec": json.dumps(spec)} | meta
    path = tmp_path / "forged.safetensors"
    path.write_bytes(st_save(tensors, metadata=metadata))
    return path


def tensors_of(model):
    out = {}
    for i, m in enumerate(model):
        for name in ("weight", "bias"):
            t = getattr(m, name, None)
            if t is not None:
                out[f"layers.{i}.{name}"] = t.clone()
    return out


def test_wrong_tensor_shape(tmp_path):
    run = trained_run()
    tensors = tensors_of(run.model)
    tensors["layers.2.weight"] = torch.zeros(25, 24)
    path = forge(tmp_path, tensors, run.spec.to_dict())
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    msg = str(info.value)
    assert "layers.2.weight" in msg and "(25, 24)" in msg and "(25, 25)" in msg


def test_wrong_tensor_dtype(tmp_path):
    run = trained_run()
    tensors = tensors_of(run.model)
    tensors["layers.0.bias"] = tensors["layers.0.bias"].double()
    with pytest.raises(CheckpointError, match=r"layers\.0\.bias.*float64"):
        load_checkpoint(forge(tmp_path, tensors, run.spec.to_dict()))


def test_missing_and_extra_tensors(tmp_path):
    run = trained_run()
    tensors = tensors_of(run.model)
    del tensors["layers.6.bias"]
    tensors["layers.1.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(forge(tmp_path, tensors, run.spec.to_dict()))
    msg = str(info.value)
    assert "layers.6.bias" in msg and "layers.1.weight" in msg


def test_bad_stored_spec(tmp_path):
    run = trained_run()
    tensors = tensors_of(run.model)
    path = forge(tmp_path, tensors, run.spec.to_dict())
    path.write_bytes(
        st_save(tensors, metadata={"format": ckpt.FORMAT, "version": ckpt.VERSION, "spec": "{"})
    )
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(path)
    bad = run.spec.to_dict() | {"epochs": -3}
    with pytest.raises(CheckpointError, match="epochs"):
        load_checkpoint(forge(tmp_path, tensors, bad))


def test_unsupported_version(tmp_path):
    run = trained_run()
    path = forge(tmp_path, tensors_of(run.model), run.spec.to_dict(), version="99")
    with pytest.raises(CheckpointError, match="version"):
        load_checkpoint(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "absent.safetensors")
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path)


# ---- atomic writes --------------------------------------------------------------------------
class Boom(Exception):
    pass


def raise_boom(*args, **kwargs):
    raise Boom("simulated failure")


@pytest.mark.parametrize(
    "target",
    [(os, "replace"), (os, "fsync"), (ckpt, "st_save")],
    ids=["os.replace", "os.fsync", "safetensors-save"],
)
def test_failed_write_keeps_the_old_checkpoint(tmp_path, monkeypatch, target):
    """A failure mid-write leaves the previous checkpoint intact and no temporary files."""
    old_run, path = good_checkpoint(tmp_path)
    before = path.read_bytes()
    new_run = trained_run(seed=9)
    monkeypatch.setattr(*target, raise_boom)
    with pytest.raises(Boom):
        save_checkpoint(path, new_run.model, new_run.spec)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.safetensors"]
    assert path.read_bytes() == before
    model, spec = load_checkpoint(path)
    assert spec == old_run.spec
    assert_same_model(model, old_run.model)


def test_failed_write_mid_file(tmp_path, monkeypatch):
    """The write itself dies half-way (a full disk): the target is untouched."""
    _, path = good_checkpoint(tmp_path)
    before = path.read_bytes()
    real_fdopen = os.fdopen

    class HalfFile:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[: len(data) // 2])
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(spec_mod.os, "fdopen", lambda *a, **k: HalfFile(real_fdopen(*a, **k)))
    new_run = trained_run(seed=9)
    with pytest.raises(OSError, match="No space"):
        save_checkpoint(path, new_run.model, new_run.spec)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.safetensors"]


# ---- no pickle ------------------------------------------------------------------------------
def test_load_never_unpickles(tmp_path, monkeypatch):
    run, path = good_checkpoint(tmp_path)
    monkeypatch.setattr(pickle, "loads", raise_boom)
    monkeypatch.setattr(pickle, "load", raise_boom)
    monkeypatch.setattr(pickle, "Unpickler", raise_boom)
    monkeypatch.setattr(torch, "load", raise_boom)
    model, spec = load_checkpoint(path)
    assert spec == run.spec
    assert_same_model(model, run.model)


def test_checkpoint_module_does_not_import_pickle():
    assert not hasattr(ckpt, "pickle")
    with open(ckpt.__file__, encoding="utf-8") as f:
        assert "torch.load" not in f.read()


def test_run_from_checkpoint_holds_the_saved_weights(tmp_path):
    """Run.from_checkpoint rebuilds the run and puts the saved weights in its model."""
    spec = load_preset("quick").replace(epochs=2)
    run = Run(spec)
    *_, last = run.fit()
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, run.model, spec)
    again = Run.from_checkpoint(path)
    assert again.spec == spec
    for (a, _), (b, _) in zip(run.model.param(), again.model.param(), strict=True):
        assert torch.equal(a, b)
    assert again.trainer.evaluate(again.test_data)[1] == last.test_acc
