"""Solvers: SGD (plain, momentum, Nesterov, weight decay) and Adam, with torch.optim's rules.

A solver holds the model's ``(parameter, gradient)`` pairs and updates the parameters in place.
Gradient descent, mini-batch gradient descent and stochastic gradient descent are the same
solver; they differ only in the batch size the training loop feeds it.

Every update applies one operation to all parameters at once with ``torch._foreach_*``
(A[i] += α B[i] for every i in one call): the arithmetic of a Python loop of ``add_`` without
paying one dispatch per tensor. State (velocity, moments) is created at the first step, in the
parameters' dtype and device then, so recasting a model after building its solver is safe.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Real

import torch
from torch import Tensor

from .module import Param

Tensors = list[Tensor] | tuple[Tensor, ...]  # what torch._foreach_* take and return


class Optimizer:
    """Base: keeps the (parameter, gradient) pairs and the learning rate ``lr``."""

    def __init__(self, params: Iterable[Param], lr: float) -> None:
        self.params = _check_pairs(params)
        self.lr = _number("learning rate lr", lr, positive=True)
        # The same tensors as two lists, for the torch._foreach_* calls.
        self.weights = [p for p, _ in self.params]
        self.grads = [grad for _, grad in self.params]

    def zero_grad(self) -> None:
        """Gradients accumulate in backward (+=); clear them before each step's backward."""
        torch._foreach_zero_(self.grads)

    def step(self) -> None:
        raise NotImplementedError

    def reset_state(self) -> None:
        """Forget momentum / moment estimates (after re-initialising the weights)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """Stochastic gradient descent, torch.optim.SGD's update (dampening 0):

    g ← ∇θ + λ θ                       (weight decay λ)
    v ← μ v + g   (v = g on the first step)
    d ← g + μ v if Nesterov else v     (d = g when μ = 0)
    θ ← θ − η d
    """

    def __init__(
        self,
        params: Iterable[Param],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _number("momentum", momentum)
        self.weight_decay = _number("weight_decay", weight_decay)
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov must be True or False, got {nesterov!r}")
        if nesterov and self.momentum == 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.nesterov = nesterov
        self.velocity: list[Tensor] = []  # filled at the first step

    def reset_state(self) -> None:
        self.velocity = []

    def step(self) -> None:
        mu, wd = self.momentum, self.weight_decay
        g: Tensors = self.grads
        if wd:
            g = torch._foreach_add(g, self.weights, alpha=wd)
        if mu:
            if not self.velocity:
                self.velocity = [t.clone() for t in g]
            else:
                torch._foreach_mul_(self.velocity, mu)
                torch._foreach_add_(self.velocity, g)
            v = self.velocity
            g = torch._foreach_add(g, v, alpha=mu) if self.nesterov else v
        torch._foreach_add_(self.weights, g, alpha=-self.lr)


class Adam(Optimizer):
    """Adam (Kingma & Ba), torch.optim.Adam's update (L2 weight decay, not AdamW):

    g ← ∇θ + λ θ
    m ← β₁ m + (1 − β₁) g,     v ← β₂ v + (1 − β₂) g²
    θ ← θ − η · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
    """

    def __init__(
        self,
        params: Iterable[Param],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise TypeError(f"Adam betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            _number("betas[0]", betas[0], below_one=True),
            _number("betas[1]", betas[1], below_one=True),
        )
        self.eps = _number("eps", eps, positive=True)
        self.weight_decay = _number("weight_decay", weight_decay)
        self.reset_state()

    def reset_state(self) -> None:
        self.t = 0
        self.m: list[Tensor] = []  # filled at the first step
        self.v: list[Tensor] = []

    def step(self) -> None:
        if not self.m:
            self.m = [torch.zeros_like(p) for p in self.weights]
            self.v = [torch.zeros_like(p) for p in self.weights]
        m, v = self.m, self.v
        self.t += 1
        b1, b2 = self.betas
        bias1 = 1.0 - b1**self.t
        bias2_sqrt = math.sqrt(1.0 - b2**self.t)
        g: Tensors = self.grads
        if self.weight_decay:
            g = torch._foreach_add(g, self.weights, alpha=self.weight_decay)
        torch._foreach_lerp_(m, g, 1.0 - b1)
        torch._foreach_mul_(v, b2)
        torch._foreach_addcmul_(v, g, g, value=1.0 - b2)
        denom = torch._foreach_sqrt(v)
        torch._foreach_div_(denom, bias2_sqrt)
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(self.weights, m, denom, value=-self.lr / bias1)


def _check_pairs(params: Iterable[Param]) -> list[Param]:
    """The (parameter, gradient) pairs as a list; a clear error for anything else."""
    if isinstance(params, Tensor):
        raise TypeError(
            "params must be (parameter, gradient) pairs, as Module.param() gives, not a bare tensor"
        )
    pairs = list(params)
    if not pairs:
        raise ValueError("the optimizer got no parameters (is the model empty?)")
    for i, pair in enumerate(pairs):
        if not (
            isinstance(pair, tuple | list)
            and len(pair) == 2
            and all(isinstance(t, Tensor) for t in pair)
        ):
            raise TypeError(
                f"params[{i}] must be a (parameter, gradient) pair of tensors, as "
                f"Module.param() gives, got {type(pair).__name__}"
            )
        p, grad = pair
        if p.shape != grad.shape:
            raise ValueError(
                f"params[{i}]: the gradient's shape {tuple(grad.shape)} differs from the "
                f"parameter's {tuple(p.shape)}"
            )
    return [(p, grad) for p, grad in pairs]


def _number(name: str, value: object, positive: bool = False, below_one: bool = False) -> float:
    """``value`` as a float if it is a finite number ≥ 0 (> 0 if ``positive``, < 1 if
    ``below_one``); else an error naming the argument."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {v}")
    if positive and v <= 0:
        raise ValueError(f"{name} must be > 0, got {v:g}")
    if v < 0:
        raise ValueError(f"{name} must be ≥ 0, got {v:g}")
    if below_one and v >= 1:
        raise ValueError(f"{name} must be < 1, got {v:g}")
    return v
