"""Layers: Linear, the activations, Softmax and Dropout, each forward beside its backward.

Shapes: inputs are batches X ∈ ℝ^{n×d}. Every backward receives G = dL/dY (same shape as Y)
and returns dL/dX by the chain rule. The activations, Softmax and Dropout act on the last axis
only, so they take a leading replica axis (R, n, d) as they are (:mod:`.replicas`).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .errors import SpecError
from .module import Module, Param
from .plurals import plural
from .registry import INITS, LIMITS, show


class Linear(Module):
    """Fully connected layer, W ∈ ℝ^{out×in}, b ∈ ℝ^{out}:

    Forward:  S = X Wᵀ + b
    Backward: dL/dW += Gᵀ X,   dL/db += Gᵀ 1 (= Σ_rows G),   dL/dX = G W

    (Gᵀ 1 with a cached vector of ones is one fused multiply-add into the buffer, where ``sum``
    then ``add_`` would be two tensor operations.) ``init`` names how the weights are drawn:
    see :func:`init_parameters`.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        init: str = "normal",
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
        device: str | torch.device = "cpu",
    ) -> None:
        _check_linear_args(in_features, out_features, init)
        if str(device) != "cpu":
            check_device(device)
        self.in_features, self.out_features, self.init = in_features, out_features, init
        self.weight = torch.empty(out_features, in_features, dtype=dtype, device=device)
        self.bias = torch.empty(out_features, dtype=dtype, device=device)
        self.grad_weight = torch.zeros_like(self.weight)
        self.grad_bias = torch.zeros_like(self.bias)
        init_parameters(self.weight, self.bias, init, generator)
        self._x: Tensor | None = None
        self._ones = torch.ones(0, dtype=dtype, device=device)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 2 or x.shape[1] != self.in_features or x.dtype is not self.weight.dtype:
            self._refuse(x)
        self._x = x
        return torch.addmm(self.bias, x, self.weight.t())

    def _refuse(self, x: Tensor) -> None:
        """Say what is wrong with an input forward cannot take (its shape or its dtype)."""
        if x.dim() != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"{self!r} expects input of shape (batch, {self.in_features}), got {tuple(x.shape)}"
            )
        want = str(self.weight.dtype).removeprefix("torch.")
        raise TypeError(
            f"{self!r} expects {want} input (the dtype of its weights), got "
            f"{str(x.dtype).removeprefix('torch.')}: convert it first, x.to(torch.{want})"
        )

    def backward(self, grad_output: Tensor) -> Tensor:
        x, g_t = self._saved(self._x), grad_output.t()
        self.grad_weight.addmm_(g_t, x)
        self.grad_bias.addmv_(g_t, self._ones_like_rows(grad_output))
        return grad_output.mm(self.weight)

    def param(self) -> list[Param]:
        return [(self.weight, self.grad_weight), (self.bias, self.grad_bias)]

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw fresh weights in place (the tensors stay the same objects)."""
        init_parameters(self.weight, self.bias, self.init, generator)

    def _ones_like_rows(self, g: Tensor) -> Tensor:
        """A vector of ones, one per row of ``g`` (kept between calls of the same batch size)."""
        if self._ones.shape[0] != g.shape[0] or self._ones.device != g.device:
            self._ones = torch.ones(g.shape[0], dtype=g.dtype, device=g.device)
        return self._ones

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}"


def _check_linear_args(in_features: int, out_features: int, init: str) -> None:
    """Sizes within the engine's limits (checked before anything is allocated: Linear(10**6,
    10**6) would otherwise fail in the allocator), and a known init."""
    for name, v in (("in_features", in_features), ("out_features", out_features)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"Linear {name} must be a positive integer, got {show(v)}")
        if v > LIMITS.max_units:
            raise ValueError(f"Linear {name} must be ≤ {LIMITS.max_units}, got {v}")
    if in_features * out_features > LIMITS.max_params:
        raise ValueError(
            f"Linear({in_features}, {out_features}) has more than {LIMITS.max_params:,} weights"
        )
    if init not in INITS:
        raise ValueError(f"unknown init {show(init)}; choose one of {', '.join(INITS)}")


def check_device(device: str | torch.device) -> torch.device:
    """``device`` as a torch device the engine can compute on here: the CPU, or a CUDA device
    that exists. SpecError in one line otherwise (torch's own answer to a missing CUDA build
    is an AssertionError)."""
    try:
        d = torch.device(device)
    except (RuntimeError, TypeError):
        raise SpecError(f"device {show(device)}: not a device (cpu, cuda or cuda:N)") from None
    if d.type == "cpu":
        return d
    if d.type != "cuda":
        raise SpecError(f"device {show(str(device))}: the engine computes on cpu or cuda")
    if not torch.cuda.is_available():
        raise SpecError(f"device {show(str(device))}: no CUDA device is available here")
    if d.index is not None and d.index >= torch.cuda.device_count():
        count = plural(torch.cuda.device_count(), "CUDA device")
        raise SpecError(f"device {show(str(device))}: there are {count} here")
    return d


def init_parameters(
    weight: Tensor, bias: Tensor, init: str, generator: torch.Generator | None = None
) -> None:
    """Fill a Linear's ``weight`` (out, in) and ``bias`` (out,) in place.

    "normal": N(0, 1), weights and bias (the report's); "uniform": U(±1/√in) (torch.nn's
    default); "xavier": N(0, 2/(in+out)); "he": N(0, 2/in). The last two start the bias at 0.
    """
    fan_out, fan_in = weight.shape[-2], weight.shape[-1]
    g = generator
    if init == "normal":
        weight.normal_(0.0, 1.0, generator=g)
        bias.normal_(0.0, 1.0, generator=g)
    elif init == "uniform":
        bound = 1.0 / math.sqrt(fan_in)
        weight.uniform_(-bound, bound, generator=g)
        bias.uniform_(-bound, bound, generator=g)
    elif init in ("xavier", "he"):
        var = 2.0 / (fan_in + fan_out) if init == "xavier" else 2.0 / fan_in
        weight.normal_(0.0, math.sqrt(var), generator=g)
        bias.zero_()
    else:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")


class ReLU(Module):
    """Y = max(0, X);  dL/dX = G ⊙ [X > 0]."""

    def __init__(self) -> None:
        self._y: Tensor | None = None

    def forward(self, x: Tensor) -> Tensor:
        self._y = x.clamp_min(0.0)
        return self._y

    def backward(self, grad_output: Tensor) -> Tensor:
        # Y ≥ 0, so sign(Y) is the mask [X > 0] as 0.0/1.0: one float multiply, no bool tensor.
        return grad_output * self._saved(self._y).sign()


class LeakyReLU(Module):
    """Y = X if X > 0 else a·X;  dL/dX = G ⊙ (1 if X > 0 else a)."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        if not math.isfinite(negative_slope) or negative_slope < 0:
            raise ValueError(f"LeakyReLU negative_slope must be ≥ 0, got {negative_slope!r}")
        self.negative_slope = float(negative_slope)
        self._slope: Tensor | None = None

    def forward(self, x: Tensor) -> Tensor:
        # The local slope, 1 or a, is all backward needs; Y = slope ⊙ X.
        a = self.negative_slope
        if a <= 1.0:
            # sign(X) ∈ {−1, 0, 1}; clamped to [a, 1] it is 1 where X > 0 and a elsewhere.
            self._slope = x.sign().clamp_(a, 1.0)
        else:
            self._slope = torch.full_like(x, a).masked_fill_(x > 0, 1.0)
        return x * self._slope

    def backward(self, grad_output: Tensor) -> Tensor:
        return grad_output * self._saved(self._slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    """Y = tanh(X);  dL/dX = G ⊙ (1 − Y²)."""

    def __init__(self) -> None:
        self._y: Tensor | None = None

    def forward(self, x: Tensor) -> Tensor:
        self._y = torch.tanh(x)
        return self._y

    def backward(self, grad_output: Tensor) -> Tensor:
        y = self._saved(self._y)
        return grad_output * (1.0 - y * y)


class Sigmoid(Module):
    """Y = σ(X) = 1 / (1 + e^{−X});  dL/dX = G ⊙ Y (1 − Y)."""

    def __init__(self) -> None:
        self._y: Tensor | None = None

    def forward(self, x: Tensor) -> Tensor:
        self._y = torch.sigmoid(x)
        return self._y

    def backward(self, grad_output: Tensor) -> Tensor:
        y = self._saved(self._y)
        return grad_output * y * (1.0 - y)


class Softmax(Module):
    """Row-wise (over the last axis) Y_i = e^{X_i} / Σ_j e^{X_j} (shifted by max X for stability).

    Its Jacobian is dY_i/dX_j = Y_i (δ_ij − Y_j), so the vector-Jacobian product is
    dL/dX = Y ⊙ (G − Σ_j G_j Y_j), computed per row without forming the n×d×d Jacobian.
    """

    def __init__(self) -> None:
        self._y: Tensor | None = None

    def forward(self, x: Tensor) -> Tensor:
        self._y = torch.softmax(x, dim=-1)
        return self._y

    def backward(self, grad_output: Tensor) -> Tensor:
        y = self._saved(self._y)
        return y * (grad_output - (grad_output * y).sum(dim=-1, keepdim=True))


class Dropout(Module):
    """Inverted dropout: in training Y = X ⊙ M / (1 − p), M_ij ~ Bernoulli(1 − p).

    dL/dX = G ⊙ M / (1 − p), with the mask of the forward pass. In eval mode it is the identity,
    so no rescaling is needed at test time.
    """

    def __init__(self, p: float = 0.5, generator: torch.Generator | None = None) -> None:
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout p must be in [0, 1), got {p!r}")
        self.p = float(p)
        self.generator = generator
        self._mask: Tensor | None = None

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            self._mask = None
            return x
        keep = torch.rand(x.shape, generator=self.generator, device=x.device) >= self.p
        self._mask = keep.to(x.dtype) / (1.0 - self.p)
        return x * self._mask

    def backward(self, grad_output: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return grad_output
        return grad_output * self._saved(self._mask)

    def extra_repr(self) -> str:
        return f"p={self.p}"
