"""Solvers: SGD (plain, momentum, Nesterov, weight decay) and Adam, with torch.optim's rules.

A solver holds the model's ``(parameter, gradient)`` pairs and updates the parameters in place.
Gradient descent, mini-batch gradient descent and stochastic gradient descent are the same
solver; they differ only in the batch size the training loop feeds it.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .module import Param


class Optimizer:
    """Base: keeps the (parameter, gradient) pairs and the learning rate ``lr``."""

    def __init__(self, params: list[Param], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("the optimizer got no parameters (is the model empty?)")
        if not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"learning rate must be a positive number, got {lr!r}")
        self.lr = float(lr)
        # The same tensors as two lists, for the torch._foreach_* calls below: each applies one
        # operation to every tensor of a list (A[i] += α B[i] for all i) in a single call, the
        # arithmetic of a Python loop of add_ without paying one dispatch per tensor.
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
        params: list[Param],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        if momentum < 0 or weight_decay < 0:
            raise ValueError("momentum and weight_decay must be ≥ 0")
        if nesterov and momentum == 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.momentum, self.weight_decay, self.nesterov = momentum, weight_decay, nesterov
        self.velocity: list[Tensor | None] = [None] * len(self.params)

    def reset_state(self) -> None:
        self.velocity = [None] * len(self.params)

    def step(self) -> None:
        mu, wd = self.momentum, self.weight_decay
        g = self.grads
        if wd:
            g = torch._foreach_add(g, self.weights, alpha=wd)
        if mu:
            v = self.velocity
            if v[0] is None:
                v = self.velocity = [t.clone() for t in g]
            else:
                torch._foreach_mul_(v, mu)
                torch._foreach_add_(v, g)
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
        params: list[Param],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        b1, b2 = betas
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"Adam betas must lie in [0, 1), got {betas!r}")
        if eps <= 0 or weight_decay < 0:
            raise ValueError("Adam eps must be > 0 and weight_decay ≥ 0")
        self.betas, self.eps, self.weight_decay = (float(b1), float(b2)), eps, weight_decay
        self.reset_state()

    def reset_state(self) -> None:
        self.t = 0
        self.m = [torch.zeros_like(p) for p, _ in self.params]
        self.v = [torch.zeros_like(p) for p, _ in self.params]

    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        bias1 = 1.0 - b1**self.t
        bias2_sqrt = math.sqrt(1.0 - b2**self.t)
        for (p, grad), m, v in zip(self.params, self.m, self.v, strict=True):
            g = grad.add(p, alpha=self.weight_decay) if self.weight_decay else grad
            m.lerp_(g, 1.0 - b1)
            v.mul_(b2).addcmul_(g, g, value=1.0 - b2)
            denom = (v.sqrt() / bias2_sqrt).add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / bias1)


SOLVERS = ("sgd", "adam")
