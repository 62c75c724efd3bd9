"""Losses: MSE and cross-entropy. ``forward(output, target)`` gives a 0-dim loss,
``backward()`` gives dL/d(output), which starts the network's backward pass.

Losses stay outside the Sequential: they need the targets as well as the output, and keeping
them separate lets one swap them freely (as the reference report argues).
"""

from __future__ import annotations

import torch
from torch import Tensor


class Loss:
    """Base class; ``__call__`` = forward.

    ``forward(output, target)`` = check the batch, :meth:`encode` the targets, :meth:`compute`.
    A training loop that sees the same labels every epoch may encode them once per epoch and call
    :meth:`compute` per batch: the same numbers, without re-checking and re-encoding each batch.
    """

    _grad: Tensor | None = None

    def forward(self, output: Tensor, target: Tensor) -> Tensor:
        _check_batch(output, target, type(self).__name__)
        return self.compute(output, self.encode(target, output.shape[1], output.dtype))

    def encode(self, target: Tensor, num_classes: int, dtype: torch.dtype) -> Tensor:
        """Targets in the form :meth:`compute` takes (checked here, once)."""
        raise NotImplementedError

    def compute(self, output: Tensor, target: Tensor) -> Tensor:
        """The loss of ``output`` against encoded targets; keeps dL/d(output) for backward."""
        raise NotImplementedError

    def backward(self) -> Tensor:
        if self._grad is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() called before forward(): compute the loss first"
            )
        return self._grad

    def __call__(self, output: Tensor, target: Tensor) -> Tensor:
        return self.forward(output, target)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _check_batch(output: Tensor, target: Tensor, name: str) -> None:
    if output.dim() != 2:
        raise ValueError(
            f"{name} expects output of shape (batch, classes), got {tuple(output.shape)}"
        )
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

    def encode(self, target: Tensor, num_classes: int, dtype: torch.dtype) -> Tensor:
        if target.dtype in (torch.int64, torch.int32):
            if target.dim() != 1:
                raise ValueError(f"MSELoss: class targets must be 1-D, got {tuple(target.shape)}")
            return one_hot(target, num_classes, dtype)
        if target.dim() != 2 or target.shape[1] != num_classes:
            raise ValueError(
                f"MSELoss: target shape {tuple(target.shape)} != output shape "
                f"{(target.shape[0], num_classes)}"
            )
        return target

    def compute(self, output: Tensor, target: Tensor) -> Tensor:
        diff = output - target
        self._grad = diff * (2.0 / diff.numel())
        return (diff * diff).mean()


class CrossEntropyLoss(Loss):
    """Softmax + negative log-likelihood on logits Z with class indices y, mean over n rows.

    With Y the one-hot rows of y and log softmax(Z) = Z − logsumexp(Z) (logsumexp shifted by
    max Z, so it stays finite for logits of ±1e4; no ε inside a log):
    L = −(1/n) Σ_i Σ_j Y_ij log softmax(Z)_ij,    dL/dZ = (softmax(Z) − Y) / n.
    """

    def encode(self, target: Tensor, num_classes: int, dtype: torch.dtype) -> Tensor:
        if target.dtype not in (torch.int64, torch.int32) or target.dim() != 1:
            raise ValueError(
                "CrossEntropyLoss expects int64 class indices of shape (batch,), "
                f"got {target.dtype} {tuple(target.shape)}"
            )
        return one_hot(target.long(), num_classes, dtype)

    def compute(self, output: Tensor, target: Tensor) -> Tensor:
        n = output.shape[0]
        log_p = torch.log_softmax(output, dim=1)
        self._grad = (log_p.exp() - target).div_(n)
        return (log_p * target).sum() / -n


LOSSES: dict[str, type[Loss]] = {"mse": MSELoss, "cross-entropy": CrossEntropyLoss}
