"""Looking inside a run (engine/analysis.py and the Run methods the trainer will use): class
probabilities, a layer's activations, the confusion matrix, the data preview, new data and the
input plane of two chosen features."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from miniframe.engine import (
    DataSpec,
    LayerSpec,
    Run,
    RunSpec,
    SolverSpec,
    load_preset,
    plane_inputs,
    preview_data,
)


def small(preset="quick", n=200, **data) -> RunSpec:
    spec = load_preset(preset)
    return spec.replace(data=dataclasses.replace(spec.data, n_train=n, n_test=n, **data))


def csv_run(tmp_path, standardize=True) -> Run:
    rows = "".join(f"{i % 7},{(i * 3) % 11 / 10},{100 + i},{'abc'[i % 3]}\n" for i in range(60))
    path = tmp_path / "d.csv"
    path.write_text("f1,f2,f3,label\n" + rows, encoding="utf-8")
    spec = RunSpec(
        layers=[LayerSpec("linear", 8), LayerSpec("relu"), LayerSpec("linear", "classes")],
        loss="cross-entropy",
        solver=SolverSpec("adam", lr=1e-2),
        data=DataSpec(name="csv", path=str(path), standardize=standardize),
        init="he",
        epochs=3,
        batch_size=8,
    )
    return Run(spec)


def test_class_probabilities_of_raw_inputs():
    run = Run(small(classes=3, name="blobs"))
    list(run.fit(2))
    x = torch.rand(50, 2)
    p = run.class_probabilities(x)
    assert p.shape == (50, 3) and torch.allclose(p.sum(dim=1), torch.ones(50))
    assert torch.equal(run.predict(x), p.argmax(dim=1))
    assert run.model.training  # left in the mode it was in
    # the run's transform is applied: the same as the model on centred inputs
    expected = torch.softmax(run.model.forward(x * 2.0 - 1.0), dim=1)
    assert torch.allclose(p, expected)


def test_predict_proba_is_the_two_class_shortcut():
    run = Run(small())
    x = torch.rand(20, 2)
    assert torch.equal(run.predict_proba(x), run.class_probabilities(x)[:, 1])


def test_activations_of_a_layer():
    run = Run(small())
    x = torch.rand(30, 2)
    hidden = run.activations(x, 1)  # the ReLU after the first Linear: its 25 neurons
    assert hidden.shape == (30, 25) and (hidden >= 0).all()
    first = run.model[0]
    expected = torch.relu((x * 2 - 1) @ first.weight.T + first.bias)
    assert torch.allclose(hidden, expected, atol=1e-6)
    assert torch.allclose(run.activations(x, len(run.model) - 1), run.model.forward(x * 2 - 1))
    with pytest.raises(ValueError, match="not in a stack of 7 layers"):
        run.activations(x, 7)


def test_confusion_matrix_counts_true_by_predicted(tmp_path):
    run = csv_run(tmp_path)
    list(run.fit())
    c = run.confusion_matrix()
    pred = run.predict(run.preview().test.x)
    assert c.shape == (3, 3) and int(c.sum()) == len(run.test_data)
    for t in range(3):
        for q in range(3):
            assert int(c[t, q]) == int(((run.test_data.y == t) & (pred == q)).sum())


def test_preview_before_any_model(tmp_path):
    spec = small("vanilla")
    preview = preview_data(spec)
    assert len(preview.train) == 200 and len(preview.test) == 200
    assert preview.shape.class_names == ("0", "1")
    assert preview.summary.low == (0.0, 0.0) and preview.summary.high == (1.0, 1.0)
    run = Run(spec)
    assert torch.equal(preview.train.x, run.train_data.x)  # vanilla: no transform
    list(run.fit(1))
    run.reset()
    assert torch.equal(run.preview().train.x, preview.train.x)  # a reset keeps the data


def test_preview_of_a_csv_file_is_raw(tmp_path):
    run = csv_run(tmp_path)
    preview = run.preview()
    assert preview.train.x.shape[1] == 3
    assert float(preview.train.x[:, 2].min()) >= 100  # raw values, not standardised
    s = preview.summary
    assert s.low[2] < 100 < s.high[2] and s.low[2] > 90  # the range, widened by 5 %


def test_new_data_redraws_the_data_alone():
    run = Run(small())
    list(run.fit(2))
    weights = [p.clone() for p, _ in run.model.param()]
    before = run.train_data.x.clone()
    seed = run.new_data()
    assert seed == 1 and run.spec.data.seed == 1
    assert not torch.equal(run.train_data.x, before)
    assert all(torch.equal(a, p) for a, (p, _) in zip(weights, run.model.param(), strict=True))
    assert run.epoch == 2
    list(run.fit(1))  # trains on the new data
    assert run.new_data(0) == 0
    assert torch.equal(run.train_data.x, before)  # data seed 0 = the run's seed 0


def test_new_data_of_a_csv_file_is_a_new_split(tmp_path):
    run = csv_run(tmp_path)
    before = run.test_data.x.clone()
    run.new_data()
    assert run.test_data.x.shape == before.shape and not torch.equal(run.test_data.x, before)


def test_plane_holds_other_features_at_their_training_mean(tmp_path):
    run = csv_run(tmp_path)
    plane = run.plane(features=(2, 0), grid=4)
    assert plane.inputs.shape == (16, 3)
    mean = run.summary.mean[1]
    assert torch.allclose(plane.inputs[:, 1], torch.full((16,), mean, dtype=torch.float64))
    xs, ys = plane.inputs[:, 2].view(4, 4), plane.inputs[:, 0].view(4, 4)
    assert (xs[:, 1:] > xs[:, :-1]).all()  # left to right
    assert (ys[1:] < ys[:-1]).all()  # top row first: the largest value of the second feature
    assert run.class_probabilities(plane.inputs).shape == (16, 3)
    with pytest.raises(ValueError, match="not one of the 3 inputs"):
        run.plane(features=(0, 3))


def test_plane_of_the_unit_square_is_the_trainers_lattice():
    plane = plane_inputs([0.5, 0.5], (0, 1), (0.0, 1.0), (0.0, 1.0), 2)
    assert plane.inputs.tolist() == [[0.25, 0.75], [0.75, 0.75], [0.25, 0.25], [0.75, 0.25]]
    with pytest.raises(ValueError, match="two different indices"):
        plane_inputs([0.5, 0.5], (1, 1), (0, 1), (0, 1), 2)
