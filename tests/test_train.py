"""The training loop and Run (the run spec and presets have their own test files)."""

import dataclasses
import json
import math
import threading

import pytest
import torch

from miniframe.engine import (
    SGD,
    Adam,
    CrossEntropyLoss,
    Dataset,
    DataSpec,
    EpochSummary,
    LayerSpec,
    LeakyReLU,
    Linear,
    MSELoss,
    ReLU,
    Run,
    RunSpec,
    Sequential,
    SolverSpec,
    Trainer,
    build_model,
    load_preset,
    make_dataset,
    train_spec,
)
from miniframe.engine import train as train_module
from miniframe.engine.train import Status

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


# ---- status, JSON, stopping big batches -----------------------------------------------------
def test_status_is_a_str_enum():
    # What training says, then what the history adds: one vocabulary (engine.results).
    assert [s.value for s in Status] == [
        "running", "finished", "stopped", "diverged", "queued", "interrupted", "failed",
    ]  # fmt: skip
    assert Status.FINISHED == "finished" and f"{Status.STOPPED}" == "stopped"
    summaries = list(Run(small_spec(epochs=2)).fit())
    assert [type(s.status) for s in summaries] == [Status, Status]


def test_json_dict_is_strict_json_with_status_and_message():
    """NaN/inf become null, status and message are always there, and -0.0 never appears."""
    s = EpochSummary(3, 10, math.nan, 50.0, math.inf, -0.0, 0.5, 2000.0, Status.DIVERGED, "why")
    d = s.to_json_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text) == {
        "epoch": 3, "epochs": 10, "train_loss": None, "train_acc": 50.0, "test_loss": None,
        "test_acc": 0.0, "seconds": 0.5, "samples_per_s": 2000.0, "status": "diverged",
        "message": "why",
    }  # fmt: skip
    assert "-0.0" not in text
    unevaluated = EpochSummary(1, 2, None, None, None, None, 0.1, 10.0, Status.STOPPED)
    assert unevaluated.to_json_dict()["train_loss"] is None
    assert unevaluated.to_json_dict()["message"] == ""
    for summary in Run(small_spec(epochs=2)).fit():
        d = summary.to_json_dict()
        # every field, but layer_stats only when asked for (Run(spec, layer_stats=True)) and
        # the validation set's numbers only when the run holds one
        left_out = {"layer_stats", "val_loss", "val_acc"}
        assert set(d) == {f.name for f in dataclasses.fields(EpochSummary)} - left_out
        json.dumps(d, allow_nan=False)


def test_diverged_run_gives_strict_json():
    run = Run(small_spec(loss="mse", epochs=3))
    for p, _ in run.model.param():
        p.mul_(1e30)
    last = list(run.fit())[-1]
    assert last.status == Status.DIVERGED
    d = last.to_json_dict()
    assert d["train_loss"] is None and d["status"] == "diverged" and "learning rate" in d["message"]
    json.dumps(d, allow_nan=False)


def separable_trainer(loss):
    """A Linear(2, 2) that classifies its data perfectly, with logits 800 apart."""
    x = torch.tensor([[0.1, 0.5], [0.9, 0.5], [0.1, 0.2], [0.9, 0.8]])
    data = Dataset(x, torch.tensor([0, 1, 0, 1]))
    lin = Linear(2, 2)
    lin.weight.copy_(torch.tensor([[-1000.0, 0.0], [1000.0, 0.0]]))
    lin.bias.copy_(torch.tensor([500.0, -500.0]))
    model = Sequential(lin)
    return Trainer(model, loss, SGD(model.param(), lr=1e-12), data, data, 4)


