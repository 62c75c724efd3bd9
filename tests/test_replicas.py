"""Replica-batched training: each replica equals the lone run of its seed."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from miniframe.engine import LayerSpec, Run, RunSpec, SolverSpec, load_preset
from miniframe.engine.replicas import ReplicaTrainer, replica_support


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


@pytest.mark.parametrize("name", list(SPECS))
def test_replicas_equal_lone_runs(name):
    spec = SPECS[name]()
    seeds = [0, 3, 7]
    epochs = 3
    rt = ReplicaTrainer(spec, seeds)
    history = rt.fit(epochs)
    assert len(history) == epochs
    for r, seed in enumerate(seeds):
        run = Run(spec.replace(seed=seed))
        summaries = list(run.fit(epochs))
        for e, s in enumerate(summaries):
            h = history[e]
            assert h.train_acc[r] == pytest.approx(s.train_acc, abs=1e-9)
            assert h.test_acc[r] == pytest.approx(s.test_acc, abs=1e-9)
            assert h.train_loss[r] == pytest.approx(s.train_loss, rel=1e-5, abs=1e-6)
            assert h.test_loss[r] == pytest.approx(s.test_loss, rel=1e-5, abs=1e-6)
        for (p, _), (q, _) in zip(run.model.param(), rt.model.param(), strict=True):
            torch.testing.assert_close(q[r].reshape(p.shape), p, rtol=1e-5, atol=1e-5)
        assert rt.final()[r] == pytest.approx((summaries[-1].train_acc, summaries[-1].test_acc))


def test_replicas_of_the_deep_preset_start_equal():
    """The deep preset itself, for one epoch on a small set (see PERF notes: N(0,1) weights
    make it chaotic, so longer horizons compare only under strict BLAS rounding)."""
    spec = small(load_preset("deep"), n=100)
    rt = ReplicaTrainer(spec, [0, 1])
    rt.fit(1)
    for r, seed in enumerate([0, 1]):
        (last,) = Run(spec.replace(seed=seed)).fit(1)
        assert rt.history[-1].train_acc[r] == pytest.approx(last.train_acc, abs=1e-9)


def test_unsupported_layers_are_refused():
    spec = small(load_preset("vanilla"), n=50)
    spec.layers.insert(1, LayerSpec("dropout", p=0.2))
    assert replica_support(spec) is not None
    with pytest.raises(ValueError, match="dropout"):
        ReplicaTrainer(spec, [0])
