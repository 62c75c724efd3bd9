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

Three things only throughput mode does, because many replicas are bound by arithmetic and
memory traffic where a lone run is bound by dispatches: it flushes denormal floats to zero while
it computes (:mod:`.denormals`: a saturated network's gradients are full of them, and each costs
a microcode assist; ~40 % of ten deep replicas' epoch), a backward after ``zero_grad`` writes
the gradients instead of adding them to zeroed buffers (one pass less over R × the weights per
step), and evaluation goes in cache-sized chunks. As everywhere in the engine, modules compute
gradients and the solver steps. :meth:`ReplicaTrainer.fit` yields a
:class:`ReplicaEpoch` per epoch: every seed's numbers, and per metric a :class:`Band` (mean, std,
min, max, worst seed) for charts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

from . import layers
from .build import build_data, build_loss, build_model, build_optimizer
from .data import centre_inputs
from .denormals import flushing_denormals
from .layers import Linear
from .module import Module, Sequential
from .registry import LAYERS, LIMITS
from .results import METRICS, Status
from .results import Band as Band  # re-exported: the replica epoch's types lived here
from .results import ReplicaEpoch as ReplicaEpoch
from .spec import RunSpec
from .train import (
    Shuffle,
    StopCheck,
    chunk_rows,
    evaluate_batches,
    train_batches,
)

# Layers that act on the last axis alone: one module serves every replica as it is.
ROW_WISE = tuple(getattr(layers, k.engine_class) for k in LAYERS.values() if k.row_wise)

# Exact mode: below this many multiply-adds per matrix, torch's batched product (bmm) switches
# to a plain loop kernel that rounds differently from the matrix product (mm) a lone run uses.
TINY_PRODUCT = 400

# Throughput mode evaluates in chunks whose widest activation, over all replicas, holds at most
# this many values (1 MiB of float32): about what stays in a core's L2 cache.
EVAL_FLOATS = 2**18


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
        self._write_grads = False  # throughput mode: the next backward writes, not adds

    def zero_grad(self) -> None:
        """Exact mode: zero the gradients now. Throughput mode: the next backward *writes*
        dL/dW and dL/db instead of adding them to zeros: with R replicas the buffers are R
        times a lone run's, and the pass that zeroes them (then reads them back to add) costs
        ~10 % of a deep preset's epoch at K = 10. Only a backward may follow (as in a training
        step): the buffers hold the last step's gradients until it does."""
        if self.exact:
            super().zero_grad()
        else:
            self._write_grads = True

    def forward(self, x: Tensor) -> Tensor:
        self._x = x
        if self.exact and self._tiny(x):
            return self._as_lone_runs(x)
        return torch.baddbmm(self.bias, x, self.weight.mT)

    def backward(self, grad_output: Tensor) -> Tensor:
        x = self._saved(self._x)
        if self.exact and self._tiny(x):
            return self._as_lone_runs(x, grad_output)
        if self._write_grads:
            self._write_grads = False
            torch.bmm(grad_output.mT, x, out=self.grad_weight)
            torch.sum(grad_output, dim=1, keepdim=True, out=self.grad_bias)
        else:
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


def replica_support(spec: RunSpec) -> str | None:
    """None if :class:`ReplicaTrainer` can train ``spec``; else why not."""
    for layer in spec.layers:
        kind = LAYERS[layer.kind]
        if not (kind.has_weights or kind.row_wise):  # e.g. Dropout: one mask stream per replica
            return f"{kind.title} layers are not replica-batched"
    stop = spec.stop
    if stop.target_acc is not None or stop.patience is not None or stop.restore_best:
        # Each seed would end (and restore its best weights) at its own epoch: lone runs do.
        return "stop conditions end each seed at its own epoch"
    if spec.data.validation_fraction:
        return "a validation split is not replica-batched"
    return None


