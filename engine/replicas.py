"""Many seeds of one run, trained together: a leading replica axis through batched products.

Training R seeds one after another repeats every tensor operation R times, and at small batch
sizes each operation costs far more to dispatch than to compute. Here every tensor gains a
leading replica axis r = 1..R instead: weights W ∈ ℝ^{R×out×in}, batches X ∈ ℝ^{R×n×in}, and
each Linear's product is one batched matrix product (``torch.baddbmm``), so R runs cost about
the dispatches of one. Everything else is the lone run's own code: the activations act on the
last axis, the losses reduce over the last two (one loss per replica), the solvers update
elementwise, and the training and evaluation steps are :mod:`.train`'s. Only Linear needs a
replica form, :class:`ReplicaLinear`, which is Linear with batched products.

Replica r *is* the run ``Run(spec.replace(seed=seeds[r]))``: its initial weights are drawn by
that run's ``build_model``, its train and test sets by that run's ``build_data``, its shuffles by
a generator seeded as that run's Trainer seeds it. Only the arithmetic is batched, so each
replica's numbers equal the lone run's up to float rounding (the default: throughput first).
With ``exact=True`` the products are arranged to round as the lone run's do, so a replica is
bit for bit its lone run (checked for the vanilla preset over 200 epochs), at some speed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from . import layers
from .build import build_data, build_loss, build_model, build_optimizer
from .layers import Linear
from .module import Module, Sequential
from .registry import LAYERS
from .spec import RunSpec
from .train import Shuffle, StopCheck, chunk_rows, evaluate_batches, train_batches

# Layers that act on the last axis alone: one module serves every replica as it is.
ROW_WISE = tuple(getattr(layers, k.engine_class) for k in LAYERS.values() if k.row_wise)

# Exact mode: below this many multiply-adds per matrix, torch's batched product (bmm) switches
# to a plain loop kernel that rounds differently from the matrix product (mm) a lone run uses.
TINY_PRODUCT = 400


class ReplicaLinear(Linear):
    """R Linear layers side by side: Linear's equations for every replica r at once,

    Forward:  S_r = X_r W_rᵀ + b_r
    Backward: dL/dW_r += G_rᵀ X_r,   dL/db_r += 1ᵀ G_r,   dL/dX_r = G_r W_r

    with X (R, n, in), W (R, out, in), b (R, 1, out) and each product one batched call.
    ``exact``: products small enough to round differently go through :meth:`_as_lone_runs`.
    """

    def __init__(self, layers: Sequence[Linear], exact: bool = False) -> None:
        first = layers[0]
        self.in_features, self.out_features = first.in_features, first.out_features
        self.init, self.exact = first.init, exact
        self.weight = torch.stack([m.weight for m in layers])
        self.bias = torch.stack([m.bias for m in layers]).unsqueeze(1)
        self.grad_weight = torch.zeros_like(self.weight)
        self.grad_bias = torch.zeros_like(self.bias)
        self._x: Tensor | None = None
        self._ones = torch.ones(0, dtype=self.weight.dtype, device=self.weight.device)

    def forward(self, x: Tensor) -> Tensor:
        self._x = x
        if self.exact and self._tiny(x):
            return self._as_lone_runs(x)
        return torch.baddbmm(self.bias, x, self.weight.mT)

    def backward(self, grad_output: Tensor) -> Tensor:
        x = self._saved(self._x)
        if self.exact and self._tiny(x):
            return self._as_lone_runs(x, grad_output)
        self.grad_weight.baddbmm_(grad_output.mT, x)
        self.grad_bias.baddbmm_(self._ones_like_rows(grad_output), grad_output)
        return grad_output.bmm(self.weight)

    def _tiny(self, x: Tensor) -> bool:
        """Whether this batch's products (n · in · out multiply-adds each) are below
        TINY_PRODUCT."""
        return x.shape[1] * self.in_features * self.out_features < TINY_PRODUCT

    def _as_lone_runs(self, x: Tensor, grad_output: Tensor | None = None) -> Tensor:
        """Exact mode's tiny products: replica by replica with the lone Linear's own calls
        (forward without ``grad_output``, backward with it), so each rounds as its lone run.

        The small-product BLAS kernels also round differently on unaligned rows: a lone run's
        activations are fresh tensors, always aligned, while replica r's rows inside a stacked
        tensor start wherever r · rows · width floats lands, so they are copied first.
        """
        if grad_output is None:
            rows = zip(self.bias, x, self.weight, strict=True)
            return torch.stack([torch.addmm(b[0], _aligned(x_r), w.t()) for b, x_r, w in rows])
        for gw, g, x_r in zip(self.grad_weight, grad_output, x, strict=True):
            gw.addmm_(g.t(), x_r)
        # 1ᵀ G_r as one batched multiply-add rounds as the lone Linear's Gᵀ 1 does.
        self.grad_bias.baddbmm_(self._ones_like_rows(grad_output), grad_output)
        return torch.stack([g.mm(w) for g, w in zip(grad_output, self.weight, strict=True)])

    def _ones_like_rows(self, g: Tensor) -> Tensor:
        """Ones of shape (R, 1, n) for G of shape (R, n, out), kept between same-size calls."""
        r, n = g.shape[0], g.shape[1]
        if self._ones.shape != (r, 1, n) or self._ones.device != g.device:
            self._ones = torch.ones(r, 1, n, dtype=g.dtype, device=g.device)
        return self._ones

    def extra_repr(self) -> str:
        return f"{self.weight.shape[0]} × ({self.in_features}, {self.out_features})"


def _aligned(x: Tensor) -> Tensor:
    """``x`` itself if it starts on a 64-byte boundary, else a fresh (aligned) copy."""
    return x if x.data_ptr() % 64 == 0 else x.clone()


@dataclass(frozen=True)
class ReplicaEpoch:
    """One epoch of every replica: per-replica losses and accuracies (in %), and whether each
    has diverged (a replica that diverged keeps the numbers of the epoch it diverged in, as a
    lone run stops there)."""

    epoch: int
    train_loss: list[float]
    train_acc: list[float]
    test_loss: list[float]
    test_acc: list[float]
    diverged: list[bool]


def replica_support(spec: RunSpec) -> str | None:
    """None if :class:`ReplicaTrainer` can train ``spec``; else why not."""
    for layer in spec.layers:
        kind = LAYERS[layer.kind]
        if not (kind.has_weights or kind.row_wise):  # e.g. Dropout: one mask stream per replica
            return f"{kind.title} layers are not replica-batched"
    return None


class ReplicaTrainer:
    """Trains ``spec`` once per seed in ``seeds``, all replicas in the same tensor operations.

    After :meth:`fit`, ``history[-1]`` holds each replica's final numbers, equal (up to float
    rounding; bit for bit with ``exact=True``) to the last
    :class:`~miniframe.engine.EpochSummary` of ``Run(spec.replace(seed=s)).fit()``.
    """

    def __init__(self, spec: RunSpec, seeds: Sequence[int], exact: bool = False) -> None:
        why = replica_support(spec)
        if why:
            raise ValueError(f"cannot train replicas of {spec.name!r}: {why}")
        if not seeds:
            raise ValueError("no seeds to train")
        spec.validate()
        self.spec, self.seeds, self.exact = spec, list(seeds), exact
        specs = [spec.replace(seed=s) for s in self.seeds]
        models = [build_model(s) for s in specs]  # each replica's own initial draws
        data = [build_data(s) for s in specs]
        self.model = Sequential(*_stack_modules(models, exact))
        self.loss = build_loss(spec)  # the lone run's loss: one value per replica
        self.optimizer = build_optimizer(spec, self.model.param())
        self.train_x = torch.stack([train.x for train, _ in data])
        self.train_y = torch.stack([train.y for train, _ in data])
        self.test_x = torch.stack([test.x for _, test in data])
        self.test_y = torch.stack([test.y for _, test in data])
        self.shuffle = Shuffle([torch.Generator().manual_seed(s) for s in self.seeds])
        self.chunk = chunk_rows(self.model)
        self.epoch = 0
        self.diverged = [False] * len(self.seeds)
        self.history: list[ReplicaEpoch] = []

    def train_epoch(self, should_stop: StopCheck | None = None) -> bool:
        """One shuffled pass for every replica; False if ``should_stop`` ended it early."""
        n = self.train_x.shape[1]
        # Replica r's order comes from its own generator, as its lone Trainer draws it.
        order = self.shuffle.draw(n, should_stop)
        if order is None:
            return False
        x, labels, order = self.train_x, self.train_y, order.to(self.train_x.device)
        model, loss, opt, b = self.model, self.loss, self.optimizer, self.spec.batch_size
        return train_batches(model, loss, opt, x, labels, order, b, should_stop, self.chunk) == n

    def evaluate(self, x: Tensor, labels: Tensor) -> tuple[list[float], list[float]]:
        """Per replica (mean loss, accuracy in %) on stacked inputs (R, n, 2) and labels (R, n)."""
        result = self._evaluate(x, labels, None)
        assert result is not None  # only a should_stop can interrupt it
        return result

    def _evaluate(
        self, x: Tensor, labels: Tensor, should_stop: StopCheck | None
    ) -> tuple[list[float], list[float]] | None:
        result = evaluate_batches(self.model, self.loss, x, labels, self.chunk, should_stop)
        if result is None:
            return None
        value, correct = result
        n = labels.shape[-1]
        return value.tolist(), [100.0 * c / n for c in correct.tolist()]

    def fit(
        self, epochs: int | None = None, should_stop: StopCheck | None = None
    ) -> list[ReplicaEpoch]:
        """Train every replica for ``epochs`` (default: the spec's); returns the history.
        A stop (``should_stop``) ends it after the last fully evaluated epoch."""
        epochs = self.spec.epochs if epochs is None else epochs
        for _ in range(epochs):
            if all(self.diverged) or not self.train_epoch(should_stop):
                break
            self.epoch += 1
            train = self._evaluate(self.train_x, self.train_y, should_stop)
            test = self._evaluate(self.test_x, self.test_y, should_stop) if train else None
            if train is None or test is None:
                break
            prev = self.history[-1] if self.history else None
            now = ReplicaEpoch(self.epoch, train[0], train[1], test[0], test[1], diverged=[])
            for r in range(len(self.seeds)):
                if self.diverged[r] and prev is not None:  # frozen where its lone run stopped
                    for name in ("train_loss", "train_acc", "test_loss", "test_acc"):
                        getattr(now, name)[r] = getattr(prev, name)[r]
                elif not math.isfinite(now.train_loss[r]):
                    self.diverged[r] = True
            now.diverged.extend(self.diverged)
            self.history.append(now)
        return self.history

    def final(self) -> list[tuple[float, float]]:
        """Each replica's last (train accuracy, test accuracy), in %."""
        last = self.history[-1]
        return list(zip(last.train_acc, last.test_acc, strict=True))


def _stack_modules(models: list[Sequential], exact: bool) -> list[Module]:
    """Replica r's modules, position by position, as one module over all replicas."""
    stacked: list[Module] = []
    for column in zip(*models, strict=True):
        first = column[0]
        linears = [m for m in column if isinstance(m, Linear)]
        if len(linears) == len(column):
            stacked.append(ReplicaLinear(linears, exact))
        elif isinstance(first, ROW_WISE):
            stacked.append(first)  # acts on the last axis: the same module serves every replica
        else:
            raise ValueError(f"{type(first).__name__} layers are not replica-batched")
    return stacked
