"""Checkpoints: bit-exact round trip, clear errors for bad files, atomic writes, no pickle."""

import dataclasses
import json
import os
import pickle
import struct
import subprocess
import sys

import pytest
import torch
from safetensors.torch import save as st_save
from safetensors.torch import save_file

import miniframe.engine.checkpoint as ckpt
import miniframe.engine.files as files_mod
from miniframe.engine import (
    LIMITS,
    CheckpointError,
    FileError,
    Run,
    UnverifiedCheckpointWarning,
    inspect_checkpoint,
    load_checkpoint,
    load_preset,
    read_checkpoint,
    save_checkpoint,
)


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
    with pytest.raises(
        CheckpointError, match=r"not a safetensors|not a checkpoint|truncated|corrupt"
    ):
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


def forge(tmp_path, tensors, spec, name="forged.safetensors", **meta):
    """A checkpoint written by hand: ``spec`` (a dict, or any JSON value) as its spec, ``meta``
    over the defaults; a correct checksum unless ``meta`` gives one (or the version is 1)."""
    spec_json = json.dumps(spec)
    metadata = {
        "format": ckpt.FORMAT, "version": ckpt.VERSION, "spec": spec_json, "epoch": "0",
    } | meta  # fmt: skip
    if "sha256" not in meta and metadata["version"] == ckpt.VERSION:
        draft = st_save(tensors, metadata=metadata)
        header, offset = ckpt._header(tmp_path, draft)
        metadata["sha256"] = ckpt._checksum(
            spec_json, int(metadata["epoch"]), ckpt._tensor_bytes(draft, header, offset)
        )
    path = tmp_path / name
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
    [(os, "replace"), (os, "fsync"), ("safetensors.torch.save", None)],
    ids=["os.replace", "os.fsync", "safetensors-save"],
)
def test_failed_write_keeps_the_old_checkpoint(tmp_path, monkeypatch, target):
    """A failure mid-write leaves the previous checkpoint intact and no temporary files."""
    old_run, path = good_checkpoint(tmp_path)
    before = path.read_bytes()
    new_run = trained_run(seed=9)
    if target[1] is None:
        monkeypatch.setattr(target[0], raise_boom)
    else:
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

    monkeypatch.setattr(files_mod.os, "fdopen", lambda *a, **k: HalfFile(real_fdopen(*a, **k)))
    new_run = trained_run(seed=9)
    with pytest.raises(FileError, match=r"good\.safetensors: cannot write \(No space") as e:
        save_checkpoint(path, new_run.model, new_run.spec)
    assert ".tmp" not in str(e.value)  # the file asked for, not the temporary one
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


# ---- the epoch, the checksum, old files ---------------------------------------------------------
def test_epoch_is_stored_and_restored(tmp_path):
    spec = load_preset("quick").replace(epochs=5)
    run = Run(spec.replace(data=dataclasses.replace(spec.data, n_train=100, n_test=50)))
    list(run.fit(3))
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, run.model, run.spec, epoch=run.epoch)
    info = inspect_checkpoint(path)
    assert (info.epoch, info.version, info.verified) == (3, ckpt.VERSION, True)
    assert info.spec == run.spec and info.n_params == sum(p.numel() for p, _ in run.model.param())
    again = Run.from_checkpoint(path)
    assert again.epoch == 3
    (next_epoch,) = again.fit(1)
    assert next_epoch.epoch == 4


@pytest.mark.parametrize("where", ["tensor data", "spec", "epoch"])
def test_a_flipped_byte_is_rejected(tmp_path, where):
    """The checksum covers every tensor byte, the spec and the epoch."""
    _, path = good_checkpoint(tmp_path)
    data = bytearray(path.read_bytes())
    (n,) = struct.unpack("<Q", data[:8])
    if where == "tensor data":
        i = 8 + n + (len(data) - 8 - n) // 2
        data[i] ^= 0x01
    else:
        needle = b'\\"seed\\": 0' if where == "spec" else b'"epoch":"0'
        i = bytes(data).index(needle) + len(needle) - 1
        data[i] = ord("1")
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum does not match"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="checksum does not match"):
        inspect_checkpoint(path)


def test_version_1_files_load_with_a_warning(tmp_path):
    """miniframe 0.1's checkpoints (no epoch, no checksum) still load, flagged unverified."""
    run = trained_run()
    path = forge(tmp_path, tensors_of(run.model), run.spec.to_dict(), version="1")
    info = inspect_checkpoint(path)
    assert (info.verified, info.epoch, info.version) == (False, 0, "1")
    with pytest.warns(UnverifiedCheckpointWarning, match="save it again"):
        model, spec = load_checkpoint(path)
    assert spec == run.spec
    assert_same_model(model, run.model)


