"""The training loop, Run, presets and the run spec (round trips and error messages)."""

import dataclasses
import itertools
import json
import math
import threading

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

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
    SpecError,
    Trainer,
    load_preset,
    make_dataset,
    preset_names,
    train_spec,
)
from miniframe.engine import train as train_module
from miniframe.engine.spec import DATASET_NAMES, INIT_NAMES, LAYER_KINDS
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


# ---- presets --------------------------------------------------------------------------------
def test_quick_preset_reaches_97_percent():
    """The full quick preset (200 epochs) classifies the disk at ≥ 97 % test accuracy."""
    summaries = list(train_spec(load_preset("quick")))
    assert len(summaries) == 200
    last = summaries[-1]
    assert last.status == "finished" and last.epoch == 200
    assert last.test_acc >= 97.0, last
    assert last.train_loss < summaries[0].train_loss


def test_preset_names():
    assert {"vanilla", "deep", "quick"} <= set(preset_names())
    with pytest.raises(SpecError, match="unknown preset"):
        load_preset("nope")


def test_vanilla_preset_is_table_one():
    spec = load_preset("vanilla")
    run = Run(spec)
    kinds = [type(m) for m in run.model]
    assert kinds == [Linear, ReLU, Linear, ReLU, Linear, ReLU, Linear]
    assert linear_shapes(run.model) == [(2, 25), (25, 25), (25, 25), (25, 2)]
    assert isinstance(run.loss, MSELoss)
    assert type(run.optimizer) is SGD
    assert run.optimizer.lr == 1e-4
    assert run.optimizer.momentum == 0 and run.optimizer.weight_decay == 0
    assert spec.batch_size == 5 and run.trainer.batch_size == 5
    assert spec.epochs == 200
    assert spec.init == "normal" and all(
        m.init == "normal" for m in run.model if hasattr(m, "init")
    )
    assert spec.data.name == "disk" and spec.data.n_train == 1000 and spec.data.n_test == 1000
    assert len(run.train_data) == 1000 and len(run.test_data) == 1000


def test_deep_preset_is_table_one():
    spec = load_preset("deep")
    run = Run(spec)
    widths = [2, 10, 50, 100, 100, 50, 10, 2]
    assert linear_shapes(run.model) == list(itertools.pairwise(widths))
    mods = list(run.model)
    assert all(isinstance(m, Linear) for m in mods[::2])
    assert all(isinstance(m, LeakyReLU) for m in mods[1::2])
    assert len(mods) == 13
    assert isinstance(run.loss, CrossEntropyLoss)
    assert type(run.optimizer) is SGD and run.optimizer.lr == 1e-4
    assert spec.batch_size == 5 and spec.epochs == 200 and spec.init == "normal"


def test_quick_preset_shape():
    run = Run(load_preset("quick"))
    assert linear_shapes(run.model) == [(2, 25), (25, 25), (25, 25), (25, 2)]
    assert isinstance(run.optimizer, Adam)


@pytest.mark.parametrize("name", ["vanilla", "deep", "quick"])
def test_preset_round_trips(name):
    spec = load_preset(name)
    assert RunSpec.from_toml(spec.to_toml()) == spec
    assert RunSpec.from_dict(spec.to_dict()) == spec
    assert RunSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


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
    assert [s.value for s in Status] == ["running", "finished", "stopped", "diverged"]
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
        assert set(d) == {f.name for f in dataclasses.fields(EpochSummary)}
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
    model = small_spec(layers=layers).build_model()
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


