"""Layer health: per Linear layer and per epoch, the numbers that say whether it still learns.

For each Linear layer ℓ with weights W (biases aside):

- ``weight_norm`` ‖W‖ = √Σ W_ij², at the end of the epoch;
- ``grad_norm`` ‖∂L/∂W‖ of the epoch's last step (the mini-batch gradient the solver used
  last; with full-batch GD, the gradient on the whole training set);
- ``update_ratio`` ‖W_end − W_start‖ / ‖W_start‖ over the epoch: how far the epoch moved the
  layer relative to its size (around 1e-3 per step is the usual rule of thumb; far above, the
  rate is too high for that layer; near 0, it has stopped learning);
- ``dead_fraction``: of the layer's units, the fraction whose rectifier (the ReLU or LeakyReLU
  right after it) was never positive on any training point in the epoch's evaluation: a dead
  ReLU passes no gradient, whatever the input. None when no rectifier follows the layer.

They cost little because they reuse work that is done anyway: the norms are a few
``torch._foreach_*`` calls per epoch on tensors the solver already holds (the weights at the
epoch's start are one foreach copy), and the dead units are read from the training-set
evaluation that every epoch already runs (:class:`DeadUnitWatch` is that forward pass, layer by
layer, keeping each rectifier's largest output per unit). Nothing is computed unless asked:
``Run(spec, layer_stats=True)`` or ``Trainer(..., layer_stats=True)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch
from torch import Tensor

from .layers import LeakyReLU, Linear, ReLU
from .module import Sequential

RECTIFIERS = (ReLU, LeakyReLU)


@dataclass(frozen=True)
class LayerStats:
    """One Linear layer's health after an epoch (see the module's docstring for each number).
    ``layer`` is its position in the stack (0-based), ``title`` its shape (``Linear 2 → 25``)."""

    layer: int
    title: str
    weight_norm: float
    grad_norm: float
    update_ratio: float
    dead_fraction: float | None

    def to_json_dict(self) -> dict[str, int | float | str | None]:
        """Strict-JSON values: a NaN or infinite number (a diverged run's) becomes None."""
        out: dict[str, int | float | str | None] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float):
                value = value + 0.0 if math.isfinite(value) else None
            out[f.name] = value
        return out


class DeadUnitWatch:
    """The forward pass of ``model``, layer by layer, keeping for each rectifier at
    ``positions`` the largest output of each of its units over every row it has seen since
    :meth:`reset`. A unit whose largest output is ≤ 0 was never positive: dead."""

    def __init__(self, model: Sequential, positions: list[int]) -> None:
        self.model = model
        self.positions = positions
        self.peak: dict[int, Tensor] = {}

    def reset(self) -> None:
        self.peak.clear()

    def forward(self, x: Tensor) -> Tensor:
        for i, m in enumerate(self.model):
            x = m.forward(x)
            if i in self.positions:
                top = x.amax(dim=-2)
                seen = self.peak.get(i)
                self.peak[i] = top if seen is None else torch.maximum(seen, top, out=seen)
        return x

    def dead(self) -> dict[int, Tensor]:
        """Per watched position, how many units are dead (a 0-dim float tensor)."""
        return {i: (p <= 0).sum(dtype=torch.float32) for i, p in self.peak.items()}


class LayerStatsRecorder:
    """Collects :class:`LayerStats` for every Linear of ``model``: :meth:`begin_epoch` before
    the epoch's training, :attr:`watch` as the forward pass of its training-set evaluation,
    :meth:`end_epoch` after it."""

    def __init__(self, model: Sequential) -> None:
        modules = list(model)
        self.linears = [(i, m) for i, m in enumerate(modules) if isinstance(m, Linear)]
        self.weights = [m.weight for _, m in self.linears]
        self.grads = [m.grad_weight for _, m in self.linears]
        self.start = [torch.empty_like(w) for w in self.weights]
        # A Linear's rectifier: the next module, when it is a ReLU or LeakyReLU.
        self.rectifier = {
            i: i + 1
            for i, _ in self.linears
            if i + 1 < len(modules) and isinstance(modules[i + 1], RECTIFIERS)
        }
        self.watch = DeadUnitWatch(model, sorted(self.rectifier.values()))

    def begin_epoch(self) -> None:
        torch._foreach_copy_(self.start, self.weights)
        self.watch.reset()

    def end_epoch(self) -> tuple[LayerStats, ...]:
        """The epoch's numbers, read back from the device in one transfer."""
        if not self.linears:
            return ()
        w = torch._foreach_norm(self.weights)
        g = torch._foreach_norm(self.grads)
        moved = torch._foreach_norm(torch._foreach_sub(self.weights, self.start))
        before = torch._foreach_norm(self.start)
        dead = self.watch.dead()
        watched = [
            dead[self.rectifier[i]] for i, _ in self.linears if self.rectifier.get(i) in dead
        ]
        values = torch.stack([*w, *g, *moved, *before, *watched]).tolist()
        n = len(self.linears)
        dead_values = iter(values[4 * n :])
        out = []
        for k, (i, m) in enumerate(self.linears):
            start = values[3 * n + k]
            ratio = values[2 * n + k] / start if start > 0 else math.inf
            frac = next(dead_values) / m.out_features if self.rectifier.get(i) in dead else None
            out.append(
                LayerStats(
                    layer=i,
                    title=f"Linear {m.in_features} → {m.out_features}",
                    weight_norm=values[k],
                    grad_norm=values[n + k],
                    update_ratio=ratio if values[2 * n + k] > 0 or start > 0 else 0.0,
                    dead_fraction=frac,
                )
            )
        return tuple(out)