def test_a_perfect_loss_is_plus_zero_everywhere():
    """A perfect cross-entropy was −0.0 (printed as loss -0.0000); it is 0.0 at the source."""
    trainer = separable_trainer(CrossEntropyLoss())
    loss, acc = trainer.evaluate(trainer.train_data)
    assert loss == 0.0 and math.copysign(1.0, loss) == 1.0 and acc == 100.0
    (s,) = trainer.fit(1)
    for value in (s.train_loss, s.test_loss):
        assert value == 0.0 and math.copysign(1.0, value) == 1.0
    assert f"{s.train_loss:.4f}" == "0.0000"
    assert "-0.0" not in json.dumps(s.to_json_dict())


def test_evaluation_computes_no_gradient_and_training_no_loss_value():
    """Evaluation calls compute (the value) and never backward; a training step calls keep
    and backward, never compute."""
    trainer = Run(small_spec(epochs=1)).trainer
    calls = {"compute": 0, "keep": 0, "backward": 0}
    loss = trainer.loss
    for name in calls:
        method = getattr(loss, name)

        def counted(*args, _method=method, _name=name):
            calls[_name] += 1
            return _method(*args)

        setattr(loss, name, counted)
    trainer.train_epoch()
    steps = -(-len(trainer.train_data) // trainer.batch_size)
    assert calls == {"compute": 0, "keep": steps, "backward": steps}
    trainer.evaluate(trainer.test_data)
    assert calls == {"compute": 1, "keep": steps + 1, "backward": steps}


@pytest.mark.parametrize("which", ["training", "test"])
def test_fit_on_an_empty_set_is_a_clear_error(which):
    run = Run(small_spec())
    empty = Dataset(torch.zeros(0, 2), torch.zeros(0, dtype=torch.int64))
    setattr(run.trainer, f"{'train' if which == 'training' else 'test'}_data", empty)
    with pytest.raises(ValueError, match=f"the {which} set is empty"):
        list(run.fit(1))
    with pytest.raises(ValueError, match="empty"):
        run.trainer.evaluate(empty)


def float64_trainer(chunk=None, seed=0, loss=None, batch_size=64):
    g = torch.Generator().manual_seed(seed)
    model = Sequential(
        Linear(2, 16, init="he", generator=g, dtype=torch.float64), LeakyReLU(0.1),
        Linear(16, 16, init="he", generator=g, dtype=torch.float64), ReLU(),
        Linear(16, 2, init="he", generator=g, dtype=torch.float64),
    )  # fmt: skip
    train, test = make_dataset("moons", 200, seed=1), make_dataset("moons", 90, seed=2)
    train, test = (Dataset(d.x.double(), d.y) for d in (train, test))
    opt = SGD(model.param(), lr=0.1, momentum=0.9)
    trainer = Trainer(model, loss or CrossEntropyLoss(), opt, train, test, batch_size, seed=3)
    if chunk is not None:
        trainer.chunk = chunk
    return trainer


@pytest.mark.parametrize("loss", [CrossEntropyLoss, MSELoss])
@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_chunked_batches_train_as_whole_batches(loss, chunk):
    """A batch in chunks (gradient accumulation, each chunk weighted by its share of the rows)
    is the same step as the whole batch, and a chunked evaluation the same numbers."""
    whole, chunked = float64_trainer(loss=loss()), float64_trainer(chunk, loss=loss())
    assert whole.chunk >= 200  # small work: the whole batch in one pass
    a, b = list(whole.fit(3)), list(chunked.fit(3))
    for (p, _), (q, _) in zip(whole.model.param(), chunked.model.param(), strict=True):
        torch.testing.assert_close(q, p, rtol=1e-12, atol=1e-12)
    for s, t in zip(a, b, strict=True):
        assert t.train_acc == s.train_acc and t.test_acc == s.test_acc
        assert t.train_loss == pytest.approx(s.train_loss, rel=1e-12)
        assert t.test_loss == pytest.approx(s.test_loss, rel=1e-12)


def test_a_stop_during_the_evaluation_skips_it():
    """The epoch's training completed, then a stop arrived in the evaluation's chunks: the
    epoch counts, its metrics are None, and no further chunk is evaluated."""
    trainer = float64_trainer(chunk=10)
    polls = []
    batches = -(-len(trainer.train_data) // trainer.batch_size)
    # One poll per batch and per chunk after a batch's first; then the evaluation's chunks.
    training_polls = batches + sum(-(-len(b) // 10) - 1 for b in torch.arange(200).split(64))

    def should_stop():
        polls.append(1)
        return len(polls) > training_polls + 1  # let the first evaluation chunk through

    (s,) = trainer.fit(5, should_stop)
    assert s.status == Status.STOPPED and s.epoch == 1 and trainer.epoch == 1
    assert (s.train_loss, s.train_acc, s.test_loss, s.test_acc) == (None, None, None, None)
    assert s.message == "stopped after epoch 1, before its evaluation"
    assert len(polls) == training_polls + 2


def big_run():
    """The issue's repro: 2-2048-2048-2, 50,000 points, full batch (today's stop took 46 s)."""
    layers = [LayerSpec("linear", 2048), LayerSpec("relu"), LayerSpec("linear", 2048),
              LayerSpec("relu"), LayerSpec("linear", 2)]  # fmt: skip
    data = DataSpec("disk", n_train=50_000, n_test=1000)
    spec = RunSpec(layers=layers, data=data, batch_size=50_000, epochs=5, init="he")
    spec = spec.replace(solver=SolverSpec("sgd", lr=1e-3))
    return Run(spec)


def test_stop_on_a_big_batch_takes_effect_after_one_chunk():
    """A stop request is seen between chunks of a big batch: after it, no more of the batch
    goes through the model, no step is taken, and nothing is evaluated."""
    run = big_run()
    chunk = run.trainer.chunk
    assert 1 <= chunk < 1000  # 2**28 multiply-adds a chunk: ~4.2M per row here
    before = [p.clone() for p, _ in run.model.param()]
    forwards = []
    forward = run.model.forward

    def counted_forward(x):
        forwards.append(x.shape[0])
        return forward(x)

    run.model.forward = counted_forward
    polls = []

    def should_stop():  # False before the batch, then True at the first poll between chunks
        polls.append(len(forwards))
        return len(polls) > 1

    (s,) = run.fit(should_stop=should_stop)
    assert s.status == Status.STOPPED and s.epoch == 0
    assert s.train_loss is None and s.test_acc is None
    assert forwards == [chunk]  # one chunk of the 50,000 rows, then the stop
    assert polls == [0, 1]
    for a, (p, _) in zip(before, run.model.param(), strict=True):
        assert torch.equal(a, p)  # a partial batch takes no step


def test_blocks_of_batches_train_as_one_shuffled_set(monkeypatch):
    """Rows are gathered a block at a time (a block of 12 rows = 3 batches of 4 here): the
    same batches in the same order as with the whole set at once, so the same numbers."""
    spec = small_spec(batch_size=4, epochs=2)
    whole = numbers(Run(spec).fit())
    monkeypatch.setattr(train_module, "BLOCK_ROWS", 14)
    run = Run(spec)
    assert numbers(run.fit()) == whole


def test_a_stop_does_not_wait_for_a_big_shuffle(monkeypatch):
    """From BACKGROUND_ROWS rows on the permutation is drawn in a helper thread: a stop returns
    while the draw is still running, and the next draw waits for the abandoned one."""
    monkeypatch.setattr(train_module, "BACKGROUND_ROWS", 1)
    run = Run(small_spec(epochs=3))
    release = threading.Event()
    draw = run.trainer.shuffle._draw

    def slow_draw(n):
        assert release.wait(10.0)
        return draw(n)

    run.trainer.shuffle._draw = slow_draw
    (s,) = run.fit(should_stop=lambda: True)  # returns although the draw is blocked
    assert s.status == Status.STOPPED and s.epoch == 0 and not release.is_set()
    release.set()
    rest = list(run.fit(2))  # the next draw waits for the abandoned one, then trains
    assert [t.status for t in rest] == [Status.RUNNING, Status.FINISHED]


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
