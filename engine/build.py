"""From a run spec to engine objects: the model, the loss, the solver and the data.

Each builder looks the spec's names up in :mod:`.registry` and constructs the engine class the
entry names, so a new layer kind, loss, solver or dataset needs no change here.
"""

from __future__ import annotations

from typing import Any

import torch

from . import data as datasets
from . import layers, losses, optim
from .data import Dataset, centre_inputs
from .losses import Loss
from .module import Module, Param, Sequential
from .optim import Optimizer
from .registry import DATASETS, LAYERS, LOSSES, SOLVERS
from .spec import RunSpec

_SEED_RANGE = 2**63  # torch generators take a signed 64-bit seed


def mask_seed(seed: int, position: int) -> int:
    """The seed of the mask stream of the random layer at ``position`` (0-based) in a run
    seeded ``seed``: each one its own, so two Dropout layers never share a mask."""
    return (seed * 1_000_003 + position + 1) % _SEED_RANGE


def build_model(spec: RunSpec, generator: torch.Generator | None = None) -> Sequential:
    """The layer stack as a :class:`Sequential`, weights drawn from ``generator`` (seeded from
    ``spec.seed`` when not given), on ``spec.device``. Validates the spec first."""
    spec.validate()
    g = generator if generator is not None else torch.Generator().manual_seed(spec.seed)
    mods: list[Module] = []
    for i, ((w_in, w_out), layer) in enumerate(zip(spec.layer_widths(), spec.layers, strict=True)):
        kind = LAYERS[layer.kind]
        cls = getattr(layers, kind.engine_class)
        if kind.has_weights:
            mods.append(cls(w_in, w_out, init=spec.init, generator=g))
        elif kind.stochastic:
            mask_gen = torch.Generator().manual_seed(mask_seed(spec.seed, i))
            mods.append(cls(**layer.params(), generator=mask_gen))
        else:
            mods.append(cls(**layer.params()))
    model = Sequential(*mods)
    if spec.device != "cpu":
        for p, grad in model.param():
            p.data = p.data.to(spec.device)
            grad.data = grad.data.to(spec.device)
    return model


def build_loss(spec: RunSpec) -> Loss:
    loss: Loss = getattr(losses, LOSSES[spec.loss].engine_class)()
    return loss


def build_optimizer(spec: RunSpec, params: list[Param]) -> Optimizer:
    """The spec's solver over ``params``, constructed with the settings its registry entry
    lists (SGD: lr, momentum, weight decay, nesterov; Adam: lr, betas, weight decay)."""
    kind = SOLVERS[spec.solver.name]
    settings: dict[str, Any] = {k: getattr(spec.solver, k) for k in kind.settings}
    if "betas" in settings:
        settings["betas"] = tuple(settings["betas"])
    solver: Optimizer = getattr(optim, kind.engine_class)(params, **settings)
    return solver


def build_dataset(spec: RunSpec, n: int, seed: int, name: str | None = None) -> Dataset:
    """``n`` points of the spec's dataset (or ``name``) drawn with ``seed``, with the spec's
    noise, centred when the spec says so, on the spec's device: what its model expects."""
    kind = DATASETS[name if name is not None else spec.data.name]
    make = getattr(datasets, kind.builder)
    data: Dataset = make(n, noise=spec.data.noise, seed=seed)
    if spec.data.center:
        data = Dataset(centre_inputs(data.x), data.y)
    return data.to(spec.device) if spec.device != "cpu" else data


def build_data(spec: RunSpec, seed: int | None = None) -> tuple[Dataset, Dataset]:
    """Independent train and test sets, drawn with seeds 2·seed and 2·seed + 1."""
    seed = spec.seed if seed is None else seed
    return (
        build_dataset(spec, spec.data.n_train, 2 * seed),
        build_dataset(spec, spec.data.n_test, 2 * seed + 1),
    )