# ---- spec round trips -----------------------------------------------------------------------
def spec_strategy():
    layer = st.one_of(
        st.builds(LayerSpec, kind=st.sampled_from(["relu", "tanh", "sigmoid", "softmax"])),
        st.builds(LayerSpec, kind=st.just("leaky_relu"), negative_slope=st.floats(0, 1, width=32)),
        st.builds(LayerSpec, kind=st.just("dropout"), p=st.floats(0, 0.95)),
    )

    @st.composite
    def build(draw):
        hidden = draw(st.lists(st.integers(1, 64), max_size=4))
        layers = []
        width = 2
        for units in [*hidden, 2]:
            stated = draw(st.booleans())
            layers.append(LayerSpec("linear", units, in_features=width if stated else None))
            width = units
            layers += draw(st.lists(layer, max_size=2))
        n_train = draw(st.integers(1, 5000))
        solver = SolverSpec(
            name=draw(st.sampled_from(["sgd", "adam"])),
            lr=draw(st.floats(1e-8, 10)),
            momentum=draw(st.floats(0, 0.99)),
            weight_decay=draw(st.floats(0, 1)),
            betas=(draw(st.floats(0, 0.999)), draw(st.floats(0, 0.999999))),
        )
        solver.nesterov = solver.momentum > 0 and draw(st.booleans())
        return RunSpec(
            layers=layers,
            loss=draw(st.sampled_from(["mse", "cross-entropy"])),
            solver=solver,
            data=DataSpec(
                name=draw(st.sampled_from(DATASET_NAMES)),
                n_train=n_train,
                n_test=draw(st.integers(1, 5000)),
                noise=draw(st.floats(0, 1)),
                center=draw(st.booleans()),
            ),
            init=draw(st.sampled_from(INIT_NAMES)),
            epochs=draw(st.integers(1, 10_000)),
            batch_size=draw(st.integers(1, n_train)),
            seed=draw(st.integers(0, 2**31)),
            name=draw(st.text(max_size=30)),
            description=draw(st.text(max_size=40)),
        )

    return build()


@settings(max_examples=60, deadline=None)
@given(spec=spec_strategy())
def test_spec_round_trips_through_toml_and_dict(spec):
    spec.validate()
    assert RunSpec.from_toml(spec.to_toml()) == spec
    assert RunSpec.from_dict(spec.to_dict()) == spec
    assert RunSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


@pytest.mark.parametrize("text", ["line one\nline two", 'quote " and \\ back', "tab\there"])
def test_spec_round_trips_awkward_strings(text):
    spec = small_spec(name=text, description=text)
    assert RunSpec.from_toml(spec.to_toml()) == spec


@pytest.mark.parametrize("text", ["carriage\rreturn", "esc\x1b[0m", "nul\x00", "del\x7f", "\u2028"])
def test_spec_round_trips_control_characters(text):
    """to_toml promises text that from_toml reads back: control characters must be escaped."""
    spec = small_spec(description=text)
    assert RunSpec.from_toml(spec.to_toml()) == spec


def test_spec_save_and_load(tmp_path):
    spec = load_preset("deep").replace(name="mine", seed=9)
    path = tmp_path / "sub" / "run.toml"
    spec.save(path)
    assert RunSpec.load(path) == spec
    assert [p.name for p in path.parent.iterdir()] == ["run.toml"]  # no temp files left
    jpath = tmp_path / "run.json"
    jpath.write_text(json.dumps(spec.to_dict()), encoding="utf-8")
    assert RunSpec.load(jpath) == spec


def test_spec_load_missing_file(tmp_path):
    path = tmp_path / "missing.toml"
    with pytest.raises(SpecError, match="no such file") as info:
        RunSpec.load(path)
    assert str(path) in str(info.value)


