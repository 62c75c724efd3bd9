"""Checkpoints carry the data's shape and the input transform, under the checksum: a CSV model
is evaluated and used without its training file, and with its classes and statistics."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save as st_save

import miniframe.engine.checkpoint as ckpt
from miniframe.engine import (
    CheckpointError,
    DataSpec,
    LayerSpec,
    Run,
    RunSpec,
    SolverSpec,
    inspect_checkpoint,
    load_preset,
    read_checkpoint,
    read_for_model,
    save_checkpoint,
)

IRISH = "a,b,c,species\n" + "".join(
    f"{i % 5},{(i * 7) % 3}.5,{i / 10},{name}\n"
    for i, name in enumerate(["setosa", "versicolor", "virginica"] * 6)
)


def csv_run(tmp_path, standardize=True) -> Run:
    path = tmp_path / "train.csv"
    path.write_text(IRISH, encoding="utf-8")
    spec = RunSpec(
        layers=[LayerSpec("linear", 8), LayerSpec("relu"), LayerSpec("linear", "classes")],
        loss="cross-entropy",
        solver=SolverSpec("adam", lr=1e-2),
        data=DataSpec(name="csv", path=str(path), standardize=standardize),
        init="he",
        epochs=3,
        batch_size=4,
    )
    run = Run(spec)
    list(run.fit())
    return run


def test_a_csv_model_loads_without_its_training_file(tmp_path):
    run = csv_run(tmp_path)
    path = tmp_path / "m.safetensors"
    run.save(path)
    (tmp_path / "train.csv").unlink()
    info = inspect_checkpoint(path)
    assert info.version == "3" and info.verified and info.epoch == 3
    assert info.shape == run.shape
    assert info.shape.class_names == ("setosa", "versicolor", "virginica")
    assert info.transform == run.transform and info.transform.kind == "standardize"
    model, _ = read_checkpoint(path)
    x = torch.rand(10, 3) * 4
    from miniframe.engine import class_probabilities

    assert torch.equal(class_probabilities(model, info.transform, x), run.class_probabilities(x))


def test_the_checksum_covers_the_data_description(tmp_path):
    run = csv_run(tmp_path)
    path = tmp_path / "m.safetensors"
    run.save(path)
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    meta = header["__metadata__"]
    edited = json.loads(meta["data"])
    edited["transform"]["mean"][0] += 1.0  # a plausible edit: shift the first feature
    meta["data"] = json.dumps(edited)
    body = data[8 + n :]
    raw = json.dumps(header).encode()
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + body)
    with pytest.raises(CheckpointError, match="checksum does not match"):
        inspect_checkpoint(path)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ("{", "corrupt data description"),
        ('{"shape": 3}', "corrupt data description"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (json.dumps({"shape": {"n_inputs": 3}, "transform": {"kind": "none"}}),
         "corrupt data description"),
    ],
)  # fmt: skip
def test_a_corrupt_data_description(tmp_path, data, match):
    run = csv_run(tmp_path)
    spec_json = json.dumps(run.spec.to_dict())
    tensors = {k: t.clone() for k, t in ckpt.state_dict(run.model).items()}
    meta = {"format": ckpt.FORMAT, "version": ckpt.VERSION, "spec": spec_json, "epoch": "0",
            "data": data, "sha256": "0" * 64}  # fmt: skip
    path = tmp_path / "bad.safetensors"
    path.write_bytes(st_save(tensors, metadata=meta))
    with pytest.raises(CheckpointError, match=match):
        inspect_checkpoint(path)


def test_a_csv_spec_without_data_metadata_is_refused(tmp_path):
    run = csv_run(tmp_path)
    tensors = {k: t.clone() for k, t in ckpt.state_dict(run.model).items()}
    meta = {"format": ckpt.FORMAT, "version": "2", "spec": json.dumps(run.spec.to_dict()),
            "epoch": "0", "sha256": "0" * 64}  # fmt: skip
    path = tmp_path / "old.safetensors"
    path.write_bytes(st_save(tensors, metadata=meta))
    with pytest.raises(CheckpointError, match="CSV data without its data metadata"):
        inspect_checkpoint(path)


def test_a_generated_data_model_stores_its_centring(tmp_path):
    spec = load_preset("quick")
    path = tmp_path / "q.safetensors"
    run = Run(spec)
    save_checkpoint(path, run.model, spec)  # no shape or transform given: from the spec
    info = inspect_checkpoint(path)
    assert info.transform.kind == "center" and info.shape.n_classes == 2


def test_version_2_files_still_load(tmp_path):
    """Written as miniframe wrote them before the data metadata: checksum without it."""
    run = Run(load_preset("quick"))
    spec_json = json.dumps(run.spec.to_dict())
    tensors = {k: t.clone() for k, t in ckpt.state_dict(run.model).items()}
    meta = {"format": ckpt.FORMAT, "version": "2", "spec": spec_json, "epoch": "4"}
    draft = st_save(tensors, metadata=meta)
    header, offset = ckpt._header(tmp_path, draft)
    meta["sha256"] = ckpt._checksum(spec_json, 4, ckpt._tensor_bytes(draft, header, offset))
    path = tmp_path / "v2.safetensors"
    path.write_bytes(st_save(tensors, metadata=meta))
    info = inspect_checkpoint(path)
    assert info.verified and info.version == "2" and info.transform.kind == "center"


def test_new_inputs_are_read_with_the_models_columns(tmp_path):
    run = csv_run(tmp_path)
    shape = run.shape
    with_labels = tmp_path / "x.csv"
    with_labels.write_text("a,b,c,species\n1,2,3,virginica\n", encoding="utf-8")
    table = read_for_model(with_labels, shape, labels_required=True)
    assert table.y.tolist() == [2] and table.features.tolist() == [1.0, 2.0, 3.0]
    features_only = tmp_path / "f.csv"
    features_only.write_text("1;2;3\n4;5;6\n", encoding="utf-8")
    assert read_for_model(features_only, shape, labels_required=False).label_index is None
    moved = tmp_path / "m.csv"
    moved.write_text("species,a,b,c\nsetosa,1,2,3\n", encoding="utf-8")
    assert read_for_model(moved, shape, labels_required=True).label_index == 0  # by its name
    for text, required, match in [
        ("1,2,3\n", True, "the model's 3 features, but no column for the labels"),
        ("1,2\n", False, "2 columns, but the model was trained on 3 features"),
        ("a,c,b,species\n1,2,3,setosa\n", True, "feature 2 is 'c', but the model's feature 2"),
        ("a,b,c,species\n1,2,3,daisy\n", True, "label 'daisy' is not one of the model's"),
    ]:
        bad = tmp_path / "bad.csv"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match=match):
            read_for_model(bad, shape, labels_required=required)
