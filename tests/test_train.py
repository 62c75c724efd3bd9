"""The training loop and Run (the run spec and presets have their own test files)."""

import dataclasses
import math

import pytest
import torch

from miniframe.engine import (
    Adam,
    CrossEntropyLoss,
    EpochSummary,
    LayerSpec,
    Linear,
    ReLU,
    Run,
    Trainer,
    build_model,
    load_preset,
    make_dataset,
    train_spec,
)

TIMING = ("seconds", "samples_per_s")


def small_spec(**changes):
    """The quick preset, shrunk to run in well under a second."""
    spec = load_preset("quick")
    spec = spec.replace(data=dataclasses.replace(spec.data, n_train=200, n_test=100), epochs=4)
    return spec.replace(**changes)


def numbers(summaries):
    return [{k: v for k, v in s.to_dict().items() if k not in TIMING} for s in summaries]


def linear_shapes(model):
    return [(m.in_features, m.out_features) for m in model if isinstance(m, Linear)]


# ---- the loop -------------------------------------------------------------------------------
def test_one_summary_per_epoch_with_right_fields():
    run = Run(small_spec(epochs=5))
    summaries = list(run.fit())
    assert [s.epoch for s in summaries] == [1, 2, 3, 4, 5]
    assert all(s.epochs == 5 for s in summaries)
    assert [s.status for s in summaries] == ["running"] * 4 + ["finished"]
    assert all(s.message == "" for s in summaries)
    for s in summaries:
        assert isinstance(s, EpochSummary)
        assert 0 <= s.train_acc <= 100 and 0 <= s.test_acc <= 100
        assert math.isfinite(s.train_loss) and math.isfinite(s.test_loss)
        assert s.seconds > 0 and s.samples_per_s > 0
    assert set(summaries[0].to_dict()) == {f.name for f in dataclasses.fields(EpochSummary)}
    # the spec's epochs are done; more epochs continue the count
    assert list(run.fit()) == []
    more = list(run.fit(3))
    assert [s.epoch for s in more] == [6, 7, 8]
    assert all(s.epochs == 8 for s in more) and more[-1].status == "finished"
    assert run.epoch == 8


def test_step_epoch():
    run = Run(small_spec())
    s = run.step_epoch()
    assert s.epoch == 1 and run.epoch == 1
    assert run.step_epoch().epoch == 2


def test_same_seed_same_summaries():
    a = numbers(train_spec(small_spec(seed=3)))
    b = numbers(train_spec(small_spec(seed=3)))
    assert a == b
    assert len(a) == 4


def test_different_seeds_differ():
    a = numbers(train_spec(small_spec(seed=3)))
    b = numbers(train_spec(small_spec(seed=4)))
    assert [s["train_loss"] for s in a] != [s["train_loss"] for s in b]


def test_same_seed_same_weights():
    r1, r2, r3 = Run(small_spec(seed=1)), Run(small_spec(seed=1)), Run(small_spec(seed=2))
    for run in (r1, r2, r3):
        list(run.fit(2))
    p1, p2, p3 = (run.model.param() for run in (r1, r2, r3))
    assert all(torch.equal(a, b) for (a, _), (b, _) in zip(p1, p2, strict=True))
    assert not all(torch.equal(a, b) for (a, _), (b, _) in zip(p1, p3, strict=True))


def test_huge_learning_rate_diverges_cleanly():
    """SGD with lr 1e6 blows up: the run ends with status 'diverged' and a message."""
    spec = load_preset("vanilla")
    spec = spec.replace(
        solver=dataclasses.replace(spec.solver, lr=1e6),
        data=dataclasses.replace(spec.data, n_train=100, n_test=50),
        epochs=20,
    )
    summaries = list(train_spec(spec))
    last = summaries[-1]
    assert last.status == "diverged"
    assert "learning rate" in last.message and f"epoch {last.epoch}" in last.message
    assert len(summaries) < 20
    assert all(s.status == "running" for s in summaries[:-1])


def test_huge_weights_diverge_cleanly():
    run = Run(small_spec(loss="mse", epochs=3))
    for p, _ in run.model.param():
        p.mul_(1e30)
    summaries = list(run.fit())
    assert summaries[-1].status == "diverged"
    assert summaries[-1].message


def test_should_stop_ends_the_loop():
    """should_stop is polled before every batch; the partial epoch is reported as stopped."""
    run = Run(small_spec(epochs=10))  # 200 samples, batch 32: 7 batches an epoch
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 10  # stop in the 2nd epoch

    summaries = list(run.fit(should_stop=stop))
    assert len(summaries) == 2
    assert summaries[0].status == "running"
    assert summaries[-1].status == "stopped"
    assert summaries[-1].epoch == 1 and run.epoch == 1
    assert "epoch 2" in summaries[-1].message
    assert len(calls) == 11  # nothing polled after the stop
    # the run can carry on afterwards
    rest = list(run.fit(2))
    assert [s.epoch for s in rest] == [2, 3] and rest[-1].status == "finished"


