"""Losses: MSE and cross-entropy. ``forward(output, target)`` gives a 0-dim loss,
``backward()`` gives dL/d(output), which starts the network's backward pass.

Losses stay outside the Sequential: they need the targets as well as the output, and keeping
them separate lets one swap them freely (as the reference report argues).
"""

from __future__ import annotations

import torch
from torch import Tensor


class Loss:
    """Base class; ``__call__`` = forward."""

    _grad: Tensor | None = None

    def forward(self, output: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    def backward(self) -> Tensor:
        if self._grad is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() called before forward(): "
                "compute the loss first"
            )
        return self._grad

    def __call__(self, output: Tensor, target: Tensor) -> Tensor:
        return self.forward(output, target)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _check_batch(output: Tensor, target: Tensor, name: str) -> None:
    if output.dim() != 2:
        shape = tuple(output.shape)
        raise ValueError(f"{name} expects output of shape (batch, classes), got {shape}")
    if target.shape[0] != output.shape[0]:
        raise ValueError(
            f"{name}: output has {output.shape[0]} rows but target has {target.shape[0]}"
        )


def one_hot(labels: Tensor, num_classes: int, dtype: torch.dtype) -> Tensor:
    """(n,) int64 class indices → (n, num_classes) one-hot rows."""
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(
            f"class labels must lie in [0, {num_classes - 1}], got range "
            f"[{int(labels.min())}, {int(labels.max())}]"
        )
    out = torch.zeros(labels.shape[0], num_classes, dtype=dtype, device=labels.device)
    return out.scatter_(1, labels.view(-1, 1), 1.0)


class MSELoss(Loss):
    """L = (1/m) Σ (Ŷ − Y)², mean over all m elements (as torch.nn.MSELoss).

    dL/dŶ = 2 (Ŷ − Y) / m. Integer class targets are one-hot encoded first.
    """

    def forward(self, output: Tensor, target: Tensor) -> Tensor:
        _check_batch(output, target, "MSELoss")
        if target.dtype in (torch.int64, torch.int32):
            if target.dim() != 1:
                raise ValueError(f"MSELoss: class targets must be 1-D, got {tuple(target.shape)}")
            target = one_hot(target, output.shape[1], output.dtype)
        elif target.shape != output.shape:
            raise ValueError(
                f"MSELoss: target shape {tuple(target.shape)} != output shape "
                f"{tuple(output.shape)}"
            )
        diff = output - target
        self._grad = diff * (2.0 / diff.numel())
        return (diff * diff).mean()


class CrossEntropyLoss(Loss):
    """Softmax + negative log-likelihood on logits Z with class indices y, mean over n rows.

    L = (1/n) Σ_i [logsumexp(Z_i) − Z_{i,y_i}],  with logsumexp(z) = max z + log Σ e^{z − max z},
    so it stays finite for logits of ±1e4 (no ε inside a log).
    dL/dZ = (softmax(Z) − onehot(y)) / n.
    """

    def forward(self, output: Tensor, target: Tensor) -> Tensor:
        _check_batch(output, target, "CrossEntropyLoss")
        if target.dtype not in (torch.int64, torch.int32) or target.dim() != 1:
            raise ValueError(
                "CrossEntropyLoss expects int64 class indices of shape (batch,), "
                f"got {target.dtype} {tuple(target.shape)}"
            )
        n, k = output.shape
        target = target.long()
        if n and (int(target.min()) < 0 or int(target.max()) >= k):
            raise ValueError(f"class labels must lie in [0, {k - 1}]")
        log_z = torch.logsumexp(output, dim=1)
        picked = output.gather(1, target.view(-1, 1)).squeeze(1)
        grad = torch.softmax(output, dim=1)
        grad.scatter_add_(1, target.view(-1, 1), grad.new_full((n, 1), -1.0))
        self._grad = grad.div_(n)
        return (log_z - picked).mean()


LOSSES: dict[str, type[Loss]] = {"mse": MSELoss, "cross-entropy": CrossEntropyLoss}
