"""Layer health per epoch (engine/layer_stats.py): computed only when asked, each number what
its definition says, strict JSON, and no change to training."""

from __future__ import annotations

import dataclasses
import json
import math

import torch

from miniframe.engine import LayerSpec, Run, RunSpec, SolverSpec, load_preset


def small(preset="quick", n=100, **changes) -> RunSpec:
    spec = load_preset(preset)
    return spec.replace(data=dataclasses.replace(spec.data, n_train=n, n_test=n), **changes)


def test_off_by_default():
    summaries = list(Run(small()).fit(2))
    assert all(s.layer_stats is None for s in summaries)
    assert "layer_stats" not in summaries[0].to_json_dict()


def test_asking_for_them_changes_no_number():
    """The dead-unit watch is the same forward pass; the norms read, never write."""
    plain = list(Run(small("deep")).fit(3))
    watched = Run(small("deep"), layer_stats=True)
    stats = list(watched.fit(3))
    for a, b in zip(plain, stats, strict=True):
        assert (a.train_loss, a.test_loss, a.train_acc, a.test_acc) == (
            b.train_loss, b.test_loss, b.train_acc, b.test_acc,
        )  # fmt: skip
    assert all(s.layer_stats is not None and len(s.layer_stats) == 7 for s in stats)


def test_each_number_is_its_definition():
    """Full-batch GD: the last step's gradient is the epoch's only one."""
    spec = small("vanilla", batch_size=100)
    run = Run(spec, layer_stats=True)
    start = [m.weight.clone() for m in run.model if hasattr(m, "weight")]
    (summary,) = list(run.fit(1))
    assert summary.layer_stats is not None
    linears = [(i, m) for i, m in enumerate(run.model) if hasattr(m, "weight")]
    assert [s.layer for s in summary.layer_stats] == [i for i, _ in linears]
    assert [s.title for s in summary.layer_stats] == [
        "Linear 2 → 25", "Linear 25 → 25", "Linear 25 → 25", "Linear 25 → 2",
    ]  # fmt: skip
    for s, (_, m), w0 in zip(summary.layer_stats, linears, start, strict=True):
        assert math.isclose(s.weight_norm, float(m.weight.norm()), rel_tol=1e-6)
        assert math.isclose(s.grad_norm, float(m.grad_weight.norm()), rel_tol=1e-6)
        ratio = float((m.weight - w0).norm() / m.weight.norm())
        assert math.isclose(s.update_ratio, ratio, rel_tol=1e-5)
    # ReLU follows every hidden Linear; nothing follows the last
    assert [s.dead_fraction is None for s in summary.layer_stats] == [False] * 3 + [True]


def test_a_dead_relu_unit_is_counted():
    """A unit with a huge negative bias is never positive on any training point."""
    spec = RunSpec(
        layers=[LayerSpec("linear", 4), LayerSpec("relu"), LayerSpec("linear", 2)],
        loss="cross-entropy",
        solver=SolverSpec("sgd", lr=1e-9),
        init="he",
        batch_size=10,
    )
    spec = spec.replace(data=dataclasses.replace(spec.data, n_train=50, n_test=50))
    run = Run(spec, layer_stats=True)
    first = run.model[0]
    first.bias[:] = torch.tensor([-1e3, -1e3, 1e3, 1e3])
    (summary,) = list(run.fit(1))
    assert summary.layer_stats is not None
    assert summary.layer_stats[0].dead_fraction == 0.5


def test_leaky_relu_units_cannot_die():
    """A LeakyReLU passes a·G where a ReLU passes nothing: no dead fraction for its layers."""
    (summary,) = list(Run(small("deep"), layer_stats=True).fit(1))
    assert summary.layer_stats is not None
    assert all(s.dead_fraction is None for s in summary.layer_stats)


def test_strict_json_even_when_diverged():
    run = Run(small("vanilla", loss="mse"), layer_stats=True)
    for p, _ in run.model.param():
        p.mul_(1e30)
    (summary,) = list(run.fit(1))
    d = summary.to_json_dict()
    text = json.dumps(d, allow_nan=False)
    layer = json.loads(text)["layer_stats"][0]
    assert set(layer) == {"layer", "title", "weight_norm", "grad_norm", "update_ratio",
                          "dead_fraction"}  # fmt: skip


def test_a_stop_mid_epoch_has_no_stats():
    calls = iter(range(1000))
    run = Run(small(), layer_stats=True)
    (summary,) = list(run.fit(1, should_stop=lambda: next(calls) > 1))
    assert summary.status == "stopped" and summary.layer_stats is None
