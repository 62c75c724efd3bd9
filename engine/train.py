"""The training loop: one :class:`EpochSummary` per epoch, yielded to whoever consumes it.

The loop knows nothing about screens. A CLI prints the summaries, a test asserts on them, the
terminal trainer's worker thread posts them to the UI. Stopping is cooperative: ``should_stop``
is polled before every batch and every evaluation chunk (and between the chunks of a big
batch); pausing is simply not asking for the next epoch.

One step on a mini-batch (X, y):  Ŷ = model(X);  the loss keeps what dL/dŶ needs;  zero the
gradients;  model.backward(dL/dŶ) accumulates dL/dθ;  the solver updates θ (:func:`train_step`).
A training step never computes the loss value (nothing reads it); evaluation computes the
value and never a gradient.

The functions below take any leading axes before the rows (axis −2), so the replica trainer
(:mod:`.replicas`) runs the very same steps on stacked replicas.

A run may also end by itself before its last epoch (the spec's ``[stop]``: a target test
accuracy, or no improvement of the test loss for ``patience`` epochs), and may record each
Linear layer's health every epoch (:mod:`.layer_stats`, only when asked).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import torch
from torch import Tensor

from . import analysis
from .build import (
    build_loss,
    build_model,
    build_optimizer,
    build_raw_data,
    build_transform,
    prepare,
    split_validation,
)
from .data import Dataset
from .layer_stats import LayerStatsRecorder
from .layers import Linear
from .losses import Loss
from .module import Sequential
from .optim import Optimizer
from .plurals import plural
from .results import EpochSummary as EpochSummary  # the loop's output; re-exported
from .results import Status as Status
from .shape import DataShape, InputTransform
from .spec import RunSpec, StopSpec, data_seed

StopCheck = Callable[[], bool]
Forward = Callable[[Tensor], Tensor]

# The work of a chunk of rows, in multiply-adds: a batch (or an evaluation) bigger than this
# goes through the model in chunks (:func:`chunk_rows`), and a stop request waits at most for
# one chunk. At ~0.2 ns per multiply-add for a forward and backward pass on one core (measured
# from 2-2-2 to 2-2048-2048-2 networks), 2**28 is ~50 ms: under 0.5 s on a host several times
# slower. Every preset's batches and evaluations are smaller: they take the unchunked path.
CHUNK_WORK = 2**28
# An elementwise pass (activation, bias, loss, gradient) over one value costs about as much as
# this many multiply-adds; a row has one value per width of the network (inputs included).
ELEMENT_WORK = 128
# Rows gathered, encoded and cut into batches at a time, so that no set-up step of an epoch
# over a big training set runs for long without should_stop being polled.
BLOCK_ROWS = 2**16
# From this many rows on, an epoch's permutation is drawn in a helper thread while should_stop
# is polled (randperm of 10**7 indices takes about a second; torch releases the GIL meanwhile).
BACKGROUND_ROWS = 2**20


def train_step(model: Sequential, loss: Loss, optimizer: Optimizer, x: Tensor, y: Tensor) -> None:
    """One step of gradient descent on the batch (X, Y), Y encoded by ``loss.encode``:
    Ŷ = model(X); zero the gradients (``model.zero_grad()``: each module clears its own);
    model.backward(dL/dŶ) accumulates dL/dθ; update θ. An empty batch is refused: its mean
    loss, and so the step, would be 0 / 0."""
    if x.shape[-2] == 0:
        raise ValueError("train_step: an empty batch (0 rows): there is nothing to step on")
    _step(model, loss, optimizer, x, y)


def _step(model: Sequential, loss: Loss, optimizer: Optimizer, x: Tensor, y: Tensor) -> None:
    """:func:`train_step` without its check: the loop's batches are never empty."""
    loss.keep(model.forward(x), y)
    model.zero_grad()
    model.backward(loss.backward())
    optimizer.step()


