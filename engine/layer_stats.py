"""Layer health: per Linear layer and per epoch, the numbers that say whether it still learns.

For each Linear layer ℓ with weights W (biases aside):

- ``weight_norm`` ‖W‖ = √Σ W_ij², at the end of the epoch;
- ``grad_norm`` ‖∂L/∂W‖ of the epoch's last step (the mini-batch gradient the solver used
  last; with full-batch GD, the gradient on the whole training set);
- ``update_ratio`` ‖W_end − W_start‖ / ‖W_end‖ over the epoch: how far the epoch moved the
  layer relative to its size now (about 1e-3 per step is the usual rule of thumb, so an
  epoch of s steps moves up to ~s·1e-3; far above, the rate is too high for that layer; near
  0, it has stopped learning);
- ``dead_fraction``: of the layer's units, the fraction whose ReLU (the one right after it) was
  never positive on any training point in the epoch's evaluation: a dead ReLU passes no
  gradient, whatever the input, so it stays dead. None when no ReLU follows the layer (a
  LeakyReLU passes a·G where a ReLU passes nothing: its units cannot die, which is its point).

They cost little because they reuse work that is done anyway: the norms are read from the
tensors the solver already holds (the weights at the epoch's start are one copy), and the dead
units from the training-set evaluation that every epoch already runs (:class:`DeadUnitWatch`
is that forward pass, layer by layer, adding up each ReLU's outputs per unit).
Nothing is computed unless asked: ``Run(spec, layer_stats=True)`` or ``Trainer(...,
layer_stats=True)``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .layers import Linear, ReLU
from .module import Sequential
from .results import LayerStats as LayerStats  # the type lives with the results; re-exported


class DeadUnitWatch:
    """The forward pass of ``model``, layer by layer, adding up for each ReLU at ``positions``
    the mass of each of its units, 1ᵀ Y = Σ_rows y, over every row it has seen since
    :meth:`reset`. A ReLU's outputs are ≥ 0, and a sum of non-negative numbers is 0 only if
    each one is: a unit whose mass is 0 was never positive, dead. One multiply-add per ReLU
    and chunk (a column sum costs a fraction of a column maximum)."""

    def __init__(self, model: Sequential, positions: list[int]) -> None:
        self.model = model
        self.positions = set(positions)
        self.mass: dict[int, Tensor] = {}
        self._ones = torch.ones(1, 0)
        self._seen = False

    def reset(self) -> None:
        if self.mass:
            torch._foreach_zero_(list(self.mass.values()))
        self._seen = False

    def forward(self, x: Tensor) -> Tensor:
        """The model's forward pass of a chunk (n, d) of rows, adding each watched ReLU's mass
        on the way."""
        self._seen = True
        for i, m in enumerate(self.model):
            x = m.forward(x)
            if i in self.positions:
                self.observe(i, x)
        return x

    def observe(self, i: int, y: Tensor) -> None:
        """Add 1ᵀ Y, the output Y (n, units) of the ReLU at position ``i``, to its mass."""
        mass = self.mass.get(i)
        if mass is None:
            mass = self.mass[i] = torch.zeros(1, y.shape[-1], dtype=y.dtype, device=y.device)
        n = y.shape[0]
        if self._ones.shape[1] != n or self._ones.dtype != y.dtype or self._ones.device != y.device:
            self._ones = torch.ones(1, n, dtype=y.dtype, device=y.device)
        mass.addmm_(self._ones, y)

    def dead_units(self) -> dict[int, int]:
        """Per watched position, how many of its units are dead; empty before any chunk."""
        if not self._seen:
            return {}
        return {i: sum(v <= 0 for v in mass.tolist()[0]) for i, mass in self.mass.items()}


class LayerStatsRecorder:
    """Collects :class:`LayerStats` for every Linear of ``model``: :meth:`begin_epoch` before
    the epoch's training, :attr:`watch` as the forward pass of its training-set evaluation,
    :meth:`end_epoch` after it. It reads the very tensors the solver updates in place
    (``Linear.weight``, ``Linear.grad_weight``) with a fixed handful of ``torch._foreach_*``
    calls per epoch: at full batch an epoch is a single step, so this work must stay within a
    few tens of microseconds. (Two faster-looking ways measured slower: NumPy views of the
    same memory, whose BLAS wakes sleeping threads on a once-an-epoch call, a tenth of a
    millisecond; and one flat copy of every tensor with a segmented sum, more copying than the
    dispatches it saves.)
    """

    def __init__(self, model: Sequential) -> None:
        modules = list(model)
        self.linears = [(i, m) for i, m in enumerate(modules) if isinstance(m, Linear)]
        self.titles = [f"Linear {m.in_features} → {m.out_features}" for _, m in self.linears]
        self.weights = [m.weight for _, m in self.linears]
        self.grads = [m.grad_weight for _, m in self.linears]
        self.start = [torch.empty_like(w) for w in self.weights]
        # A Linear's ReLU: the next module, when it is one.
        self.relu = {
            i: i + 1
            for i, _ in self.linears
            if i + 1 < len(modules) and isinstance(modules[i + 1], ReLU)
        }
        self.watch = DeadUnitWatch(model, sorted(self.relu.values()))

    def begin_epoch(self) -> None:
        """Snapshot the weights (W_start) and clear the dead-unit watch."""
        torch._foreach_copy_(self.start, self.weights)
        self.watch.reset()

    def end_epoch(self) -> tuple[LayerStats, ...]:
        """The epoch's numbers: one foreach difference (into the snapshot, which the next
        epoch takes again) and one foreach norm over the weights, the gradients and the
        differences; the dead units from each watched ReLU's mass."""
        if not self.linears:
            return ()
        n = len(self.linears)
        torch._foreach_sub_(self.start, self.weights)  # W_start − W_end: its norm is the step's
        norms = torch._foreach_norm([*self.weights, *self.grads, *self.start])
        values = [t.item() for t in norms]  # CPU scalars: cheaper than stacking them first
        dead = self.watch.dead_units()
        out = []
        for k, (i, m) in enumerate(self.linears):
            size, step = values[k], values[2 * n + k]
            ratio = step / size if size > 0 else (math.inf if step > 0 else 0.0)
            count = dead.get(self.relu.get(i, -1))
            out.append(
                LayerStats(
                    layer=i,
                    title=self.titles[k],
                    weight_norm=size,
                    grad_norm=values[n + k],
                    update_ratio=ratio,
                    dead_fraction=None if count is None else count / m.out_features,
                )
            )
        return tuple(out)
