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
    history = list(rt.fit(epochs))
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
    for _ in rt.fit():
        pass
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
    list(rt.fit(2))
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
    epochs = list(rt.fit(5, should_stop))
    assert [e.status for e in epochs] == ["running", "stopped"] and rt.epoch == 1
    assert epochs[-1].train_acc is None and not epochs[-1].evaluated
    assert len(rt.history) == 1


def test_replicas_of_the_deep_preset_start_equal():
    """The deep preset itself, for one epoch on a small set (see PERF notes: N(0,1) weights
    make it chaotic, so longer horizons compare only under strict BLAS rounding)."""
    spec = small(load_preset("deep"), n=100)
    rt = ReplicaTrainer(spec, [0, 1], exact=True)
    list(rt.fit(1))
    for r, seed in enumerate([0, 1]):
        (last,) = Run(spec.replace(seed=seed)).fit(1)
        assert rt.history[-1].train_acc[r] == pytest.approx(last.train_acc, abs=1e-9)


def test_unsupported_layers_are_refused():
    spec = small(load_preset("vanilla"), n=50)
    spec.layers.insert(1, LayerSpec("dropout", p=0.2))
    assert replica_support(spec) is not None
    with pytest.raises(ValueError, match="Dropout"):
        ReplicaTrainer(spec, [0])


# ---- per-epoch summaries for seed bands ----------------------------------------------------
def test_fit_yields_every_epoch_with_bands_like_trainer_fit():
    spec = small(load_preset("quick"), n=64).replace(epochs=3)
    seeds = [2, 5, 9]
    rt = ReplicaTrainer(spec, seeds)
    epochs = list(rt.fit())
    assert [e.epoch for e in epochs] == [1, 2, 3] and [e.epochs for e in epochs] == [3, 3, 3]
    assert [e.status for e in epochs] == ["running", "running", "finished"]
    assert rt.history == epochs and all(e.seeds == (2, 5, 9) for e in epochs)
    last = epochs[-1]
    acc = last.test_acc
    band = last.band("test_acc")
    assert band.mean == pytest.approx(statistics.mean(acc))
    assert band.std == pytest.approx(statistics.stdev(acc))
    assert (band.min, band.max, band.count) == (min(acc), max(acc), 3)
    assert band.worst_seed == seeds[acc.index(min(acc))]
    loss = last.band("train_loss")
    assert loss.worst_seed == seeds[last.train_loss.index(max(last.train_loss))]
    assert last.samples_per_s > 0 and last.seconds > 0
    # Replica r's epoch as a lone EpochSummary, strict JSON with bands.
    s = last.summary(1)
    assert (s.epoch, s.test_acc, s.status) == (3, acc[1], "finished")
    d = last.to_json_dict()
    assert d["test_acc"] == acc and d["test_acc_band"]["worst_seed"] == band.worst_seed
    import json

    json.dumps(d, allow_nan=False)


def test_fit_continues_and_counts_against_total():
    spec = small(load_preset("quick"), n=32)
    rt = ReplicaTrainer(spec, [0, 1])
    (first,) = rt.fit(1, total=3)
    assert (first.epoch, first.epochs, first.status) == (1, 3, "running")
    *_, last = rt.fit(2, total=3)
    assert (last.epoch, last.status) == (3, "finished") and len(rt.history) == 3


def test_a_diverged_replica_is_frozen_and_marked_worst():
    """lr 1e3 makes every vanilla seed diverge in its first epoch: the last epoch says DIVERGED,
    and the bands skip the non-finite losses."""
    spec = small(load_preset("vanilla"), n=50).replace(
        solver=dataclasses.replace(load_preset("vanilla").solver, lr=1e3)
    )
    rt = ReplicaTrainer(spec, [0, 1])
    epochs = list(rt.fit(5))
    assert epochs[-1].status == "diverged" and "diverged" in epochs[-1].message
    assert all(epochs[-1].diverged)
    assert epochs[-1].band("train_loss").count == 0
    assert epochs[-1].summary(0).status == "diverged"


@pytest.mark.parametrize("k", [1, 32])
def test_one_to_32_replicas(k):
    spec = small(load_preset("quick"), n=32)
    rt = ReplicaTrainer(spec, range(k))
    (e,) = rt.fit(1)
    assert len(e.test_acc) == k and e.band("test_acc").count == k


def test_more_replicas_than_the_limit_are_refused():
    from miniframe.engine import LIMITS

    with pytest.raises(ValueError, match=f"at most {LIMITS.max_replicas}"):
        ReplicaTrainer(small(load_preset("quick"), n=32), range(LIMITS.max_replicas + 1))


def test_cache_sized_evaluation_chunks_give_the_same_numbers():
    """Throughput mode evaluates in chunks of a few hundred rows (deep, 10 replicas): the same
    accuracies and, to float rounding, losses as one chunk."""
    from miniframe.engine.train import evaluate_batches

    spec = small(load_preset("deep"), n=600)
    rt = ReplicaTrainer(spec, range(10))
    assert rt.eval_chunk < 600
    list(rt.fit(1))
    loss, correct = evaluate_batches(rt.model, rt.loss, rt.test_x, rt.test_y, 10**6)
    assert rt.history[-1].test_acc == [100.0 * c / 600 for c in correct.tolist()]
    assert rt.history[-1].test_loss == pytest.approx(loss.tolist(), rel=1e-6)