# ---- nothing is allocated for an untrusted file ------------------------------------------------
def test_a_tiny_file_asking_for_a_huge_model_fails_before_allocating(tmp_path, monkeypatch):
    """A 1.4 KB file whose spec says units = 10**9 would ask for 8 GB: refused from the spec."""
    import miniframe.engine.build as build

    monkeypatch.setattr(build, "build_model", raise_boom)  # never reached
    spec = load_preset("quick").to_dict()
    spec["layers"][0]["units"] = 10**9
    path = forge(tmp_path, {"x": torch.zeros(2)}, spec)
    assert path.stat().st_size < 2000
    for read in (load_checkpoint, inspect_checkpoint):
        with pytest.raises(CheckpointError, match=r"units must be ≤ 4096") as info:
            read(path)
        assert "\n" not in str(info.value)


def test_shapes_are_checked_from_the_header(tmp_path, monkeypatch):
    import miniframe.engine.build as build

    monkeypatch.setattr(build, "build_model", raise_boom)  # the header alone tells
    run = trained_run()
    tensors = tensors_of(run.model)
    tensors["layers.0.weight"] = torch.zeros(25, 3)
    with pytest.raises(CheckpointError, match=r"layers\.0\.weight has shape \(25, 3\)"):
        load_checkpoint(forge(tmp_path, tensors, run.spec.to_dict()))


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (5, "table of settings, got 5"),
        ([1], "table of settings"),
        ("text", "table of settings"),
    ],
)
def test_a_spec_that_is_not_a_table(tmp_path, spec, match):
    run = trained_run()
    path = forge(tmp_path, tensors_of(run.model), spec)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(path)


def test_spec_metadata_that_is_a_json_number(tmp_path):
    """The header's metadata holds a number where the spec's text belongs (a forged file)."""
    run = trained_run()
    header = {"__metadata__": {"format": ckpt.FORMAT, "version": ckpt.VERSION, "spec": 5}}
    raw = json.dumps(header).encode()
    path = tmp_path / "n.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    with pytest.raises(CheckpointError, match="not JSON text"):
        load_checkpoint(path)
    del run


@pytest.mark.parametrize("where", ["header", "spec"])
def test_deeply_nested_json_is_a_checkpoint_error(tmp_path, where):
    depth = 100_000
    if where == "header":
        raw = ("[" * depth + "]" * depth).encode()
        path = tmp_path / "deep.safetensors"
        path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    else:
        path = tmp_path / "deep.safetensors"
        meta = {"format": ckpt.FORMAT, "version": ckpt.VERSION, "epoch": "0",
                "spec": "[" * depth + "]" * depth}  # fmt: skip
        path.write_bytes(st_save({"x": torch.zeros(1)}, metadata=meta))
    with pytest.raises(CheckpointError, match="nested too deeply") as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)


def test_header_length_beyond_the_limit(tmp_path):
    path = tmp_path / "h.safetensors"
    path.write_bytes(struct.pack("<Q", LIMITS.max_header_bytes + 1) + b"{}")
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        load_checkpoint(path)


def test_oversized_and_special_files(tmp_path):
    big = tmp_path / "big.safetensors"
    with open(big, "wb") as f:
        f.truncate(LIMITS.max_checkpoint_bytes + 1)  # sparse: no disk used
    with pytest.raises(CheckpointError, match="too large for a checkpoint"):
        load_checkpoint(big)
    if os.path.exists("/dev/zero"):
        with pytest.raises(CheckpointError, match="character device"):
            load_checkpoint("/dev/zero")
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    with pytest.raises(CheckpointError, match="FIFO"):
        inspect_checkpoint(fifo)


def test_checkpoint_files_honour_the_umask(tmp_path):
    run = trained_run()
    old = os.umask(0o077)
    try:
        save_checkpoint(tmp_path / "private.safetensors", run.model, run.spec)
    finally:
        os.umask(old)
    old = os.umask(0o022)
    try:
        save_checkpoint(tmp_path / "shared.safetensors", run.model, run.spec)
    finally:
        os.umask(old)
    assert (tmp_path / "private.safetensors").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "shared.safetensors").stat().st_mode & 0o777 == 0o644


def test_read_checkpoint_gives_model_and_info(tmp_path):
    run, path = good_checkpoint(tmp_path)
    model, info = read_checkpoint(path)
    assert info.spec == run.spec and info.path == path
    assert_same_model(model, run.model)


def test_inspect_checkpoint_imports_no_torch(tmp_path):
    """The trainer refuses a bad --checkpoint before its screen opens, before torch loads."""
    _, path = good_checkpoint(tmp_path)
    code = (
        "import sys\n"
        "from miniframe.engine import inspect_checkpoint, CheckpointError\n"
        f"info = inspect_checkpoint({str(path)!r})\n"
        "assert info.verified and info.epoch == 0\n"
        "try:\n"
        "    inspect_checkpoint('/dev/null')\n"
        "except CheckpointError as e:\n"
        "    print('refused', e)\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("False") and "refused" in out.stdout
