"""Many classes everywhere: k-class toy data, units = "classes", MSE's k-way one-hot, accuracy
and replicas with k classes; the data's shape and the input transform."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from miniframe.engine import (
    N_CLASSES,
    DataSpec,
    InputTransform,
    LayerSpec,
    Run,
    RunSpec,
    SolverSpec,
    SpecError,
    build_data,
    build_model,
    centre_inputs,
    data_shape,
    load_preset,
    make_dataset,
)
from miniframe.engine.data import blob_centres
from miniframe.engine.replicas import ReplicaTrainer


def k_spec(name="spirals", k=3, loss="cross-entropy", **changes) -> RunSpec:
    spec = RunSpec(
        layers=[
            LayerSpec("linear", 32),
            LayerSpec("relu"),
            LayerSpec("linear", 32),
            LayerSpec("relu"),
            LayerSpec("linear", "classes"),
        ],
        loss=loss,
        solver=SolverSpec("adam", lr=1e-2),
        data=DataSpec(name=name, classes=k, n_train=300, n_test=300, center=True),
        init="he",
        epochs=60,
        batch_size=32,
    )
    return spec.replace(**changes)


@pytest.mark.parametrize("name", ["blobs", "spirals"])
@pytest.mark.parametrize("k", [2, 3, 5, 8])
def test_blobs_and_spirals_take_k_classes(name, k):
    data = make_dataset(name, 800, seed=1, classes=k)
    assert data.num_classes == k
    counts = torch.bincount(data.y, minlength=k)
    assert counts.min() == 800 // k  # point i is of class i mod k
    assert torch.isfinite(data.x).all()


def test_two_blobs_keep_their_centres():
    assert torch.equal(blob_centres(2), torch.tensor([[0.3, 0.3], [0.7, 0.7]]))
    c = blob_centres(4).double()
    assert torch.allclose((c - 0.5).norm(dim=1), torch.full((4,), 0.3, dtype=torch.float64))


def test_the_data_decide_the_shape():
    assert (data_shape(k_spec(k=5)).n_classes, data_shape(k_spec(k=5)).n_inputs) == (5, 2)
    assert data_shape(k_spec(name="disk", k=2)).class_names == ("0", "1")
    preset = load_preset("quick")
    assert preset.layers[-1].units == "classes" and preset.layer_widths()[-1] == (25, 2)
    assert preset.n_classes == N_CLASSES


def test_the_last_linear_must_output_one_value_per_class():
    spec = k_spec(k=4)
    spec.layers[-1] = LayerSpec("linear", 2)
    with pytest.raises(SpecError, match=r"outputs 2 values, but the data have 4 classes: it must "
                                        r"output one value per class"):  # fmt: skip
        spec.validate()


def test_classes_is_for_the_last_linear_only():
    spec = k_spec()
    spec.layers[0] = LayerSpec("linear", "classes")
    with pytest.raises(SpecError, match=r'layer 1 .*units = "classes" is for the last Linear'):
        spec.validate()
    with pytest.raises(SpecError, match="units must be a whole number"):
        RunSpec.from_dict({"layers": [{"type": "linear", "units": "many"}]})


@pytest.mark.parametrize("loss", ["cross-entropy", "mse"])
def test_three_spirals_train_with_either_loss(loss):
    """MSE compares against k-way one-hot rows; accuracy is the argmax over k outputs."""
    spec = k_spec(k=3, loss=loss, epochs=40)
    run = Run(spec)
    assert run.model.forward(run.train_data.x[:4]).shape == (4, 3)
    last = list(run.fit())[-1]
    assert last.status == "finished" and last.test_acc is not None
    assert last.test_acc > 60  # chance is 33 %
    confusion = run.confusion_matrix()
    assert confusion.shape == (3, 3) and int(confusion.sum()) == 300
    assert math.isclose(100 * int(confusion.diagonal().sum()) / 300, last.test_acc)


def test_replicas_train_k_classes_as_lone_runs_do():
    spec = k_spec(k=4, epochs=2)
    history = list(ReplicaTrainer(spec, [0, 1]).fit())  # one ReplicaEpoch per epoch
    for r, seed in enumerate([0, 1]):
        lone = list(Run(spec.replace(seed=seed)).fit())
        assert history[-1].test_acc[r] == pytest.approx(lone[-1].test_acc, abs=100 / 300 + 1e-9)
        assert history[-1].train_loss[r] == pytest.approx(lone[-1].train_loss, rel=1e-4)


# ---- the data seed ------------------------------------------------------------------------------
def test_the_data_seed_defaults_to_the_run_seed():
    spec = k_spec(seed=5)
    a = build_data(spec)
    b = build_data(spec.replace(data=dataclasses.replace(spec.data, seed=5)))
    assert all(torch.equal(x.x, y.x) for x, y in zip(a, b, strict=True))


def test_the_data_seed_leaves_the_initial_weights_alone():
    spec = k_spec(seed=5)
    other = spec.replace(data=dataclasses.replace(spec.data, seed=6))
    assert not torch.equal(build_data(spec)[0].x, build_data(other)[0].x)
    for (p, _), (q, _) in zip(build_model(spec).param(), build_model(other).param(), strict=True):
        assert torch.equal(p, q)


# ---- the input transform ------------------------------------------------------------------------
def test_centring_is_the_input_transform_it_was():
    x = torch.rand(100, 2) * 3 - 1
    assert torch.equal(InputTransform("center").apply(x), centre_inputs(x))
    assert torch.allclose(InputTransform("center").invert(centre_inputs(x)), x)


def test_standardizing_uses_the_training_set_statistics():
    spec = k_spec(name="blobs", k=3)
    spec = spec.replace(data=dataclasses.replace(spec.data, center=False, standardize=True))
    run = Run(spec)
    x = run.train_data.x.double()
    assert torch.allclose(x.mean(dim=0), torch.zeros(2, dtype=torch.float64), atol=1e-6)
    assert torch.allclose(x.std(dim=0, correction=0), torch.ones(2, dtype=torch.float64), atol=1e-5)
    assert run.transform.kind == "standardize" and len(run.transform.mean) == 2
    raw = run.preview().train.x
    # applied in float64, then cast to the model's float32 (see model_inputs)
    assert torch.equal(run.transform.apply(raw.double()).float(), run.train_data.x)
    assert torch.allclose(run.transform.invert(run.train_data.x), raw.double(), atol=1e-6)


def test_a_constant_feature_is_only_shifted():
    t = InputTransform.standardize_from(torch.tensor([[1.0, 5.0], [3.0, 5.0]]))
    assert t.std == (1.0, 1.0) and t.mean == (2.0, 5.0)
    assert torch.equal(t.apply(torch.tensor([[2.0, 6.0]])), torch.tensor([[0.0, 1.0]]))


@pytest.mark.parametrize(
    "raw",
    [None, {"kind": "rotate"}, {"kind": "standardize", "mean": [0.0], "std": [1.0, 1.0]},
     {"kind": "standardize", "mean": [0.0, 0.0], "std": [1.0, 0.0]},
     {"kind": "standardize", "mean": [0.0, float("nan")], "std": [1.0, 1.0]},
     {"kind": "center", "mean": [1.0], "std": []}],
)  # fmt: skip
def test_a_stored_transform_is_checked(raw):
    with pytest.raises(ValueError):
        InputTransform.from_dict(raw, 2)


def test_a_transform_round_trips():
    t = InputTransform("standardize", (0.1, -2.0), (3.0, 0.5))
    assert InputTransform.from_dict(t.to_dict(), 2) == t