def test_one_replica_as_a_lone_model_predicts_as_its_lone_run():
    """The map of one chosen seed: replica r's decision equals its lone run's."""
    spec = small(load_preset("quick"), n=64)
    rt = ReplicaTrainer(spec, [3, 8])
    list(rt.fit(2))
    grid = torch.rand(50, 2, generator=torch.Generator().manual_seed(1))
    for r, seed in enumerate([3, 8]):
        run = Run(spec.replace(seed=seed))
        list(run.fit(2))
        torch.testing.assert_close(rt.predict_proba(grid, r), run.predict_proba(grid),
                                   rtol=1e-4, atol=1e-5)  # fmt: skip
    view = rt.replica_model(1)
    assert view[0].weight.data_ptr() == rt.model[0].weight[1].data_ptr()  # live weights


# ---- throughput mode: denormals flushed, gradients written ------------------------------------
def test_flushing_denormals_is_scoped_to_the_block():
    """On inside the block, then whatever the thread had before: off stays off, on stays on."""
    from miniframe.engine.denormals import flushes_denormals, flushing_denormals

    assert not flushes_denormals()
    tiny = torch.tensor([1e-37])
    with flushing_denormals():
        assert flushes_denormals() and (tiny * 1e-3).item() == 0.0
    assert not flushes_denormals() and (tiny * 1e-3).item() > 0.0
    with flushing_denormals(enabled=False):
        assert not flushes_denormals()
    torch.set_flush_denormal(True)
    try:
        with flushing_denormals():
            pass
        assert flushes_denormals()  # the thread's own setting is left as it was
    finally:
        torch.set_flush_denormal(False)


@pytest.mark.parametrize("exact", [False, True], ids=["throughput", "exact"])
def test_throughput_replicas_flush_denormals_while_they_compute(monkeypatch, exact):
    """Training and evaluation flush denormals in throughput mode (exact mode rounds as the
    lone run, which keeps them); the thread's setting is back afterwards."""
    from miniframe.engine.denormals import flushes_denormals

    seen: list[bool] = []
    forward = ReplicaLinear.forward

    def watched(self, x):
        seen.append(flushes_denormals())
        return forward(self, x)

    monkeypatch.setattr(ReplicaLinear, "forward", watched)
    list(ReplicaTrainer(small(load_preset("quick"), n=64), [0, 1], exact=exact).fit(1))
    assert seen and set(seen) == {not exact}
    assert not flushes_denormals()


def test_throughput_backward_writes_the_gradients_after_zero_grad():
    """zero_grad then backward gives the gradients of this batch alone (whatever the buffers
    held); a second backward adds to them, as every module's backward does."""
    g = torch.Generator().manual_seed(0)
    lone = [build_model(small(load_preset("quick"), n=64).replace(seed=s))[0] for s in (0, 1)]
    fast, exact = ReplicaLinear(lone), ReplicaLinear(lone, exact=True)
    x, grad = torch.randn(2, 5, 2, generator=g), torch.randn(2, 5, 25, generator=g)
    for m in (fast, exact):
        m.grad_weight.fill_(7.0)
        m.grad_bias.fill_(7.0)
        m.zero_grad()
        m.forward(x)
        m.backward(grad)
    torch.testing.assert_close(fast.grad_weight, exact.grad_weight)
    torch.testing.assert_close(fast.grad_bias, exact.grad_bias)
    torch.testing.assert_close(fast.grad_weight, grad.mT @ x)
    once = fast.grad_weight.clone()
    fast.backward(grad)
    torch.testing.assert_close(fast.grad_weight, 2 * once)


def test_deep_replicas_in_throughput_mode_match_their_lone_runs():
    """The deep preset, where flushing denormals matters most. Its N(0,1) weights make it
    chaotic (a rounding difference grows to a different run within a few epochs), so: each
    replica's first epoch within float tolerance of its lone run's, and after 5 epochs the
    replicas' test accuracies over 6 seeds have the lone runs' mean and spread."""
    spec = small(load_preset("deep"), n=200).replace(epochs=5)
    seeds = list(range(6))
    rt = ReplicaTrainer(spec, seeds)
    history = list(rt.fit())
    lone = [list(Run(spec.replace(seed=s)).fit()) for s in seeds]
    for r, runs in enumerate(lone):
        first = runs[0]
        assert history[0].train_loss[r] == pytest.approx(first.train_loss, rel=1e-3)
        assert history[0].test_acc[r] == pytest.approx(first.test_acc, abs=1.0)
    replica = [test for _, test in rt.final()]
    final = [runs[-1].test_acc for runs in lone]
    assert statistics.mean(replica) == pytest.approx(statistics.mean(final), abs=2.0)
    assert statistics.stdev(replica) == pytest.approx(statistics.stdev(final), abs=2.0)
    assert len(set(final)) > 1