def train_step_in_chunks(
    model: Sequential,
    loss: Loss,
    optimizer: Optimizer,
    rows: Callable[[Tensor], tuple[Tensor, Tensor]],
    order: Tensor,
    chunk: int,
    should_stop: StopCheck | None = None,
) -> bool:
    """:func:`train_step` on the batch of rows ``order`` names, too big for one pass: ``chunk``
    rows at a time, each fetched by ``rows(indices)`` as (X, encoded Y).

    The batch loss is the mean over its n rows, so L = Σ_c (n_c / n) L_c over chunks c of n_c
    rows, and dL/dŶ_c = (n_c / n) dL_c/dŶ_c: each chunk's gradient, scaled by its share of the
    rows, accumulates (+=) into the same buffers, then the solver takes one step. Returns
    False, with no step taken, if ``should_stop`` (polled between chunks) says stop.
    """
    n = order.shape[-1]
    model.zero_grad()
    for i, indices in enumerate(torch.split(order, chunk, -1)):
        if i and should_stop is not None and should_stop():
            return False
        x, y = rows(indices)
        loss.keep(model.forward(x), y)
        model.backward(loss.backward().mul_(indices.shape[-1] / n))
    optimizer.step()
    return True


def train_batches(
    model: Sequential,
    loss: Loss,
    optimizer: Optimizer,
    x: Tensor,
    labels: Tensor,
    order: Tensor,
    batch_size: int,
    should_stop: StopCheck | None = None,
    chunk: int | None = None,
) -> int:
    """Mini-batch gradient descent over the rows (axis −2) of X and their labels, taken in
    ``order`` (a permutation of the rows; leading replica axes allowed on all three).

    One :func:`train_step` per batch of ``batch_size`` rows; the rows are gathered and their
    labels encoded a block of batches at a time (the batches are views of the block). A batch
    of more than ``chunk`` rows goes through :func:`train_step_in_chunks` instead.
    ``should_stop`` is polled before every batch. Returns the number of rows trained on: all
    of them unless stopped.
    """
    width = _output_width(model, x)

    def rows(indices: Tensor) -> tuple[Tensor, Tensor]:
        xs = torch.gather(x, -2, indices.unsqueeze(-1).expand(*indices.shape, x.shape[-1]))
        return xs, loss.encode(torch.gather(labels, -1, indices), width, x.dtype)

    done = 0
    if chunk is not None and batch_size > chunk:
        for indices in torch.split(order, batch_size, -1):
            if should_stop is not None and should_stop():
                return done
            if not train_step_in_chunks(model, loss, optimizer, rows, indices, chunk, should_stop):
                return done
            done += indices.shape[-1]
        return done
    block = batch_size * max(1, BLOCK_ROWS // batch_size)
    for indices in torch.split(order, block, -1):
        xs, ys = rows(indices)
        batches = zip(torch.split(xs, batch_size, -2), torch.split(ys, batch_size, -2), strict=True)
        for xb, yb in batches:
            if should_stop is not None and should_stop():
                return done
            _step(model, loss, optimizer, xb, yb)
            done += xb.shape[-2]
    return done


def evaluate_batches(
    model: Sequential,
    loss: Loss,
    x: Tensor,
    labels: Tensor,
    chunk: int,
    should_stop: StopCheck | None = None,
    forward: Forward | None = None,
) -> tuple[Tensor, Tensor] | None:
    """Mean loss and number of correct (argmax) predictions of ``model`` on (X, labels), in
    eval mode, ``chunk`` rows at a time; None if ``should_stop`` (polled before every chunk)
    says stop. No gradient is computed. ``forward``: the forward pass to use (default
    ``model.forward``; the layer-health watch looks at each layer on the way).

    With leading replica axes both results have them too (one loss and count per replica). The
    mean over chunks is Σ_c (n_c / n) L_c, in float64; with one chunk it is L itself.
    """
    n = x.shape[-2]
    if n == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    total: Tensor | None = None
    correct: Tensor | None = None
    run_forward = model.forward if forward is None else forward
    model.eval()
    try:
        for xc, lc in zip(torch.split(x, chunk, -2), torch.split(labels, chunk, -1), strict=True):
            if should_stop is not None and should_stop():
                return None
            out = run_forward(xc)
            value = loss.compute(out, loss.encode(lc, out.shape[-1], out.dtype))
            share = value.double() * (lc.shape[-1] / n)
            hits = (out.argmax(dim=-1) == lc).sum(dim=-1)
            total = share if total is None else total + share
            correct = hits if correct is None else correct + hits
    finally:
        model.train()
    assert total is not None and correct is not None  # n > 0: at least one chunk
    return total, correct


def chunk_rows(model: Sequential) -> int:
    """Rows per chunk: as many as keep a chunk within CHUNK_WORK. A row's work is the Linear
    layers' multiply-adds (their weights' sizes, replicas included) plus ELEMENT_WORK for each
    value of the row's input and of every Linear's output."""
    work = 0
    for i, m in enumerate(m for m in model if isinstance(m, Linear)):
        outputs = m.weight.numel() // m.in_features  # out_features, × replicas
        inputs = m.weight.numel() // m.out_features if i == 0 else 0
        work += m.weight.numel() + ELEMENT_WORK * (outputs + inputs)
    return max(1, CHUNK_WORK // max(work, 1))


class Shuffle:
    """Each epoch's order of the rows: one ``randperm`` per generator, stacked (G, n).

    From BACKGROUND_ROWS rows on the draw runs in a helper thread while ``should_stop`` is
    polled, so a stop need not wait for it. An abandoned draw finishes on its own (the thread
    is not a daemon: a process exiting meanwhile waits for it rather than abort inside torch);
    the next draw, or :meth:`wait`, waits for it first, so a generator is never used by two
    threads at once and the draws stay in order.
    """

    def __init__(self, generators: Sequence[torch.Generator]) -> None:
        self.generators = list(generators)
        self._pending: threading.Thread | None = None
        self._result: list[Tensor] = []

    def draw(self, n: int, should_stop: StopCheck | None = None) -> Tensor | None:
        """The permutations, or None if ``should_stop`` said stop first."""
        if not self._finish_pending(should_stop):
            return None
        if n < BACKGROUND_ROWS or should_stop is None:
            return self._draw(n)
        self._result.clear()
        self._pending = threading.Thread(target=lambda: self._result.append(self._draw(n)))
        self._pending.start()
        if not self._finish_pending(should_stop):
            return None
        return self._result.pop()

    def wait(self) -> None:
        """Let an abandoned draw finish (it still advances the generators)."""
        self._finish_pending(None)

    def _finish_pending(self, should_stop: StopCheck | None) -> bool:
        """Wait for the draw in flight, polling ``should_stop``; False if it said stop."""
        while self._pending is not None:
            if should_stop is not None and should_stop():
                return False
            self._pending.join(0.01)
            if not self._pending.is_alive():
                self._pending = None
        return True

    def _draw(self, n: int) -> Tensor:
        return torch.stack([torch.randperm(n, generator=g) for g in self.generators])


class Trainer:
    """Mini-batch training of ``model`` on ``train``, evaluated on ``test`` after each epoch.

    The training set is reshuffled every epoch with a generator seeded from ``seed``, so the
    same seed gives the same numbers. ``stop``: the conditions that end a run before its last
    epoch (see :class:`~.spec.StopSpec`); ``layer_stats``: record each Linear layer's health
    every epoch (:mod:`.layer_stats`) in the summaries.
    """

    def __init__(
        self,
        model: Sequential,
        loss: Loss,
        optimizer: Optimizer,
        train: Dataset,
        test: Dataset,
        batch_size: int,
        seed: int = 0,
        stop: StopSpec | None = None,
        layer_stats: bool = False,
        validation: Dataset | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch size must be ≥ 1, got {batch_size}")
        self.model, self.loss, self.optimizer = model, loss, optimizer
        self.train_data, self.test_data = train, test
        self.validation_data = validation
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.shuffle = Shuffle([self.generator])
        self.epoch = 0
        self.chunk = chunk_rows(model)
        self.stop = stop if stop is not None else StopSpec()
        self.stats = LayerStatsRecorder(model) if layer_stats else None
        # The evaluated epoch of lowest test loss (validation loss, with a validation set).
        self.best: EpochSummary | None = None
        # The epoch whose weights were put back at the end of the last fit, if any: the
        # model holds them until it trains again.
        self.restored: int | None = None
        self._since_best = 0
        self._best_weights: list[Tensor] = []

    @property
    def weights_epoch(self) -> int:
        """The epoch the model's weights come from: the last one trained, or the one whose
        weights ``restore_best`` put back."""
        return self.restored if self.restored is not None else self.epoch

    @property
    def watched(self) -> str:
        """The set the stop conditions watch: ``validation`` when the run holds one out of its
        training rows, else ``test``."""
        return "test" if self.validation_data is None else "validation"

    def reset_stop_state(self) -> None:
        """Forget the best epoch (a reset starts the count again)."""
        self.best, self.restored, self._since_best = None, None, 0

    def train_epoch(self, should_stop: StopCheck | None = None) -> int:
        """One pass over the shuffled training set; returns the samples trained on (all of
        them, unless ``should_stop`` ended the pass early)."""
        self.model.train()
        x, labels = self.train_data.x, self.train_data.y
        order = self.shuffle.draw(len(x), should_stop)
        if order is None:
            return 0
        order = order[0].to(x.device)
        model, loss, opt, b = self.model, self.loss, self.optimizer, self.batch_size
        return train_batches(model, loss, opt, x, labels, order, b, should_stop, self.chunk)

    def evaluate(self, data: Dataset) -> tuple[float, float]:
        """(mean loss, accuracy in %) of the model on ``data``, in eval mode."""
        result = self._evaluate(data, None)
        assert result is not None  # only a should_stop can interrupt it
        return result

    def _evaluate(
        self, data: Dataset, should_stop: StopCheck | None, forward: Forward | None = None
    ) -> tuple[float, float] | None:
        model, loss, chunk = self.model, self.loss, self.chunk
        result = evaluate_batches(model, loss, data.x, data.y, chunk, should_stop, forward)
        if result is None:
            return None
        value, correct = result
        return float(value), 100.0 * int(correct) / len(data)

    def fit(
        self, epochs: int, should_stop: StopCheck | None = None, total: int | None = None
    ) -> Iterator[EpochSummary]:
        """Train up to ``epochs`` more epochs, yielding a summary after each.

        Summaries count against ``total`` epochs (default: those done plus ``epochs``); the
        one that reaches it says FINISHED. A run that stops early ends STOPPED (not evaluated:
        its metrics are None) or DIVERGED; one that meets a stop condition ends FINISHED, with
        a message that says which.
        """
        for name, data in (("training", self.train_data), ("test", self.test_data)):
            if len(data) == 0:
                raise ValueError(f"the {name} set is empty: there is nothing to train on")
        last = self.epoch + epochs if total is None else total
        stats = self.stats
        for i in range(epochs):
            if stats is not None:
                stats.begin_epoch()
            t0 = time.perf_counter()
            done = self.train_epoch(should_stop)
            if done:
                self.restored = None  # the weights moved on from the restored ones
            seconds = time.perf_counter() - t0
            completed = done == len(self.train_data)
            train: tuple[float, float] | None = None
            test: tuple[float, float] | None = None
            val: tuple[float, float] | None = None
            if completed:
                self.epoch += 1
                watch = stats.watch.forward if stats is not None else None
                train = self._evaluate(self.train_data, should_stop, watch)
                test = self._evaluate(self.test_data, should_stop) if train else None
                if test is not None and self.validation_data is not None:
                    val = self._evaluate(self.validation_data, should_stop)
                    test = test if val is not None else None
                if test is None:
                    train = val = None  # a stop during the evaluation: none of it counts
            layer_stats = stats.end_epoch() if stats is not None and test is not None else None
            status, message = Status.RUNNING, ""
            if not completed:
                status, message = Status.STOPPED, f"stopped during epoch {self.epoch + 1}"
            elif train is None or test is None:
                status = Status.STOPPED
                message = f"stopped after epoch {self.epoch}, before its evaluation"
            elif not math.isfinite(train[0]):
                status = Status.DIVERGED
                message = f"loss became {train[0]} in epoch {self.epoch}: lower the learning rate"
            summary = EpochSummary(
                epoch=self.epoch,
                epochs=last,
                train_loss=train[0] if train else None,
                train_acc=train[1] if train else None,
                test_loss=test[0] if test else None,
                test_acc=test[1] if test else None,
                seconds=seconds,
                samples_per_s=done / seconds if seconds > 0 else 0.0,
                status=status,
                message=message,
                layer_stats=layer_stats,
                val_loss=val[0] if val else None,
                val_acc=val[1] if val else None,
            )
            if status == Status.RUNNING:
                summary = self._check_stop(summary, last)
            yield summary
            if summary.status != Status.RUNNING or i == epochs - 1:
                return

    def _check_stop(self, summary: EpochSummary, last: int) -> EpochSummary:
        """An evaluated epoch against the stop conditions and the last epoch: the summary as
        it is (RUNNING), or FINISHED with the reason; the best weights put back if asked.
        The conditions watch the validation set when the run holds one, else the test set."""
        stop, watched = self.stop, self.watched
        loss, acc = _watched(summary, watched)
        assert loss is not None and acc is not None
        best = _watched(self.best, watched)[0] if self.best is not None else None
        if best is None or loss < best or (math.isnan(best) and not math.isnan(loss)):
            self.best, self._since_best = summary, 0
            if stop.restore_best:
                self._keep_best_weights()
        else:
            self._since_best += 1
        message = ""
        restore = False
        if stop.target_acc is not None and acc >= stop.target_acc:
            message = (
                f"reached the target {watched} accuracy: {acc:.1f} % ≥ {stop.target_acc:g} % "
                f"at epoch {summary.epoch}"
            )
        elif stop.patience is not None and self._since_best >= stop.patience:
            assert self.best is not None
            best_loss = _watched(self.best, watched)[0]
            assert best_loss is not None
            message = (
                f"early stop: the {watched} loss has not improved for "
                f"{plural(stop.patience, 'epoch')} "
                f"(best {best_loss:.4g} at epoch {self.best.epoch})"
            )
            restore = stop.restore_best
        elif self.epoch >= last:
            restore = stop.restore_best
        else:
            return summary
        if restore and self.best is not None and self.best.epoch != summary.epoch:
            self._restore_best_weights()
            note = f"restored the weights of epoch {self.best.epoch} (lowest {watched} loss)"
            message = f"{message}; {note}" if message else note
        return replace(summary, status=Status.FINISHED, message=message)

    def _keep_best_weights(self) -> None:
        params = [p for p, _ in self.model.param()]
        if not self._best_weights:
            self._best_weights = [torch.empty_like(p) for p in params]
        torch._foreach_copy_(self._best_weights, params)

    def _restore_best_weights(self) -> None:
        assert self.best is not None
        torch._foreach_copy_([p for p, _ in self.model.param()], self._best_weights)
        self.restored = self.best.epoch


def _watched(summary: EpochSummary, watched: str) -> tuple[float | None, float | None]:
    """(loss, accuracy) of the set the stop conditions watch."""
    if watched == "validation":
        return summary.val_loss, summary.val_acc
    return summary.test_loss, summary.test_acc


def _output_width(model: Sequential, x: Tensor) -> int:
    """The width of the model's output: the out_features of its last Linear (the input's
    width if it has none: the other layers keep widths)."""
    widths = [m.out_features for m in model if isinstance(m, Linear)]
    return widths[-1] if widths else x.shape[-1]


class Run:
    """A training run built from a :class:`RunSpec`: model, loss, solver, data and trainer.

    What the CLI and the terminal trainer hold on to: it can train for more epochs, change the
    learning rate mid-run, re-initialise the weights, draw new data, and look inside the model
    (class probabilities, a layer's activations, the confusion matrix, all for raw inputs).

    ``train_data`` and ``test_data`` are the sets as the model sees them (through
    ``transform``, the run's :class:`~.shape.InputTransform`), and ``validation_data`` the
    rows held out of the training set to watch for the stop conditions (None without
    ``data.validation_fraction``); ``shape`` says how many inputs and classes the data have
    and what they are called. ``layer_stats=True`` records each Linear
    layer's health in every epoch's summary (:mod:`.layer_stats`).
    """

    def __init__(self, spec: RunSpec, layer_stats: bool = False) -> None:
        spec.validate()
        self.spec = spec
        self.shape: DataShape = spec.shape()
        raw_train, raw_test = build_raw_data(spec)
        raw_train, raw_val = split_validation(spec, raw_train)
        self.transform: InputTransform = build_transform(spec, raw_train)
        self.summary = analysis.summarize(spec, raw_train, raw_test)
        self.train_data = prepare(raw_train, self.transform, spec.device)
        self.test_data = prepare(raw_test, self.transform, spec.device)
        self.validation_data = _prepared(raw_val, self.transform, spec.device)
        del raw_train, raw_test, raw_val
        self.model = build_model(spec, shape=self.shape)
        self.loss = build_loss(spec)
        self.optimizer = build_optimizer(spec, self.model.param())
        self.trainer = Trainer(
            self.model,
            self.loss,
            self.optimizer,
            self.train_data,
            self.test_data,
            spec.batch_size,
            spec.seed,
            stop=spec.stop,
            layer_stats=layer_stats,
            validation=self.validation_data,
        )

    @classmethod
    def from_spec(cls, spec: RunSpec, layer_stats: bool = False) -> Run:
        return cls(spec, layer_stats=layer_stats)

    @classmethod
    def from_checkpoint(cls, path: str | Path, layer_stats: bool = False) -> Run:
        """The run a checkpoint describes, its model holding the saved weights, at the epoch
        they come from (the solver starts fresh). Its data are read again (a CSV
        file must still be there); their classes must be the checkpoint's."""
        from .checkpoint import CheckpointError, read_checkpoint

        model, info = read_checkpoint(path)
        run = cls(info.spec, layer_stats=layer_stats)
        if run.shape.class_names != info.shape.class_names:
            raise CheckpointError(
                f"{path}: the model's classes ({', '.join(info.shape.class_names)}) are not "
                f"those of its data now ({', '.join(run.shape.class_names)})"
            )
        for (dst, _), (src, _) in zip(run.model.param(), model.param(), strict=True):
            dst.copy_(src)
        run.trainer.epoch = info.epoch
        return run

    @property
    def epoch(self) -> int:
        return self.trainer.epoch

    def fit(
        self, epochs: int | None = None, should_stop: StopCheck | None = None
    ) -> Iterator[EpochSummary]:
        """Train for ``epochs`` (default: the spec's, less those already done)."""
        if epochs is None:
            epochs = max(self.spec.epochs - self.epoch, 0)
        return self.trainer.fit(epochs, should_stop)

    def step_epoch(self, should_stop: StopCheck | None = None) -> EpochSummary:
        """One more epoch, its summary counted against the spec's epochs ("running" until the
        spec's last epoch, then "finished")."""
        return next(self.trainer.fit(1, should_stop, total=max(self.spec.epochs, self.epoch + 1)))

    def set_lr(self, lr: float) -> None:
        if not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"learning rate must be a positive number, got {lr!r}")
        self.optimizer.lr = float(lr)

    def reset(self) -> None:
        """Fresh weights and dropout masks from the seed, cleared solver state, epoch 0 (the
        data stay as they are)."""
        g = torch.Generator().manual_seed(self.spec.seed)
        for m in self.model:
            reset = getattr(m, "reset_parameters", None)
            if reset is not None:
                reset(g)
            mask_gen = getattr(m, "generator", None)
            if mask_gen is not None:  # Dropout: restart its mask stream too
                mask_gen.manual_seed(mask_gen.initial_seed())
        self.optimizer.zero_grad()
        self.optimizer.reset_state()
        self.trainer.shuffle.wait()  # a draw abandoned by a stop must not race the reseed
        self.trainer.generator.manual_seed(self.spec.seed)
        self.trainer.epoch = 0
        self.trainer.reset_stop_state()

    def new_data(self, seed: int | None = None) -> int:
        """Draw the data again with another data seed (``seed``, else the current one + 1),
        leaving the model, the solver and the epoch as they are; returns the new data seed,
        which the spec now holds (``spec.data.seed``). A CSV run gets a new split (with a test
        file, the same data). A standardised run's statistics follow its new training set."""
        new = data_seed(self.spec) + 1 if seed is None else seed
        spec = self.spec.replace(data=replace(self.spec.data, seed=new))
        spec.validate(self.shape)  # the seed's bounds; the shape stays what the model has
        raw_train, raw_test = build_raw_data(spec)
        raw_train, raw_val = split_validation(spec, raw_train)
        transform = build_transform(spec, raw_train)
        self.summary = analysis.summarize(spec, raw_train, raw_test)
        self.train_data = prepare(raw_train, transform, spec.device)
        self.test_data = prepare(raw_test, transform, spec.device)
        self.validation_data = _prepared(raw_val, transform, spec.device)
        self.spec, self.transform = spec, transform
        self.trainer.shuffle.wait()
        self.trainer.train_data, self.trainer.test_data = self.train_data, self.test_data
        self.trainer.validation_data = self.validation_data
        self.trainer.reset_stop_state()
        return new

    # ---- looking inside -----------------------------------------------------------------------
    def class_probabilities(self, x: Tensor) -> Tensor:
        """P(class j | x), (n, k), for raw inputs ``x`` (n, d) put through the run's input
        transform (:func:`~.analysis.class_probabilities`)."""
        return analysis.class_probabilities(self.model, self.transform, x)

    def predict(self, x: Tensor) -> Tensor:
        """The predicted class index (argmax) for raw inputs ``x`` (n, d)."""
        return analysis.outputs(self.model, self.transform, x).argmax(dim=-1)

    def predict_proba(self, x: Tensor) -> Tensor:
        """P(class 1) for raw inputs (the unit square for the generated datasets): the
        two-class shortcut of :meth:`class_probabilities`."""
        return self.class_probabilities(x)[:, 1]

    def activations(self, x: Tensor, layer: int) -> Tensor:
        """The output of the module at position ``layer`` for raw inputs ``x`` (the neurons
        view; :func:`~.analysis.activations`)."""
        return analysis.activations(self.model, self.transform, x, layer)

    def confusion_matrix(self, data: Dataset | None = None) -> Tensor:
        """k × k counts, true class by row, predicted by column, on ``data`` as the model sees
        it (default: the test set)."""
        data = self.test_data if data is None else data
        return analysis.confusion_matrix(self.model, data, self.shape.n_classes)

    def preview(self) -> analysis.DataPreview:
        """The run's data as drawn or read (raw), before training or after a reset."""
        return analysis.preview_data(self.spec)

    def plane(self, features: tuple[int, int] = (0, 1), grid: int = 48) -> analysis.InputPlane:
        """A grid × grid lattice of raw inputs over two features, the others held at their
        training mean (:class:`~.analysis.InputPlane`)."""
        s = self.summary
        i, j = features
        for k in (i, j):
            if not 0 <= k < self.shape.n_inputs:
                inputs = plural(self.shape.n_inputs, "input")
                raise ValueError(f"feature {k} is not one of the {inputs}")
        x_range, y_range = (s.low[i], s.high[i]), (s.low[j], s.high[j])
        return analysis.plane_inputs(s.mean, features, x_range, y_range, grid)

    def save(self, path: str | Path) -> None:
        """A checkpoint of the model now, with its spec, data shape and input transform
        (:func:`~.checkpoint.save_checkpoint`), and the epoch its weights come from: after
        ``restore_best``, that of the best epoch, not the last one trained."""
        from .checkpoint import save_checkpoint

        save_checkpoint(
            path, self.model, self.spec, epoch=self.trainer.weights_epoch, shape=self.shape,
            transform=self.transform,
        )  # fmt: skip


def _prepared(data: Dataset | None, transform: InputTransform, device: str) -> Dataset | None:
    return None if data is None else prepare(data, transform, device)


def train_spec(spec: RunSpec, should_stop: StopCheck | None = None) -> Iterator[EpochSummary]:
    """Build the run for ``spec`` and train it for ``spec.epochs`` epochs."""
    return Run(spec).fit(spec.epochs, should_stop)
