"""`miniframe bench`: the engine against torch.nn + autograd + torch.optim, measured.

For each preset and batch size, three trainers start from the same initial weights and walk
the same shuffled data in the same order with the same hyperparameters:

- **engine**: :class:`miniframe.engine.Run`, its real layers, loss, solver and training loop;
- **torch**: ``torch.nn.Sequential`` of ``nn.Linear`` and activations, ``nn.MSELoss`` or
  ``nn.CrossEntropyLoss``, ``loss.backward()`` (autograd) and ``torch.optim.SGD``/``Adam``;
- **bare**: the engine's tensor operations written out as one plain loop, no modules, no
  framework: the floor the engine's Python structure is measured against.

Epochs are timed interleaved (engine, torch, bare, in a rotating order) after a warm-up, and
the median is reported. At the end all three must hold the same weights (float tolerance):
the comparison is of the same work. This module lives outside ``miniframe.engine`` because it
imports torch.nn, which the engine never does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import functools
import gc
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from miniframe.engine import (
    LAYERS,
    LOSSES,
    SOLVERS,
    Dataset,
    Linear,
    Run,
    RunSpec,
    build_data,
    build_model,
    load_preset,
    plural,
)
from miniframe.progress import ProgressCallback, Tally
from miniframe.sweep.task import epoch_cost

SIDES = ("engine", "torch", "bare")
# The weight check trains one epoch per side in float64, from the same start: the deep preset
# (N(0,1) weights, logits near 1e4) amplifies float32 rounding differences, such as autograd
# summing in another order, into visibly different weights within an epoch, while in float64
# they stay far below this tolerance. Same work, same weights; then it is timed in float32.
WEIGHT_RTOL, WEIGHT_ATOL = 1e-6, 1e-6


class BenchError(ValueError):
    """A spec the benchmark cannot compare fairly; the message says why."""


# ---- the three trainers --------------------------------------------------------------------
class EngineSide:
    """The engine as a user runs it: ``Run(spec)``, one ``Trainer.train_epoch()`` per epoch."""

    def __init__(self, spec: RunSpec, dtype: torch.dtype = torch.float32) -> None:
        self.run = Run(spec)
        if dtype != torch.float32:  # the same tensors (the solver holds them), recast
            for p, grad in self.run.model.param():
                p.data, grad.data = p.data.to(dtype), grad.data.to(dtype)
            # The solver's state was made for float32 parameters (Adam's moments: lerp_ then
            # mixes dtypes and fails); start it again for the recast ones.
            self.run.optimizer.reset_state()
            data = self.run.trainer.train_data
            self.run.trainer.train_data = Dataset(data.x.to(dtype), data.y)

    def train_epoch(self) -> None:
        self.run.trainer.train_epoch()

    def weights(self) -> list[torch.Tensor]:
        return [p for p, _ in self.run.model.param()]


class TorchSide:
    """The same network in torch.nn, trained with autograd and torch.optim: each layer, loss
    and solver is the torch class its registry entry names, given the same settings."""

    def __init__(self, spec: RunSpec, dtype: torch.dtype = torch.float32) -> None:
        import torch.nn as nn

        start = build_model(spec)  # the engine's initial weights: same seed, same draws
        train, _ = build_data(spec)
        mods: list[nn.Module] = []
        for layer, m in zip(spec.layers, start, strict=True):
            kind = LAYERS[layer.kind]
            if kind.has_weights:
                assert isinstance(m, Linear)
                lin = nn.Linear(m.in_features, m.out_features)
                with torch.no_grad():
                    lin.weight.copy_(m.weight)
                    lin.bias.copy_(m.bias)
                mods.append(lin)
            else:
                cls = getattr(nn, kind.torch_class)
                mods.append(cls(**layer.params(), **dict(kind.torch_kwargs)))
        self.net = nn.Sequential(*mods).to(dtype)
        self.x = train.x.to(dtype)
        loss = LOSSES[spec.loss]
        self.loss_fn: nn.Module = getattr(nn, loss.torch_class)()
        if loss.one_hot_target:
            self.y = nn.functional.one_hot(train.y, spec.n_classes).to(dtype)
        else:
            self.y = train.y
        solver = SOLVERS[spec.solver.name]
        settings: dict[str, Any] = {k: getattr(spec.solver, k) for k in solver.settings}
        if "betas" in settings:
            settings["betas"] = tuple(settings["betas"])
        self.opt: torch.optim.Optimizer = getattr(torch.optim, solver.torch_class)(
            self.net.parameters(), **settings
        )
        self.batch_size = spec.batch_size
        self.generator = torch.Generator().manual_seed(spec.seed)  # the Trainer's shuffles

    def train_epoch(self) -> None:
        perm = torch.randperm(len(self.x), generator=self.generator)
        xs, ys = self.x[perm], self.y[perm]
        for x, y in zip(xs.split(self.batch_size), ys.split(self.batch_size), strict=True):
            loss = self.loss_fn(self.net(x), y)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()

    def weights(self) -> list[torch.Tensor]:
        return [p.detach() for p in self.net.parameters()]


class BareSide:
    """The engine's tensor operations as one hand-written loop: lists of weights, no modules,
    no checks, no method calls. Plain SGD; Linear, ReLU and LeakyReLU (slope ≤ 1) layers.

    It mirrors the engine's kernels call for call (Linear's addmm/addmv, the losses' gradient
    without their value, the solver's foreach update); keep it in step when they change.
    """

    def __init__(self, spec: RunSpec, dtype: torch.dtype = torch.float32) -> None:
        s = spec.solver
        if s.name != "sgd" or s.momentum or s.weight_decay:
            raise ValueError("the bare loop does plain SGD only")
        start = build_model(spec)
        train, _ = build_data(spec)
        self.W = [m.weight.to(dtype) for m in start if hasattr(m, "weight")]
        self.b = [m.bias.to(dtype) for m in start if hasattr(m, "bias")]
        self.gW = [torch.zeros_like(w) for w in self.W]
        self.gb = [torch.zeros_like(b) for b in self.b]
        self.params, self.grads = self.W + self.b, self.gW + self.gb
        acts = [layer for layer in spec.layers if layer.kind != "linear"]
        kinds = [layer.kind for layer in spec.layers]
        expected = ["linear", acts[0].kind if acts else ""] * (len(self.W) - 1) + ["linear"]
        if kinds != expected or any(
            a.kind not in ("relu", "leaky_relu") or a.negative_slope > 1 for a in acts
        ):
            raise ValueError("the bare loop needs Linear/activation pairs, then a Linear")
        self.relu = bool(acts) and acts[0].kind == "relu"
        self.slope = acts[0].negative_slope if acts else 0.0
        self.mse = spec.loss == "mse"
        self.x = train.x.to(dtype)
        self.y = torch.nn.functional.one_hot(train.y, spec.n_classes).to(dtype)
        self.lr, self.batch_size = s.lr, spec.batch_size
        self.generator = torch.Generator().manual_seed(spec.seed)

    def train_epoch(self) -> None:
        W, b, gW, gb = self.W, self.b, self.gW, self.gb
        last, a = len(W) - 1, self.slope
        perm = torch.randperm(len(self.x), generator=self.generator)
        xs, ys = self.x[perm], self.y[perm]
        ones = torch.ones(0, dtype=self.x.dtype)
        for x, y in zip(xs.split(self.batch_size), ys.split(self.batch_size), strict=True):
            inputs, saved = [], []
            h = x
            for i in range(len(W)):
                inputs.append(h)
                h = torch.addmm(b[i], h, W[i].t())
                if i < last:
                    if self.relu:
                        h = h.clamp_min(0.0)
                        saved.append(h)
                    else:
                        slope = h.sign().clamp_(a, 1.0)
                        saved.append(slope)
                        h = h * slope
            # The loss's gradient only: a training step never computes the loss value.
            if self.mse:
                diff = h - y
                g = diff * (2.0 / (diff.shape[0] * diff.shape[1]))
            else:
                log_p = torch.log_softmax(h, dim=-1)
                g = (log_p.exp() - y).div_(h.shape[0])
            torch._foreach_zero_(self.grads)
            if ones.shape[0] != g.shape[0]:
                ones = torch.ones(g.shape[0], dtype=g.dtype)
            for i in range(last, -1, -1):
                if i < last:
                    g = g * saved[i].sign() if self.relu else g * saved[i]
                g_t = g.t()
                gW[i].addmm_(g_t, inputs[i])
                gb[i].addmv_(g_t, ones)  # Gᵀ 1, as Linear.backward
                g = g.mm(W[i])
            torch._foreach_add_(self.params, self.grads, alpha=-self.lr)

    def weights(self) -> list[torch.Tensor]:
        return [t for pair in zip(self.W, self.b, strict=True) for t in pair]


# ---- the measurement -----------------------------------------------------------------------
@dataclass
class BenchRow:
    """One preset at one batch size: median ms per epoch of each side, and the weight check."""

    preset: str
    batch_size: int
    steps_per_epoch: int
    ms: dict[str, float]
    weights_match: bool
    max_weight_diff: dict[str, float]

    @property
    def ratio(self) -> float:
        """engine / torch time (below 1: the engine is faster)."""
        return self.ms["engine"] / self.ms["torch"]

    @property
    def ratio_bare(self) -> float | None:
        """engine / bare loop time (the cost of the engine's structure); None without bare."""
        return self.ms["engine"] / self.ms["bare"] if "bare" in self.ms else None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["epochs_per_s"] = {k: 1000.0 / v for k, v in self.ms.items()}
        d["ratio_engine_torch"] = self.ratio
        d["ratio_engine_bare"] = self.ratio_bare
        d["us_per_step"] = {k: 1000.0 * v / self.steps_per_epoch for k, v in self.ms.items()}
        return d


@dataclass
class BenchResult:
    rows: list[BenchRow]
    epochs: int
    repeats: int
    threads: int
    n_train: int
    machine: str = field(default_factory=lambda: f"{platform.machine()} {platform.processor()}")
    torch_version: str = torch.__version__
    date: str = field(default_factory=lambda: datetime.date.today().isoformat())
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every row's three trainers ended with the same weights."""
        return all(r.weights_match for r in self.rows)

    def table(self) -> str:
        """A Markdown table: ms/epoch and epochs/s per side, engine/torch and engine/bare."""
        head = (
            "| preset | batch | engine ms/epoch | torch ms/epoch | bare ms/epoch "
            "| engine epochs/s | torch epochs/s | engine/torch | engine/bare | same weights |"
        )
        lines = [
            f"{self.n_train} training points per epoch; median of {self.repeats} × "
            f"{plural(self.epochs, 'epoch')} after a warm-up; torch {self.torch_version}, "
            f"{plural(self.threads, 'intra-op thread')}.",
            "",
            head,
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|:-:|",
        ]
        for r in self.rows:
            bare = f"{r.ms['bare']:.1f}" if "bare" in r.ms else "–"
            rb = f"{r.ratio_bare:.2f}" if r.ratio_bare is not None else "–"
            lines.append(
                f"| {r.preset} | {r.batch_size} | {r.ms['engine']:.1f} | {r.ms['torch']:.1f} "
                f"| {bare} | {1000 / r.ms['engine']:.1f} | {1000 / r.ms['torch']:.1f} "
                f"| {r.ratio:.2f} | {rb} | {'yes' if r.weights_match else 'NO'} |"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "rows"}
        d["rows"] = [r.to_dict() for r in self.rows]
        d["ok"] = self.ok
        return d


def _max_diff(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    return max(float((x - y).abs().max()) for x, y in zip(a, b, strict=True))


def _close(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(
        torch.allclose(x, y, rtol=WEIGHT_RTOL, atol=WEIGHT_ATOL) for x, y in zip(a, b, strict=True)
    )


def bench_case(
    spec: RunSpec,
    epochs: int,
    repeats: int,
    warmup: int = 1,
    on_step: Callable[[float], None] | None = None,
) -> BenchRow:
    """Time one spec: ``warmup`` untimed epochs, then ``repeats`` rounds of ``epochs`` epochs
    per side, the sides' order rotating each round; medians of ms per epoch. ``on_step``
    hears the share of the case's epochs done (0 … 1) after each block of them."""
    random = [layer.kind for layer in spec.layers if LAYERS[layer.kind].stochastic]
    if random:
        raise BenchError(
            f"{spec.name}: {', '.join(random)} layers draw random masks that torch cannot share, "
            "so the three trainers would not do the same work; remove them to benchmark"
        )
    sides: dict[str, Any] = {"engine": EngineSide(spec), "torch": TorchSide(spec)}
    with contextlib.suppress(ValueError):  # a spec the bare loop cannot express: no floor
        sides["bare"] = BareSide(spec)
    names = list(sides)
    times: dict[str, list[float]] = {k: [] for k in names}
    trained, to_train = 0, len(names) * (warmup + repeats * epochs + 1)  # + 1: the check

    def trained_epochs(n: int) -> None:
        nonlocal trained
        trained += n
        if on_step is not None:
            on_step(trained / to_train)

    for _ in range(warmup):
        for k in names:
            sides[k].train_epoch()
            trained_epochs(1)
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for k in order:
            gc.collect()
            t0 = time.perf_counter()
            for _ in range(epochs):
                sides[k].train_epoch()
            times[k].append(1000.0 * (time.perf_counter() - t0) / epochs)
            trained_epochs(epochs)
    check = {k: type(side)(spec, torch.float64) for k, side in sides.items()}
    for side in check.values():
        side.train_epoch()
        trained_epochs(1)
    ref = check["engine"].weights()
    diffs = {k: _max_diff(ref, check[k].weights()) for k in names if k != "engine"}
    match = all(_close(ref, check[k].weights()) for k in names if k != "engine")
    n = spec.data.n_train
    return BenchRow(
        preset=spec.name,
        batch_size=spec.batch_size,
        steps_per_epoch=-(-n // spec.batch_size),
        ms={k: statistics.median(v) for k, v in times.items()},
        weights_match=match,
        max_weight_diff=diffs,
    )


def run_bench(
    presets: Sequence[str | RunSpec] = ("vanilla", "deep"),
    batch_sizes: tuple[int, ...] | list[int] = (1, 5, 50, 1000),
    epochs: int = 1,
    repeats: int = 7,
    quick: bool = False,
    threads: int | None = 1,
    progress: Callable[[str], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> BenchResult:
    """Benchmark the engine against torch.nn + autograd + torch.optim (and a bare loop).

    ``quick`` is a smoke run (one timed epoch each, on 200 points): it checks that everything
    runs and agrees, not how fast. ``threads`` sets torch's intra-op threads for the run (one
    by default: at these sizes extra threads only add synchronisation, for both sides alike;
    None keeps torch's default) and is restored afterwards. ``progress`` hears a line as each
    case (a preset at a batch size) starts; ``on_progress`` a
    :class:`~miniframe.progress.Progress` of the cases after each timed block.
    """
    n_train = 1000
    if quick:
        epochs, repeats, n_train = 1, 1, 200
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    t0 = time.perf_counter()
    rows = []
    try:
        cases = []
        for preset in presets:
            base = load_preset(preset) if isinstance(preset, str) else preset
            base = base.replace(data=dataclasses.replace(base.data, n_train=n_train))
            cases += [base.replace(batch_size=min(b, n_train)) for b in batch_sizes]
        # Progress in cases; for the bar and the ETA, each weighs its epochs' estimated cost.
        tally = Tally({i: epoch_cost(s) for i, s in enumerate(cases)}, "case", on_progress)
        tally.report()
        for i, spec in enumerate(cases):
            what = f"{spec.name} batch {spec.batch_size}"
            if progress is not None:
                progress(what)
            tally.note(what)
            step = functools.partial(tally.step, i)
            rows.append(bench_case(spec, epochs, repeats, warmup=0 if quick else 1, on_step=step))
            tally.finish(i)
        used = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    return BenchResult(
        rows=rows, epochs=epochs, repeats=repeats, threads=used, n_train=n_train,
        seconds=time.perf_counter() - t0,
    )  # fmt: skip