def test_spec_load_bad_json(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid JSON"):
        RunSpec.load(path)


def test_spec_accepts_layer_type_aliases():
    spec = RunSpec.from_dict(
        {
            "layers": [
                {"type": "Linear", "units": 4},
                {"type": "LeakyReLU"},
                {"type": "linear", "units": 2},
            ]
        }
    )
    assert [layer.kind for layer in spec.layers] == ["linear", "leaky_relu", "linear"]


# ---- spec errors ----------------------------------------------------------------------------
def table_one_typo_toml():
    return (
        load_preset("vanilla")
        .to_toml()
        .replace('type = "linear"\nunits = 25', 'type = "linear"\nunits = 25\nin_features = 10', 2)
    )


def test_mismatching_in_features_names_the_layer():
    """Table I's 'Linear(10, 25)' after a 25-unit layer is caught, naming layer 3."""
    text = table_one_typo_toml()
    assert text.count("in_features = 10") == 2
    with pytest.raises(SpecError) as info:
        RunSpec.from_toml(text, source="table.toml")
    msg = str(info.value)
    assert "table.toml" in msg
    assert "layer 1" in msg and "Linear(10, 25)" in msg and "produces 2" in msg


def test_mismatching_in_features_second_linear():
    layers = [
        {"type": "linear", "units": 25},
        {"type": "relu"},
        {"type": "linear", "units": 25, "in_features": 10},
        {"type": "linear", "units": 2},
    ]
    with pytest.raises(SpecError) as info:
        RunSpec.from_dict({"layers": layers})
    msg = str(info.value)
    assert "layer 3" in msg and "Linear(10, 25)" in msg and "25" in msg


def test_last_linear_must_output_two_classes():
    layers = [{"type": "linear", "units": 25}, {"type": "relu"}, {"type": "linear", "units": 3}]
    with pytest.raises(SpecError, match=r"layer 3.*3 values.*2 classes"):
        RunSpec.from_dict({"layers": layers})


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"layers": []}, "empty"),
        ({"layers": [{"type": "relu"}]}, "no Linear"),
        ({"layers": [{"type": "conv", "units": 2}]}, "unknown layer type"),
        ({"layers": [{"type": "linear", "units": 0}]}, "units"),
        ({"layers": [{"type": "linear", "units": 2, "size": 3}]}, r"unknown key.*size"),
        ({"layers": [{"type": "linear", "units": 2}], "colour": "red"}, "unknown setting.*colour"),
        ({"layers": [{"type": "linear", "units": 2}], "solver": {"lrate": 1}}, "solver.*lrate"),
        ({"layers": [{"type": "linear", "units": 2}], "data": {"size": 1}}, "data.*size"),
        ({"layers": [{"type": "linear", "units": 2}], "epochs": "ten"}, "epochs"),
        ({"layers": [{"type": "linear", "units": 2}], "epochs": 0}, "epochs"),
        ({"layers": [{"type": "linear", "units": 2}], "batch_size": 2000}, "batch size 2000"),
        ({"layers": [{"type": "linear", "units": 2}], "loss": "hinge"}, "unknown loss"),
        ({"layers": [{"type": "linear", "units": 2}], "init": "zeros"}, "unknown init"),
        ({"layers": [{"type": "linear", "units": 2}], "seed": -1}, "seed"),
        ({"layers": [{"type": "linear", "units": 2}], "device": "tpu"}, "device"),
        ({"layers": [{"type": "linear", "units": 2}], "solver": {"lr": 0}}, "learning rate"),
        ({"layers": [{"type": "linear", "units": 2}], "solver": {"name": "rmsprop"}}, "solver"),
        ({"layers": [{"type": "linear", "units": 2}], "solver": {"momentum": 1.0}}, "momentum"),
        ({"layers": [{"type": "linear", "units": 2}], "solver": {"nesterov": True}}, "Nesterov"),
        ({"layers": [{"type": "linear", "units": 2}], "solver": {"betas": [0.9]}}, "betas"),
        ({"layers": [{"type": "linear", "units": 2}], "data": {"name": "iris"}}, "dataset"),
        ({"layers": [{"type": "linear", "units": 2}], "data": {"n_train": 0}}, "n_train"),
        ({"layers": [{"type": "linear", "units": 2}], "data": {"noise": -1}}, "noise"),
        ({"layers": [{"type": "linear", "units": 2}, {"type": "dropout", "p": 1}]}, "dropout"),
        (
            {
                "layers": [
                    {"type": "linear", "units": 2},
                    {"type": "leaky_relu", "negative_slope": -1},
                ]
            },
            "negative slope",
        ),
        ({"layers": "linear"}, "layers"),
        ([1, 2], "table"),
    ],
)
def test_bad_specs_raise_spec_error(raw, match):
    with pytest.raises(SpecError, match=match):
        RunSpec.from_dict(raw, source="my.toml")


def test_batch_size_larger_than_training_set():
    spec = small_spec(batch_size=201)
    with pytest.raises(SpecError, match=r"batch size 201.*\(200\)"):
        spec.validate()
    with pytest.raises(SpecError):
        Run(spec)


def test_bad_toml():
    with pytest.raises(SpecError, match="not valid TOML") as info:
        RunSpec.from_toml("name = [unclosed", source="broken.toml")
    assert "broken.toml" in str(info.value)


def test_spec_error_is_a_value_error():
    assert issubclass(SpecError, ValueError)


def test_layer_kinds_all_build():
    layers = [LayerSpec(k, 3) if k == "linear" else LayerSpec(k) for k in LAYER_KINDS]
    spec = small_spec(layers=[*layers, LayerSpec("linear", 2)])
    model = spec.build_model()
    assert len(model) == len(LAYER_KINDS) + 1
    assert model.forward(torch.zeros(4, 2)).shape == (4, 2)


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