class ReplicaTrainer:
    """Trains ``spec`` once per seed in ``seeds`` (1 to ``LIMITS.max_replicas``), all replicas in
    the same tensor operations.

    :meth:`fit` yields one :class:`ReplicaEpoch` per epoch, as ``Trainer.fit`` yields
    :class:`~miniframe.engine.EpochSummary`: replica r's numbers equal (up to float rounding;
    bit for bit with ``exact=True``) those of ``Run(spec.replace(seed=seeds[r])).fit()``.
    ``history`` keeps the evaluated epochs; :meth:`final` each replica's last accuracies.
    """

    def __init__(self, spec: RunSpec, seeds: Sequence[int], exact: bool = False) -> None:
        why = replica_support(spec)
        if why:
            raise ValueError(f"cannot train replicas of {spec.name!r}: {why}")
        if not seeds:
            raise ValueError("no seeds to train")
        if len(seeds) > LIMITS.max_replicas:
            raise ValueError(
                f"{len(seeds)} replicas: at most {LIMITS.max_replicas} train together "
                "(split the seeds into groups)"
            )
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
        # Evaluation passes all R × n rows at once: in throughput mode, in chunks whose widest
        # activation stays cache-sized (exact mode keeps the lone run's chunks).
        self.eval_chunk = self.chunk if exact else min(self.chunk, _cache_rows(self.model))
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
        with flushing_denormals(not self.exact):
            done = train_batches(model, loss, opt, x, labels, order, b, should_stop, self.chunk)
        return done == n

    def evaluate(self, x: Tensor, labels: Tensor) -> tuple[list[float], list[float]]:
        """Per replica (mean loss, accuracy in %) on stacked inputs (R, n, 2) and labels (R, n)."""
        result = self._evaluate(x, labels, None)
        assert result is not None  # only a should_stop can interrupt it
        return result

    def _evaluate(
        self, x: Tensor, labels: Tensor, should_stop: StopCheck | None
    ) -> tuple[list[float], list[float]] | None:
        with flushing_denormals(not self.exact):
            result = evaluate_batches(
                self.model, self.loss, x, labels, self.eval_chunk, should_stop
            )
        if result is None:
            return None
        value, correct = result
        n = labels.shape[-1]
        return value.tolist(), [100.0 * c / n for c in correct.tolist()]

    def fit(
        self,
        epochs: int | None = None,
        should_stop: StopCheck | None = None,
        total: int | None = None,
    ) -> Iterator[ReplicaEpoch]:
        """Train every replica up to ``epochs`` more epochs (default: the spec's, less those
        done), yielding a :class:`ReplicaEpoch` after each.

        Epochs count against ``total`` (default: those done plus ``epochs``); the one that
        reaches it says FINISHED. ``should_stop`` is polled as ``Trainer.fit`` polls it; a stop
        yields a last STOPPED epoch without metrics (``history`` keeps the evaluated ones). When
        every replica has diverged the last epoch says DIVERGED.
        """
        if epochs is None:
            epochs = max(self.spec.epochs - self.epoch, 0)
        last = self.epoch + epochs if total is None else total
        rows = self.train_x.shape[0] * self.train_x.shape[1]
        for i in range(epochs):
            t0 = time.perf_counter()
            completed = self.train_epoch(should_stop)
            seconds = time.perf_counter() - t0
            train = test = None
            if completed:
                self.epoch += 1
                train = self._evaluate(self.train_x, self.train_y, should_stop)
                test = self._evaluate(self.test_x, self.test_y, should_stop) if train else None
            if train is None or test is None:
                when = f"during epoch {self.epoch + 1}" if not completed else (
                    f"after epoch {self.epoch}, before its evaluation")  # fmt: skip
                yield self._epoch(last, None, None, seconds, 0, Status.STOPPED, f"stopped {when}")
                return
            now = self._epoch(last, train, test, seconds, rows, Status.RUNNING, "")
            self.history.append(now)
            yield now
            if now.status != Status.RUNNING or i == epochs - 1:
                return

    def _epoch(
        self,
        last: int,
        train: tuple[list[float], list[float]] | None,
        test: tuple[list[float], list[float]] | None,
        seconds: float,
        rows: int,
        status: Status,
        message: str,
    ) -> ReplicaEpoch:
        """The epoch's record: a replica that diverged before keeps its numbers (frozen where
        its lone run stopped); one that diverges now is marked. Status from what happened."""
        metrics: dict[str, list[float] | None] = dict.fromkeys(METRICS)
        if train is not None and test is not None:
            metrics = dict(zip(METRICS, (train[0], train[1], test[0], test[1]), strict=True))
            prev = self.history[-1] if self.history else None
            for r in range(len(self.seeds)):
                if self.diverged[r] and prev is not None:
                    for name in METRICS:
                        now, before = metrics[name], prev.values(name)
                        assert now is not None and before is not None
                        now[r] = before[r]
                elif not math.isfinite(train[0][r]):
                    self.diverged[r] = True
                    message = _join(message, f"seed {self.seeds[r]} diverged in epoch {self.epoch}")
            if all(self.diverged):
                status = Status.DIVERGED
                message = _join(message, "every seed diverged: lower the learning rate")
            elif self.epoch >= last:
                status = Status.FINISHED
        return ReplicaEpoch(
            epoch=self.epoch,
            epochs=last,
            seeds=tuple(self.seeds),
            diverged=list(self.diverged),
            seconds=seconds,
            samples_per_s=rows / seconds if seconds > 0 else 0.0,
            status=status,
            message=message,
            **metrics,
        )

    def replica_model(self, r: int) -> Sequential:
        """Replica r as a lone network: Linear layers whose weights are views of replica r's
        (so it always holds the current weights), the row-wise layers shared. For what one
        seed alone is asked: its decision map, its layers' activations."""
        lone: list[Module] = []
        for m in self.model:
            if isinstance(m, ReplicaLinear):
                view = Linear(m.in_features, m.out_features, m.init, device=m.weight.device)
                view.weight, view.bias = m.weight[r], m.bias[r, 0]
                lone.append(view)
            else:
                lone.append(m)
        return Sequential(*lone)

    def predict_proba(self, x: Tensor, r: int = 0) -> Tensor:
        """P(class 1) of replica r for raw inputs, as ``Run.predict_proba`` (centred first if
        the spec says so; softmax of the outputs)."""
        if self.spec.data.center:
            x = centre_inputs(x)
        model = self.replica_model(r)
        model.eval()
        try:
            out = model.forward(x.to(self.train_x.device, torch.float32))
        finally:
            self.model.train()
        return torch.softmax(out, dim=-1)[:, 1].cpu()

    def final(self) -> list[tuple[float, float]]:
        """Each replica's last evaluated (train accuracy, test accuracy), in %."""
        last = self.history[-1]
        assert last.train_acc is not None and last.test_acc is not None
        return list(zip(last.train_acc, last.test_acc, strict=True))


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def _cache_rows(model: Sequential) -> int:
    """Rows per evaluation chunk such that the widest activation over all replicas holds at most
    EVAL_FLOATS values: bigger chunks only spill the cache (measured on the deep preset, 10
    replicas: evaluating both sets took 44 ms in one chunk, 30 ms in chunks of 250 rows)."""
    linears = [m for m in model if isinstance(m, Linear)]
    if not linears:
        return EVAL_FLOATS
    widest = max(m.weight.numel() // m.in_features for m in linears)  # out_features × replicas
    return max(1, EVAL_FLOATS // widest)


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
