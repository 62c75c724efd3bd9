"""Many seeds of one run, trained together: a leading replica axis through batched products.

Training R seeds one after another repeats every tensor operation R times, and at small batch
sizes each operation costs far more to dispatch than to compute. Here every tensor gains a
leading replica axis r = 1..R instead: weights W ∈ ℝ^{R×out×in}, batches X ∈ ℝ^{R×n×in}, and
each Linear is one batched matrix product (``torch.baddbmm``), so R runs cost about the
dispatches of one. Activations act elementwise and the solvers update elementwise, so the
engine's own ReLU, LeakyReLU, Tanh, Sigmoid, SGD and Adam work on the stacked tensors as they
are; only Linear and the losses need a replica-aware version (a mean per replica, not over all).

Replica r *is* the run ``Run(spec.replace(seed=seeds[r]))``: its initial weights are drawn by
that run's ``build_model``, its train and test sets by that run's ``build_data``, its shuffles by
a generator seeded as that run's Trainer seeds it. Only the arithmetic is batched, so each
replica's numbers equal the lone run's up to float rounding (the tests check it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from .build import build_data, build_model, build_optimizer
from .data import Dataset
from .layers import LeakyReLU, Linear, ReLU, Sigmoid, Tanh
from .losses import one_hot
from .module import Module, Param, Sequential
from .spec import RunSpec

ELEMENTWISE = (ReLU, LeakyReLU, Tanh, Sigmoid)


# Below this many multiply-adds per matrix, torch's batched product (bmm) switches to a plain
# loop kernel that rounds differently from the matrix product (mm) a lone run uses.
TINY_PRODUCT = 400


def _aligned(x: Tensor) -> Tensor:
    """``x`` itself if it starts on a 64-byte boundary, else a fresh (aligned) copy.

    The BLAS kernels for very small products round differently on unaligned rows. A lone run's
    activations are fresh tensors, always aligned; replica r's rows inside a stacked tensor
    start wherever r · rows · width floats lands, so they get the lone run's alignment back.
    """
    return x if x.data_ptr() % 64 == 0 else x.clone()


class ReplicaLinear(Module):
    """R Linear layers side by side; replica r computes S_r = X_r W_rᵀ + b_r.

    Forward:  S = X Wᵀ + b           (batched: X ∈ ℝ^{R×n×in}, W ∈ ℝ^{R×out×in}, b ∈ ℝ^{R×1×out})
    Backward: dL/dW_r += G_rᵀ X_r,   dL/db_r += 1ᵀ G_r,   dL/dX_r = G_r W_r

    Products too small for torch's batched kernel to round as a lone run does (fewer than
    TINY_PRODUCT multiply-adds) are done replica by replica with the lone run's own calls, so
    each replica's numbers stay bit for bit those of its lone run.
    """

    def __init__(self, layers: Sequence[Linear]) -> None:
        self.in_features, self.out_features = layers[0].in_features, layers[0].out_features
        self.weight = torch.stack([m.weight for m in layers])
        self.bias = torch.stack([m.bias for m in layers]).unsqueeze(1)
        self.grad_weight = torch.zeros_like(self.weight)
        self.grad_bias = torch.zeros_like(self.bias)
        self._x: Tensor | None = None
        self._ones = torch.ones(0)

    def forward(self, x: Tensor) -> Tensor:
        self._x = x
        if x.shape[1] * self.in_features * self.out_features < TINY_PRODUCT:
            rows = zip(self.bias, x, self.weight, strict=True)
            return torch.stack([torch.addmm(b[0], _aligned(x_r), w.t()) for b, x_r, w in rows])
        return torch.baddbmm(self.bias, x, self.weight.transpose(1, 2))

    def backward(self, grad_output: Tensor) -> Tensor:
        x = self._saved(self._x)
        # dL/dW: the product runs over the batch rows; dL/dX: over the outputs.
        if x.shape[1] * self.in_features * self.out_features < TINY_PRODUCT:
            for gw, g, x_r in zip(self.grad_weight, grad_output, x, strict=True):
                gw.addmm_(g.t(), x_r)
        else:
            self.grad_weight.baddbmm_(grad_output.transpose(1, 2), x)
        # dL/db_r += 1ᵀ G_r, the same multiply-add as the lone Linear's Gᵀ 1 (same rounding).
        self.grad_bias.baddbmm_(self._ones_like_rows(grad_output), grad_output)
        if x.shape[1] * self.out_features * self.in_features < TINY_PRODUCT:
            return torch.stack([g.mm(w) for g, w in zip(grad_output, self.weight, strict=True)])
        return grad_output.bmm(self.weight)

    def _ones_like_rows(self, g: Tensor) -> Tensor:
        """Ones of shape (R, 1, n) for G of shape (R, n, out), kept between same-size calls."""
        r, n = g.shape[0], g.shape[1]
        if self._ones.shape != (r, 1, n):
            self._ones = torch.ones(r, 1, n, dtype=g.dtype, device=g.device)
        return self._ones

    def param(self) -> list[Param]:
        return [(self.weight, self.grad_weight), (self.bias, self.grad_bias)]

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}"


class ReplicaMSELoss:
    """Per replica L_r = (1/m) Σ (Ŷ_r − Y_r)², m = the elements of one replica's batch;
    dL_r/dŶ_r = 2 (Ŷ_r − Y_r) / m. Targets are one-hot rows (R, n, classes)."""

    def compute(self, output: Tensor, target: Tensor) -> Tensor:
        diff = output - target
        self._grad = diff * (2.0 / diff[0].numel())
        return (diff * diff).mean(dim=(1, 2))

    def backward(self) -> Tensor:
        return self._grad


class ReplicaCrossEntropyLoss:
    """Per replica L_r = −(1/n) Σ_i Σ_j Y_rij log softmax(Z_ri)_j,
    dL_r/dZ_r = (softmax(Z_r) − Y_r) / n. Targets are one-hot rows (R, n, classes)."""

    def compute(self, output: Tensor, target: Tensor) -> Tensor:
        n = output.shape[1]
        log_p = torch.log_softmax(output, dim=2)
        self._grad = (log_p.exp() - target).div_(n)
        return (log_p * target).sum(dim=(1, 2)) / -n

    def backward(self) -> Tensor:
        return self._grad


REPLICA_LOSSES = {"mse": ReplicaMSELoss, "cross-entropy": ReplicaCrossEntropyLoss}


@dataclass(frozen=True)
class ReplicaEpoch:
    """One epoch of every replica: per-replica losses and accuracies (in %), and whether each
    is still finite (a replica that diverged keeps the numbers of the epoch it diverged in,
    as a lone run stops there)."""

    epoch: int
    train_loss: list[float]
    train_acc: list[float]
    test_loss: list[float]
    test_acc: list[float]
    diverged: list[bool]


def replica_support(spec: RunSpec) -> str | None:
    """None if :class:`ReplicaTrainer` can train ``spec``; else why not."""
    for layer in spec.layers:
        if layer.kind in ("dropout", "softmax"):
            return f"{layer.kind} layers are not replica-batched"
    return None


class ReplicaTrainer:
    """Trains ``spec`` once per seed in ``seeds``, all replicas in the same tensor operations.

    After :meth:`fit`, ``history[-1]`` holds each replica's final numbers, equal (up to float
    rounding) to the last :class:`~miniframe.engine.EpochSummary` of
    ``Run(spec.replace(seed=s)).fit()``.
    """

    def __init__(self, spec: RunSpec, seeds: Sequence[int]) -> None:
        why = replica_support(spec)
        if why:
            raise ValueError(f"cannot train replicas of {spec.name!r}: {why}")
        if not seeds:
            raise ValueError("no seeds to train")
        spec.validate()
        self.spec, self.seeds = spec, list(seeds)
        specs = [spec.replace(seed=s) for s in self.seeds]
        models = [build_model(s) for s in specs]  # each replica's own initial draws
        data = [build_data(s) for s in specs]
        self.model = Sequential(*_stack_modules(models))
        self.loss = REPLICA_LOSSES[spec.loss]()
        self.optimizer = build_optimizer(spec, self.model.param())
        self.train_x, self.train_y = _stack([d[0] for d in data])
        self.test_x, self.test_y = _stack([d[1] for d in data])
        self.num_classes = spec.n_classes
        self.generators = [torch.Generator().manual_seed(s) for s in self.seeds]
        self.epoch = 0
        self.diverged = [False] * len(self.seeds)
        self.history: list[ReplicaEpoch] = []

    def _one_hot(self, labels: Tensor) -> Tensor:
        """(R, n) labels → (R, n, classes) one-hot rows."""
        r, n = labels.shape
        return one_hot(labels.reshape(-1), self.num_classes, self.train_x.dtype).view(r, n, -1)

    def train_epoch(self) -> list[bool]:
        """One shuffled pass for every replica; per replica, whether its last loss is finite."""
        model, loss, opt = self.model, self.loss, self.optimizer
        n = self.train_x.shape[1]
        # Replica r's shuffle comes from its own generator, as its lone Trainer draws it.
        perm = torch.stack([torch.randperm(n, generator=g) for g in self.generators])
        perm = perm.to(self.train_x.device)
        rows = torch.arange(len(self.seeds), device=perm.device).unsqueeze(1)
        x_all = self.train_x[rows, perm]
        y_all = self._one_hot(self.train_y[rows, perm])
        b = self.spec.batch_size
        for x, y in zip(x_all.split(b, dim=1), y_all.split(b, dim=1), strict=True):
            value = loss.compute(model.forward(x), y)
            opt.zero_grad()
            model.backward(loss.backward())
            opt.step()
        return [math.isfinite(v) for v in value.tolist()]

    def evaluate(self, x: Tensor, labels: Tensor) -> tuple[list[float], list[float]]:
        """Per replica (mean loss, accuracy in %) on stacked inputs (R, n, 2) and labels (R, n)."""
        self.model.eval()
        out = self.model.forward(x)
        value = self.loss.compute(out, self._one_hot(labels))
        correct = (out.argmax(dim=2) == labels).sum(dim=1)
        self.model.train()
        n = labels.shape[1]
        return value.tolist(), [100.0 * c / n for c in correct.tolist()]

    def fit(self, epochs: int | None = None) -> list[ReplicaEpoch]:
        """Train every replica for ``epochs`` (default: the spec's); returns the history."""
        epochs = self.spec.epochs if epochs is None else epochs
        for _ in range(epochs):
            if all(self.diverged):
                break
            finite = self.train_epoch()
            self.epoch += 1
            tr_loss, tr_acc = self.evaluate(self.train_x, self.train_y)
            te_loss, te_acc = self.evaluate(self.test_x, self.test_y)
            prev = self.history[-1] if self.history else None
            now = ReplicaEpoch(self.epoch, tr_loss, tr_acc, te_loss, te_acc, list(self.diverged))
            for r in range(len(self.seeds)):
                if self.diverged[r] and prev is not None:  # frozen where its lone run stopped
                    for name in ("train_loss", "train_acc", "test_loss", "test_acc"):
                        getattr(now, name)[r] = getattr(prev, name)[r]
                elif not (finite[r] and math.isfinite(tr_loss[r])):
                    self.diverged[r] = now.diverged[r] = True
            self.history.append(now)
        return self.history

    def final(self) -> list[tuple[float, float]]:
        """Each replica's last (train accuracy, test accuracy), in %."""
        last = self.history[-1]
        return list(zip(last.train_acc, last.test_acc, strict=True))


def _stack_modules(models: list[Sequential]) -> list[Module]:
    """Replica r's modules, position by position, as one module over all replicas."""
    stacked: list[Module] = []
    for column in zip(*models, strict=True):
        first = column[0]
        if isinstance(first, Linear):
            stacked.append(ReplicaLinear(column))  # type: ignore[arg-type]
        elif isinstance(first, ELEMENTWISE):
            stacked.append(first)  # elementwise: the same module serves every replica
        else:
            raise ValueError(f"{type(first).__name__} layers are not replica-batched")
    return stacked


def _stack(sets: list[Dataset]) -> tuple[Tensor, Tensor]:
    return torch.stack([d.x for d in sets]), torch.stack([d.y for d in sets])
