"""From a run spec to engine objects: the model, the loss, the solver and the data.

Each builder looks the spec's names up in :mod:`.registry` and constructs the engine class the
entry names, so a new layer kind, loss, solver or dataset needs no change here.

The data go in two steps: :func:`build_raw_data` draws (or reads and splits) the raw training
and test sets, :func:`build_transform` finds the input transform (centring, or the training
set's mean and standard deviation), and :func:`build_data` returns both sets transformed, on the
spec's device: what the model trains and is evaluated on.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from . import data as datasets
from . import layers, losses, optim
from .data import Dataset, csv_datasets, model_inputs
from .holdout import validation_rows
from .layers import check_device
from .losses import Loss
from .module import Module, Param, Sequential
from .optim import Optimizer
from .registry import DATASETS, LAYERS, LOSSES, SOLVERS
from .shape import DataShape, InputTransform
from .spec import LayerSpec, RunSpec, data_seed
from .table import csv_split

_SEED_RANGE = 2**63  # torch generators take a signed 64-bit seed


def mask_seed(seed: int, position: int) -> int:
    """The seed of the mask stream of the random layer at ``position`` (0-based) in a run
    seeded ``seed``: each one its own, so two Dropout layers never share a mask."""
    return (seed * 1_000_003 + position + 1) % _SEED_RANGE


def build_model(
    spec: RunSpec, generator: torch.Generator | None = None, shape: DataShape | None = None
) -> Sequential:
    """The layer stack as a :class:`Sequential`, weights drawn from ``generator`` (seeded from
    ``spec.seed`` when not given), on ``spec.device``. Validates the spec first, against
    ``shape`` when given (a checkpoint's), else the shape of its data."""
    shape = shape if shape is not None else spec.shape()
    spec.validate(shape)
    g = generator if generator is not None else torch.Generator().manual_seed(spec.seed)
    widths = spec.layer_widths(shape)
    model = Sequential(
        *(
            build_layer(layer, w_in, w_out, spec.init, g, mask_seed(spec.seed, i))
            for i, ((w_in, w_out), layer) in enumerate(zip(widths, spec.layers, strict=True))
        )
    )
    if spec.device != "cpu":
        check_device(spec.device)  # one line, where torch would assert
        for p, grad in model.param():
            p.data = p.data.to(spec.device)
            grad.data = grad.data.to(spec.device)
    return model


def build_layer(
    layer: LayerSpec,
    n_in: int,
    n_out: int,
    init: str = "normal",
    generator: torch.Generator | None = None,
    seed: int = 0,
) -> Module:
    """One layer as its kind's engine class (:data:`~.registry.LAYERS`): a kind with weights
    is ``cls(n_in, n_out, init=, generator=)`` (its weights drawn from ``generator``); a
    stochastic one draws its masks from its own generator seeded ``seed``; the others take
    their parameters by name. The one way every layer is constructed (the tests build each
    kind this way to check it against its torch class)."""
    kind = LAYERS[layer.kind]
    cls = getattr(layers, kind.engine_class)
    module: Module
    if kind.has_weights:
        module = cls(n_in, n_out, init=init, generator=generator)
    elif kind.stochastic:
        module = cls(**layer.params(), generator=torch.Generator().manual_seed(seed))
    else:
        module = cls(**layer.params())
    return module


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


def generate(spec: RunSpec, n: int, seed: int, name: str | None = None) -> Dataset:
    """``n`` raw points of the spec's generated dataset (or ``name``) drawn with ``seed``, with
    the spec's noise (and classes, for the datasets that take them), on the CPU."""
    kind = DATASETS[name if name is not None else spec.data.name]
    make = getattr(datasets, kind.builder)
    if kind.classes:
        data: Dataset = make(n, noise=spec.data.noise, seed=seed, classes=spec.data.classes)
    else:
        data = make(n, noise=spec.data.noise, seed=seed)
    return data


def build_raw_data(spec: RunSpec, seed: int | None = None) -> tuple[Dataset, Dataset]:
    """The raw training and test sets (before the input transform), on the CPU.

    Generated data: independent sets drawn with seeds 2·s and 2·s + 1, s = ``seed``, else the
    data seed (``data.seed``, else the run's seed). CSV: the file's split (see
    :func:`~.table.csv_split`; ``seed`` replaces the split's seed).
    """
    if DATASETS[spec.data.name].from_file:
        if seed is not None:
            spec = spec.replace(data=dataclasses.replace(spec.data, seed=seed))
        return csv_datasets(csv_split(spec.data, data_seed(spec)))
    s = data_seed(spec) if seed is None else seed
    return generate(spec, spec.data.n_train, 2 * s), generate(spec, spec.data.n_test, 2 * s + 1)


def build_transform(spec: RunSpec, raw_train: Dataset | None = None) -> InputTransform:
    """The spec's input transform: centring, standardisation with ``raw_train``'s statistics
    (the spec's own raw training set when not given), or none."""
    if spec.data.center:
        return InputTransform("center")
    if spec.data.standardize:
        if raw_train is None:
            raw_train = build_raw_data(spec)[0]
        return InputTransform.standardize_from(raw_train.x, raw_train.origin)
    return InputTransform()


def split_validation(spec: RunSpec, raw_train: Dataset) -> tuple[Dataset, Dataset | None]:
    """The training set less the spec's validation rows, and those rows (None without
    ``data.validation_fraction``): a stratified share of the *training* rows, drawn with the
    data seed (:func:`~.holdout.validation_rows`); the test set is never touched."""
    fraction = spec.data.validation_fraction
    if not fraction:
        return raw_train, None
    kept, held = validation_rows(raw_train.y.tolist(), fraction, data_seed(spec))
    return _rows_of(raw_train, kept), _rows_of(raw_train, held)


def _rows_of(data: Dataset, rows: list[int]) -> Dataset:
    """The rows ``rows`` of ``data`` (copies), their file lines with them."""
    index = torch.tensor(rows, dtype=torch.int64)
    origin = data.origin
    if origin is not None:
        origin = dataclasses.replace(origin, lines=[origin.lines[i] for i in rows])
    return Dataset(data.x[index], data.y[index], origin)


def prepare(data: Dataset, transform: InputTransform, device: str = "cpu") -> Dataset:
    """``data`` through ``transform`` (in float64) and cast to the model's dtype, on
    ``device``: what a model trained with it expects (:func:`~.data.model_inputs`, which names
    a value the cast cannot hold by file, line and column)."""
    if device != "cpu":
        check_device(device)  # one line, where torch would assert
    out = Dataset(model_inputs(data.x, transform, data.origin), data.y, data.origin)
    return out.to(device) if device != "cpu" else out


def build_dataset(
    spec: RunSpec,
    n: int,
    seed: int,
    name: str | None = None,
    transform: InputTransform | None = None,
) -> Dataset:
    """``n`` points of the spec's generated dataset (or ``name``) drawn with ``seed``, through
    ``transform`` (default: the spec's, :func:`build_transform`), on the spec's device: what
    its model expects."""
    if transform is None:
        transform = build_transform(spec)
    return prepare(generate(spec, n, seed, name), transform, spec.device)


def build_data(spec: RunSpec, seed: int | None = None) -> tuple[Dataset, Dataset]:
    """The training and test sets (:func:`build_raw_data`), through the spec's input transform
    (:func:`build_transform`, fitted to the training set), on the spec's device."""
    return build_run_data(spec, seed)[1:]


def build_run_data(
    spec: RunSpec, seed: int | None = None
) -> tuple[InputTransform, Dataset, Dataset]:
    """(transform, training set, test set): :func:`build_data` and the transform it used."""
    train, test = build_raw_data(spec, seed)
    transform = build_transform(spec, train)
    return transform, prepare(train, transform, spec.device), prepare(test, transform, spec.device)
