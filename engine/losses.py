"""Losses: MSE and cross-entropy, each forward (``compute``) beside its ``backward``.

``forward(output, target)`` gives the loss and keeps what ``backward()`` needs; ``backward()``
gives dL/d(output), which starts the network's backward pass.

Shapes: outputs are (n, classes); the losses reduce over the last two axes, so a leading
replica axis (R, n, classes) gives one loss per replica, shape (R,) (:mod:`.replicas`).

Losses stay outside the Sequential: they need the targets as well as the output, and keeping
them separate lets one swap them freely (as the reference report argues).
"""

from __future__ import annotations

import torch
from torch import Tensor


class Loss:
    """Base class; ``__call__`` = forward.

    ``forward(output, target)`` = check the batch, :meth:`encode` the targets, :meth:`compute`.
    A training loop that sees the same labels every epoch encodes them once per epoch; a
    training step needs only the gradient, so it calls :meth:`keep` (what backward needs,
    without the value) then :meth:`backward`. Evaluation calls :meth:`compute` and never
    :meth:`backward`, so it builds no gradient.
    """

    def forward(self, output: Tensor, target: Tensor) -> Tensor:
        _check_batch(output, target, type(self).__name__)
        return self.compute(output, self.encode(target, output.shape[-1], output.dtype))

    def encode(self, target: Tensor, num_classes: int, dtype: torch.dtype) -> Tensor:
        """Targets in the form :meth:`compute` takes (checked here, once)."""
        raise NotImplementedError

    def keep(self, output: Tensor, target: Tensor) -> None:
        """Keep what :meth:`backward` needs from ``output`` and encoded ``target``."""
        raise NotImplementedError

    def compute(self, output: Tensor, target: Tensor) -> Tensor:
        """The loss of ``output`` against encoded targets; keeps what backward needs."""
        raise NotImplementedError

    def backward(self) -> Tensor:
        """dL/d(output) of the last :meth:`compute` or :meth:`keep`."""
        raise NotImplementedError

    def _saved(self, value: Tensor | None) -> Tensor:
        if value is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() called before forward(): compute the loss first"
            )
        return value

    def __call__(self, output: Tensor, target: Tensor) -> Tensor:
        return self.forward(output, target)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MSELoss(Loss):
    """Mean squared error over the m elements of a batch (as torch.nn.MSELoss).

    Integer class targets are one-hot encoded first.
    """

    _diff: Tensor | None = None

    def keep(self, output: Tensor, target: Tensor) -> None:
        self._diff = output - target

    def compute(self, output: Tensor, target: Tensor) -> Tensor:
        """L = (1/m) Σ (Ŷ − Y)²."""
        self.keep(output, target)
        diff = self._saved(self._diff)
        return (diff * diff).mean(dim=(-2, -1))

    def backward(self) -> Tensor:
        """dL/dŶ = 2 (Ŷ − Y) / m."""
        diff = self._saved(self._diff)
        return diff * (2.0 / (diff.shape[-2] * diff.shape[-1]))

    def encode(self, target: Tensor, num_classes: int, dtype: torch.dtype) -> Tensor:
        if target.dtype in (torch.int64, torch.int32):
            return one_hot(target, num_classes, dtype)
        if target.dim() < 2 or target.shape[-1] != num_classes:
            raise ValueError(
                f"MSELoss: float targets need {num_classes} columns (one per output), "
                f"got shape {tuple(target.shape)}"
            )
        return target


class CrossEntropyLoss(Loss):
    """Softmax + negative log-likelihood on logits Z with class indices y, mean over n rows.

    Y is the one-hot rows of y; log softmax(Z) = Z − logsumexp(Z), with logsumexp shifted by
    max Z, so it stays finite for logits of ±1e4 (no ε inside a log).
    """

    _log_p: Tensor | None = None
    _target: Tensor | None = None

    def keep(self, output: Tensor, target: Tensor) -> None:
        self._log_p, self._target = torch.log_softmax(output, dim=-1), target

    def compute(self, output: Tensor, target: Tensor) -> Tensor:
        """L = −(1/n) Σ_i Σ_j Y_ij log softmax(Z)_ij."""
        self.keep(output, target)
        log_p, n = self._saved(self._log_p), output.shape[-2]
        # + 0.0 turns the −0.0 of a perfect prediction (0 / −n) into 0.0.
        return ((log_p * target).sum(dim=(-2, -1)) / -n).add_(0.0)

    def backward(self) -> Tensor:
        """dL/dZ = (softmax(Z) − Y) / n, with softmax(Z) = exp(log softmax(Z))."""
        log_p, target = self._saved(self._log_p), self._saved(self._target)
        return (log_p.exp() - target).div_(log_p.shape[-2])

    def encode(self, target: Tensor, num_classes: int, dtype: torch.dtype) -> Tensor:
        if target.dtype not in (torch.int64, torch.int32):
            raise ValueError(
                "CrossEntropyLoss expects int64 class indices of shape (batch,), "
                f"got {target.dtype} {tuple(target.shape)}"
            )
        return one_hot(target.long(), num_classes, dtype)


def one_hot(labels: Tensor, num_classes: int, dtype: torch.dtype) -> Tensor:
    """Integer class indices of any shape (...) → one-hot rows (..., num_classes)."""
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(
            f"class labels must lie in [0, {num_classes - 1}], got range "
            f"[{int(labels.min())}, {int(labels.max())}]"
        )
    out = torch.zeros(*labels.shape, num_classes, dtype=dtype, device=labels.device)
    return out.scatter_(-1, labels.unsqueeze(-1).long(), 1.0)


def _check_batch(output: Tensor, target: Tensor, name: str) -> None:
    """Output (..., n, classes); targets (..., n) class indices or (..., n, classes) values."""
    if output.dim() < 2:
        raise ValueError(
            f"{name} expects output of shape (batch, classes), got {tuple(output.shape)}"
        )
    rows = output.shape[:-1]
    if output.shape[-2] == 0:
        raise ValueError(f"{name}: an empty batch (0 rows): the loss is a mean over rows")
    if target.is_floating_point():
        if target.shape[:-1] != rows:
            raise ValueError(
                f"{name}: output has {_rows(rows)} rows but target has {_rows(target.shape[:-1])}"
            )
    elif target.shape != rows:
        raise ValueError(
            f"{name}: output has {_rows(rows)} rows but target has {_rows(target.shape)}"
        )


def _rows(shape: torch.Size) -> str:
    """4 for (4,), 3×4 for (3, 4) (replicas × rows), "no" for a 0-d tensor."""
    return "×".join(str(d) for d in shape) or "no"
