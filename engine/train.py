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
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from pathlib import Path

import torch
from torch import Tensor

from .build import build_data, build_loss, build_model, build_optimizer
from .data import Dataset, centre_inputs
from .layers import Linear
from .losses import Loss
from .module import Sequential
from .optim import Optimizer
from .spec import RunSpec

StopCheck = Callable[[], bool]

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


class Status(StrEnum):
    """Where a run stands after an epoch."""

    RUNNING = "running"  # epochs remain
    FINISHED = "finished"  # the last epoch is done
    STOPPED = "stopped"  # should_stop said so; the epoch may be partial
    DIVERGED = "diverged"  # the loss became NaN/inf


@dataclass(frozen=True)
class EpochSummary:
    """What one epoch did. Accuracies are percentages; losses are means over the set.

    A metric is None when it was not evaluated: a stop skips the evaluation. ``status`` is
    RUNNING while epochs remain, then FINISHED, STOPPED or DIVERGED (``message`` says when).
    """

    epoch: int
    epochs: int
    train_loss: float | None
    train_acc: float | None
    test_loss: float | None
    test_acc: float | None
    seconds: float
    samples_per_s: float
    status: Status = Status.RUNNING
    message: str = ""

    def to_dict(self) -> dict[str, int | float | str | None]:
        return asdict(self)

    def to_json_dict(self) -> dict[str, int | float | str | None]:
        """The fields as strict-JSON values: a NaN or infinite number becomes None (null);
        ``status`` and ``message`` say why. ``json.dumps(d, allow_nan=False)`` accepts it."""
        out: dict[str, int | float | str | None] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float):
                value = value + 0.0 if math.isfinite(value) else None  # + 0.0: never −0.0
            elif isinstance(value, Status):
                value = value.value
            out[f.name] = value
        return out


def train_step(model: Sequential, loss: Loss, optimizer: Optimizer, x: Tensor, y: Tensor) -> None:
    """One step of gradient descent on the batch (X, Y), Y encoded by ``loss.encode``:
    Ŷ = model(X); zero the gradients; model.backward(dL/dŶ) accumulates dL/dθ; update θ."""
    loss.keep(model.forward(x), y)
    optimizer.zero_grad()
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
    optimizer.zero_grad()
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
            train_step(model, loss, optimizer, xb, yb)
            done += xb.shape[-2]
    return done


def evaluate_batches(
    model: Sequential,
    loss: Loss,
    x: Tensor,
    labels: Tensor,
    chunk: int,
    should_stop: StopCheck | None = None,
) -> tuple[Tensor, Tensor] | None:
    """Mean loss and number of correct (argmax) predictions of ``model`` on (X, labels), in
    eval mode, ``chunk`` rows at a time; None if ``should_stop`` (polled before every chunk)
    says stop. No gradient is computed.

    With leading replica axes both results have them too (one loss and count per replica). The
    mean over chunks is Σ_c (n_c / n) L_c, in float64; with one chunk it is L itself.
    """
    n = x.shape[-2]
    if n == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    total: Tensor | None = None
    correct: Tensor | None = None
    model.eval()
    try:
        for xc, lc in zip(torch.split(x, chunk, -2), torch.split(labels, chunk, -1), strict=True):
            if should_stop is not None and should_stop():
                return None
            out = model.forward(xc)
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
    same seed gives the same numbers.
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
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch size must be ≥ 1, got {batch_size}")
        self.model, self.loss, self.optimizer = model, loss, optimizer
        self.train_data, self.test_data = train, test
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.shuffle = Shuffle([self.generator])
        self.epoch = 0
        self.chunk = chunk_rows(model)

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

    def _evaluate(self, data: Dataset, should_stop: StopCheck | None) -> tuple[float, float] | None:
        result = evaluate_batches(self.model, self.loss, data.x, data.y, self.chunk, should_stop)
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
        its metrics are None) or DIVERGED.
        """
        for name, data in (("training", self.train_data), ("test", self.test_data)):
            if len(data) == 0:
                raise ValueError(f"the {name} set is empty: there is nothing to train on")
        last = self.epoch + epochs if total is None else total
        for i in range(epochs):
            t0 = time.perf_counter()
            done = self.train_epoch(should_stop)
            seconds = time.perf_counter() - t0
            completed = done == len(self.train_data)
            train: tuple[float, float] | None = None
            test: tuple[float, float] | None = None
            if completed:
                self.epoch += 1
                train = self._evaluate(self.train_data, should_stop)
                test = self._evaluate(self.test_data, should_stop) if train else None
                if test is None:
                    train = None  # a stop during the evaluation: none of it counts
            status, message = Status.RUNNING, ""
            if not completed:
                status, message = Status.STOPPED, f"stopped during epoch {self.epoch + 1}"
            elif train is None or test is None:
                status = Status.STOPPED
                message = f"stopped after epoch {self.epoch}, before its evaluation"
            elif not math.isfinite(train[0]):
                status = Status.DIVERGED
                message = f"loss became {train[0]} in epoch {self.epoch}: lower the learning rate"
            elif self.epoch >= last:
                status = Status.FINISHED
            yield EpochSummary(
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
            )
            if status != Status.RUNNING or i == epochs - 1:
                return


def _output_width(model: Sequential, x: Tensor) -> int:
    """The width of the model's output: the out_features of its last Linear (the input's
    width if it has none: the other layers keep widths)."""
    widths = [m.out_features for m in model if isinstance(m, Linear)]
    return widths[-1] if widths else x.shape[-1]


class Run:
    """A training run built from a :class:`RunSpec`: model, loss, solver, data and trainer.

    What the CLI and the terminal trainer hold on to: it can train for more epochs, change the
    learning rate mid-run, re-initialise the weights, and predict over a grid.
    """

    def __init__(self, spec: RunSpec) -> None:
        spec.validate()
        self.spec = spec
        self.train_data, self.test_data = build_data(spec)
        self.model = build_model(spec)
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
        )

    @classmethod
    def from_spec(cls, spec: RunSpec) -> Run:
        return cls(spec)

    @classmethod
    def from_checkpoint(cls, path: str | Path) -> Run:
        """The run a checkpoint describes, its model holding the saved weights, at the epoch
        the checkpoint reached (the solver starts fresh)."""
        from .checkpoint import read_checkpoint

        model, info = read_checkpoint(path)
        run = cls(info.spec)
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
        """Fresh weights and dropout masks from the seed, cleared solver state, epoch 0."""
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

    def predict_proba(self, x: Tensor) -> Tensor:
        """P(class 1) for raw inputs in the unit square (centred first if the spec says so).

        Softmax of the outputs for any loss: for MSE-trained outputs it is a monotone read of
        the same argmax decision.
        """
        if self.spec.data.center:
            x = centre_inputs(x)
        self.model.eval()
        out = self.model.forward(x.to(self.train_data.x.device, torch.float32))
        self.model.train()
        return torch.softmax(out, dim=1)[:, 1].cpu()


def train_spec(spec: RunSpec, should_stop: StopCheck | None = None) -> Iterator[EpochSummary]:
    """Build the run for ``spec`` and train it for ``spec.epochs`` epochs."""
    return Run(spec).fit(spec.epochs, should_stop)