def test_should_stop_immediately():
    run = Run(small_spec())
    before = [p.clone() for p, _ in run.model.param()]
    summaries = list(run.fit(should_stop=lambda: True))
    assert len(summaries) == 1
    assert summaries[0].status == "stopped" and summaries[0].epoch == 0
    assert all(torch.equal(a, p) for a, (p, _) in zip(before, run.model.param(), strict=True))


def test_set_lr():
    run = Run(small_spec())
    run.set_lr(0.05)
    assert run.optimizer.lr == 0.05
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            run.set_lr(bad)
    assert run.optimizer.lr == 0.05


def test_set_lr_takes_effect():
    """A run whose lr is changed before training trains as if the spec had that lr."""
    spec = small_spec(epochs=2)
    changed = Run(spec)
    changed.set_lr(0.01)
    a = numbers(changed.fit())
    b = numbers(Run(spec.replace(solver=dataclasses.replace(spec.solver, lr=0.01))).fit())
    assert a == b


def test_reset_restores_initial_weights_and_epoch():
    run = Run(small_spec())
    initial = [p.clone() for p, _ in run.model.param()]
    tensors = [p for p, _ in run.model.param()]
    list(run.fit(2))
    assert run.epoch == 2
    run.reset()
    assert run.epoch == 0
    for a, (p, g), t in zip(initial, run.model.param(), tensors, strict=True):
        assert p is t  # reset draws in place: the solver still holds the model's tensors
        assert torch.equal(a, p)
        assert torch.count_nonzero(g) == 0


@pytest.mark.parametrize("dropout", [False, True], ids=["plain", "with-dropout"])
def test_reset_reproduces_a_fresh_run(dropout):
    """After reset, training repeats a fresh run's numbers exactly."""
    layers = [LayerSpec("linear", 16), LayerSpec("relu")]
    if dropout:
        layers.append(LayerSpec("dropout", p=0.3))
    layers.append(LayerSpec("linear", 2))
    spec = small_spec(layers=layers, epochs=3)
    fresh = numbers(Run(spec).fit())
    run = Run(spec)
    list(run.fit())
    run.reset()
    assert numbers(run.fit()) == fresh


def test_dropout_layers_draw_independent_masks():
    """Two Dropout layers of one built model must not share a random stream (same masks)."""
    layers = [
        LayerSpec("linear", 8),
        LayerSpec("dropout", p=0.5),
        LayerSpec("linear", 8),
        LayerSpec("dropout", p=0.5),
        LayerSpec("linear", 2),
    ]
    model = build_model(small_spec(layers=layers))
    x = torch.ones(16, 8)
    first, second = model[1].forward(x), model[3].forward(x)
    assert not torch.equal(first, second)


def test_dropout_off_when_evaluating():
    """evaluate and predict_proba run in eval mode: repeated calls agree."""
    layers = [LayerSpec("linear", 16), LayerSpec("dropout", p=0.5), LayerSpec("linear", 2)]
    run = Run(small_spec(layers=layers))
    grid = torch.rand(50, 2)
    assert torch.equal(run.predict_proba(grid), run.predict_proba(grid))
    assert run.trainer.evaluate(run.test_data) == run.trainer.evaluate(run.test_data)
    assert run.model.training  # back in training mode afterwards


def test_predict_proba():
    run = Run(small_spec(epochs=30))
    list(run.fit())
    grid = torch.tensor([[0.5, 0.5], [0.02, 0.02], [0.98, 0.02], [0.5, 0.55]])
    p = run.predict_proba(grid)
    assert p.shape == (4,) and p.dtype == torch.float32
    assert ((p >= 0) & (p <= 1)).all()
    assert p[0] > 0.5 and p[1] < 0.5 and p[2] < 0.5  # centre inside, corners outside


def test_trainer_directly():
    """Trainer on hand-built parts: loss falls over a few epochs."""
    g = torch.Generator().manual_seed(0)
    model = __import__("miniframe.engine", fromlist=["Sequential"]).Sequential(
        Linear(2, 16, init="he", generator=g), ReLU(), Linear(16, 2, init="he", generator=g)
    )
    train, test = make_dataset("xor", 256, seed=0), make_dataset("xor", 128, seed=1)
    trainer = Trainer(model, CrossEntropyLoss(), Adam(model.param(), lr=0.02), train, test, 16)
    summaries = list(trainer.fit(15))
    assert summaries[-1].train_loss < summaries[0].train_loss
    with pytest.raises(ValueError):
        Trainer(model, CrossEntropyLoss(), Adam(model.param()), train, test, 0)


def test_step_epoch_counts_against_the_spec_epochs():
    """Stepping reports "running" k/N until the spec's last epoch, then "finished"."""
    spec = load_preset("quick").replace(epochs=3)
    run = Run(spec)
    first, second = run.step_epoch(), run.step_epoch()
    assert (first.epoch, first.epochs, first.status) == (1, 3, "running")
    assert (second.epoch, second.epochs, second.status) == (2, 3, "running")
    third = run.step_epoch()
    assert (third.epoch, third.epochs, third.status) == (3, 3, "finished")
    beyond = run.step_epoch()  # stepping past the plan extends it, one epoch at a time
    assert (beyond.epoch, beyond.epochs, beyond.status) == (4, 4, "finished")
