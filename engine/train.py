"""The training loop: one :class:`EpochSummary` per epoch, yielded to whoever consumes it.

The loop knows nothing about screens. A CLI prints the summaries, a test asserts on them, the
terminal trainer's worker thread posts them to the UI. Stopping is cooperative: ``should_stop``
is polled before every batch; pausing is simply not asking for the next epoch.

One step on a mini-batch (X, y):  Ŷ = model(X);  L = loss(Ŷ, y);  zero the gradients;
model.backward(dL/dŶ) accumulates dL/dθ;  the solver updates θ.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor

from .build import build_data, build_loss, build_model, build_optimizer
from .data import Dataset, centre_inputs
from .losses import Loss
from .module import Sequential
from .optim import Optimizer
from .spec import RunSpec

StopCheck = Callable[[], bool]


@dataclass(frozen=True)
class EpochSummary:
    """What one epoch did. Accuracies are percentages; losses are means over the set.

    ``status`` is "running" while epochs remain, then "finished", "stopped" (``should_stop``
    said so; the epoch may be partial) or "diverged" (the loss became NaN/inf; ``message``
    says when).
    """

    epoch: int
    epochs: int
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float
    seconds: float
    samples_per_s: float
    status: str = "running"
    message: str = ""

    def to_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


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
        self.epoch = 0

    def train_epoch(self, should_stop: StopCheck | None = None) -> tuple[bool, bool]:
        """One pass over the shuffled training set. Returns (completed, finite)."""
        model, loss, opt = self.model, self.loss, self.optimizer
        model.train()
        x_all, y_all = self.train_data.x, self.train_data.y
        perm = torch.randperm(len(self.train_data), generator=self.generator)
        perm = perm.to(x_all.device)
        x_all, y_all = x_all[perm], y_all[perm]
        # Per epoch, not per batch: check and encode the labels (one-hot rows) once, and cut
        # the shuffled set into batches (views, no copies) in one call.
        k = _output_width(model)
        if k is not None:
            y_all, step_loss = loss.encode(y_all, k, x_all.dtype), loss.compute
        else:
            step_loss = loss.forward
        b = self.batch_size
        for x, y in zip(x_all.split(b), y_all.split(b), strict=True):
            if should_stop is not None and should_stop():
                return False, True
            value = step_loss(model.forward(x), y)
            opt.zero_grad()
            model.backward(loss.backward())
            opt.step()
        # One host sync per epoch, not per batch: the last batch's loss tells divergence,
        # and NaN weights propagate into it.
        return True, math.isfinite(float(value))

    def evaluate(self, data: Dataset) -> tuple[float, float]:
        """(mean loss, accuracy in %) of the model on ``data``, in eval mode."""
        self.model.eval()
        out = self.model.forward(data.x)
        value = float(self.loss.forward(out, data.y))
        acc = 100.0 * int((out.argmax(dim=1) == data.y).sum()) / len(data)
        self.model.train()
        return value, acc

    def fit(
        self, epochs: int, should_stop: StopCheck | None = None, total: int | None = None
    ) -> Iterator[EpochSummary]:
        """Train up to ``epochs`` more epochs, yielding a summary after each.

        Summaries count against ``total`` epochs (default: those done plus ``epochs``); the
        one that reaches it says "finished". A run that stops early ends "stopped" or
        "diverged".
        """
        last = self.epoch + epochs if total is None else total
        for i in range(epochs):
            t0 = time.perf_counter()
            completed, finite = self.train_epoch(should_stop)
            seconds = time.perf_counter() - t0
            if completed:
                self.epoch += 1
            tr_loss, tr_acc = self.evaluate(self.train_data)
            te_loss, te_acc = self.evaluate(self.test_data)
            status, message = "running", ""
            if not (finite and math.isfinite(tr_loss)):
                status = "diverged"
                message = (
                    f"loss became {tr_loss if not math.isfinite(tr_loss) else 'NaN/inf'} "
                    f"in epoch {self.epoch}: lower the learning rate"
                )
            elif not completed:
                status, message = "stopped", f"stopped during epoch {self.epoch + 1}"
            elif self.epoch >= last:
                status = "finished"
            yield EpochSummary(
                epoch=self.epoch,
                epochs=last,
                train_loss=tr_loss,
                train_acc=tr_acc,
                test_loss=te_loss,
                test_acc=te_acc,
                seconds=seconds,
                samples_per_s=len(self.train_data) / seconds if seconds > 0 else 0.0,
                status=status,
                message=message,
            )
            if status != "running" or i == epochs - 1:
                return


def _output_width(model: Sequential) -> int | None:
    """The width of the model's output: the out_features of its last Linear (None if none)."""
    widths = [m.out_features for m in model if hasattr(m, "out_features")]
    return widths[-1] if widths else None


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
