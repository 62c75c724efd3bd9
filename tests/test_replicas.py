"""Replica-batched training: each replica equals the lone run of its seed."""

from __future__ import annotations

import dataclasses
import statistics

import pytest
import torch

from miniframe.engine import LayerSpec, Run, RunSpec, SolverSpec, build_model, load_preset
from miniframe.engine.replicas import ReplicaLinear, ReplicaTrainer, replica_support


def small(spec: RunSpec, n: int = 200) -> RunSpec:
    return spec.replace(data=dataclasses.replace(spec.data, n_train=n, n_test=n))


def leaky_ce_spec() -> RunSpec:
    """A well-conditioned LeakyReLU / cross-entropy net, with momentum."""
    layers = [LayerSpec("linear", 16), LayerSpec("leaky_relu", negative_slope=0.1),
              LayerSpec("linear", 16), LayerSpec("leaky_relu"), LayerSpec("linear", 2)]  # fmt: skip
    return RunSpec(
        layers=layers,
        loss="cross-entropy",
        solver=SolverSpec("sgd", lr=0.05, momentum=0.9),
        init="he",
        batch_size=8,
        name="leaky-ce",
    )


SPECS = {
    "vanilla (ReLU/MSE)": lambda: small(load_preset("vanilla")),
    "LeakyReLU/CE, momentum": lambda: small(leaky_ce_spec()),
    "quick (ReLU/CE, Adam)": lambda: small(load_preset("quick")),
}


@pytest.mark.parametrize("exact", [False, True], ids=["throughput", "exact"])
@pytest.mark.parametrize("name", list(SPECS))
def test_replicas_equal_lone_runs(name, exact):
    """Each replica is its lone run: within float tolerance by default, and with exact=True
    the same accuracies and weights to float32 rounding over a few epochs."""
    spec = SPECS[name]()
    seeds = [0, 3, 7]
    epochs = 3
    rt = ReplicaTrainer(spec, seeds, exact=exact)
    history = rt.fit(epochs)
    assert len(history) == epochs
    acc_tol = 1e-9 if exact else 100 / 200 + 1e-9  # default: a point near the boundary may flip
    for r, seed in enumerate(seeds):
        run = Run(spec.replace(seed=seed))
        summaries = list(run.fit(epochs))
        for e, s in enumerate(summaries):
            h = history[e]
            assert h.train_acc[r] == pytest.approx(s.train_acc, abs=acc_tol)
            assert h.test_acc[r] == pytest.approx(s.test_acc, abs=acc_tol)
            assert h.train_loss[r] == pytest.approx(s.train_loss, rel=1e-5, abs=1e-6)
            assert h.test_loss[r] == pytest.approx(s.test_loss, rel=1e-5, abs=1e-6)
        for (p, _), (q, _) in zip(run.model.param(), rt.model.param(), strict=True):
            torch.testing.assert_close(q[r].reshape(p.shape), p, rtol=1e-5, atol=1e-5)
        last = summaries[-1]
        assert rt.final()[r] == pytest.approx((last.train_acc, last.test_acc), abs=acc_tol)


def test_replicas_give_the_lone_runs_accuracy_distribution():
    """Throughput mode over six seeds: the replicas' final accuracies have the mean and spread
    of the lone runs' (each seed within a point or two; the means within half a point)."""
    spec = small(load_preset("vanilla")).replace(epochs=10)
    seeds = list(range(6))
    rt = ReplicaTrainer(spec, seeds)
    rt.fit()
    replica = [test for _, test in rt.final()]
    lone = [list(Run(spec.replace(seed=s)).fit())[-1].test_acc for s in seeds]
    assert max(abs(a - b) for a, b in zip(replica, lone, strict=True)) <= 2.0
    assert statistics.mean(replica) == pytest.approx(statistics.mean(lone), abs=0.5)
    assert statistics.stdev(replica) == pytest.approx(statistics.stdev(lone), abs=0.5)
    assert len(set(lone)) > 1  # the seeds differ: the spread is real


def test_replica_linear_stacks_the_lone_draws():
    spec = small(load_preset("deep"), n=20)
    rt = ReplicaTrainer(spec, [4, 5])
    for r, seed in enumerate([4, 5]):
        lone = build_model(spec.replace(seed=seed))
        for (p, _), (q, _) in zip(lone.param(), rt.model.param(), strict=True):
            assert torch.equal(q[r].reshape(p.shape), p)
    assert all(isinstance(m, ReplicaLinear) for m in rt.model[::2])


def test_replicas_take_softmax_layers():
    """Softmax acts on the last axis, so a stack with one trains as replicas too."""
    spec = small(load_preset("quick"), n=64)
    spec.layers.insert(-1, LayerSpec("softmax"))
    assert replica_support(spec) is None
    rt = ReplicaTrainer(spec, [0, 1])
    rt.fit(2)
    for r, seed in enumerate([0, 1]):
        *_, last = Run(spec.replace(seed=seed)).fit(2)
        assert rt.history[-1].train_loss[r] == pytest.approx(last.train_loss, rel=1e-5)


def test_replica_stop_ends_after_the_last_evaluated_epoch():
    spec = small(load_preset("vanilla"), n=50)
    polls = []

    def should_stop():
        polls.append(1)
        return len(polls) > 12  # 10 batches + 2 evaluations in epoch 1, then stop

    rt = ReplicaTrainer(spec, [0, 1])
    history = rt.fit(5, should_stop)
    assert len(history) == 1 and rt.epoch == 1


def test_replicas_of_the_deep_preset_start_equal():
    """The deep preset itself, for one epoch on a small set (see PERF notes: N(0,1) weights
    make it chaotic, so longer horizons compare only under strict BLAS rounding)."""
    spec = small(load_preset("deep"), n=100)
    rt = ReplicaTrainer(spec, [0, 1], exact=True)
    rt.fit(1)
    for r, seed in enumerate([0, 1]):
        (last,) = Run(spec.replace(seed=seed)).fit(1)
        assert rt.history[-1].train_acc[r] == pytest.approx(last.train_acc, abs=1e-9)


def test_unsupported_layers_are_refused():
    spec = small(load_preset("vanilla"), n=50)
    spec.layers.insert(1, LayerSpec("dropout", p=0.2))
    assert replica_support(spec) is not None
    with pytest.raises(ValueError, match="Dropout"):
        ReplicaTrainer(spec, [0])
