"""The Module contract and Sequential, the container that chains modules.

Every module maps an input batch X to an output Y in ``forward`` and, in ``backward``, maps
dL/dY (``grad_output``) to dL/dX by the chain rule, *accumulating* (+=) dL/dθ into the gradient
buffers of its parameters. ``param()`` returns ``(parameter, gradient)`` pairs: the very tensors
the module computes with, so a solver's in-place update of a parameter *is* the model's update.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

Param = tuple[Tensor, Tensor]


class Module:
    """Base class: forward, backward, param, zero_grad, train/eval."""

    training: bool = True

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def backward(self, grad_output: Tensor) -> Tensor:
        raise NotImplementedError

    def param(self) -> list[Param]:
        """(parameter, gradient) pairs; empty for modules without parameters."""
        return []

    def zero_grad(self) -> None:
        for _, grad in self.param():
            grad.zero_()

    def train(self, mode: bool = True) -> Module:
        self.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

    def _saved(self, value: Tensor | None) -> Tensor:
        """What forward kept for backward; a clear error if forward has not run."""
        if value is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() called before forward(): "
                "run a forward pass first, it keeps what backward needs"
            )
        return value

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class Sequential(Module):
    """Modules applied in order; backward walks them in reverse (the chain rule, link by link)."""

    def __init__(self, *modules: Module) -> None:
        if len(modules) == 1 and isinstance(modules[0], list | tuple):
            modules = tuple(modules[0])
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential item {i} is {type(m).__name__}, not a Module")
        self.modules: list[Module] = list(modules)
        _check_distinct(self.modules)
        _check_widths(self.modules)
        self._zero_plan: tuple[list[Tensor], list[Module]] | None = None

    def forward(self, x: Tensor) -> Tensor:
        for m in self.modules:
            x = m.forward(x)
        return x

    def backward(self, grad_output: Tensor) -> Tensor:
        for m in reversed(self.modules):
            grad_output = m.backward(grad_output)
        return grad_output

    def param(self) -> list[Param]:
        return [p for m in self.modules for p in m.param()]

    def zero_grad(self) -> None:
        """Clear every module's gradients: those of modules that keep Module's way in one
        ``torch._foreach_zero_`` (one dispatch, as a solver's ``zero_grad``), the others (a
        module with its own ``zero_grad``) by their own. Which is which is worked out at the
        first call and kept (a step calls this every batch): the modules and their gradient
        tensors are those the Sequential was built with."""
        if self._zero_plan is None:
            plain: list[Tensor] = []
            own: list[Module] = []
            for m in self.modules:
                if type(m).zero_grad is Module.zero_grad:
                    plain.extend(grad for _, grad in m.param())
                else:
                    own.append(m)
            self._zero_plan = (plain, own)
        plain, own = self._zero_plan
        for m in own:
            m.zero_grad()
        if plain:
            torch._foreach_zero_(plain)

    def train(self, mode: bool = True) -> Sequential:
        self.training = mode
        for m in self.modules:
            m.train(mode)
        return self

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)

    def __len__(self) -> int:
        return len(self.modules)

    def __getitem__(self, i: int) -> Module:
        return self.modules[i]

    def __repr__(self) -> str:
        inner = ",\n".join(f"  ({i}): {m!r}" for i, m in enumerate(self.modules))
        return f"Sequential(\n{inner}\n)"


def _check_distinct(modules: list[Module]) -> None:
    """Each position its own module object, nested Sequentials included: a module keeps what
    its forward saw for its backward, so one object at two positions would give the first
    position the second's input, and a wrong gradient, silently."""
    seen: dict[int, str] = {}

    def walk(items: list[Module], where: str) -> None:
        for i, m in enumerate(items):
            here = f"{where}{i}"
            if id(m) in seen:
                raise ValueError(
                    f"Sequential items {seen[id(m)]} and {here} are the same {m!r} object: each "
                    f"position needs a module of its own (it keeps its input for backward); "
                    f"create another {type(m).__name__}"
                )
            seen[id(m)] = here
            if isinstance(m, Sequential):
                walk(m.modules, f"{here}.")

    walk(modules, "")


def _check_widths(modules: list[Module]) -> None:
    """Each Linear must take the width the previous Linear produced (activations keep widths)."""
    width: int | None = None
    prev = -1
    for i, m in enumerate(modules):
        in_f = getattr(m, "in_features", None)
        out_f = getattr(m, "out_features", None)
        if in_f is not None and width is not None and in_f != width:
            raise ValueError(
                f"layer {i} ({m!r}) expects {in_f} input features, but layer {prev} "
                f"({modules[prev]!r}) produces {width}"
            )
        if out_f is not None:
            width, prev = out_f, i
