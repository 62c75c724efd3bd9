"""Looking inside a model: class probabilities, a layer's activations, the confusion matrix, the
input plane a map is drawn over, and a preview of the data before any model exists.

Every function takes *raw* inputs (as in the data file, or the unit square of the generated
datasets) and puts them through the run's :class:`~.shape.InputTransform` itself, so a caller
never needs to know whether the model was trained on centred or standardised inputs. Forward
passes run in eval mode (Dropout off), in chunks of rows, and compute no gradient; the results
are on the CPU.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor

from .data import Dataset, model_inputs
from .module import Sequential
from .plurals import plural
from .registry import DATASETS
from .shape import DataShape, InputTransform
from .spec import RunSpec

CHUNK = 65_536  # rows per forward pass: memory stays bounded for any number of inputs
#: The generated datasets are drawn in the unit square: their maps span it.
UNIT_SQUARE = (0.0, 1.0)
MARGIN = 0.05  # a CSV map spans the data's range plus this fraction of it on each side


@contextmanager
def eval_mode(model: Sequential) -> Iterator[Sequential]:
    """``model`` in eval mode for the block, then back to the mode it was in."""
    was = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was)


def _device(model: Sequential) -> torch.device:
    params = model.param()
    return params[0][0].device if params else torch.device("cpu")


def outputs(
    model: Sequential, transform: InputTransform, x: Tensor, upto: int | None = None
) -> Tensor:
    """The output of the module at position ``upto`` (default: the last) for raw inputs ``x``
    (n, d), in eval mode, chunk by chunk."""
    modules = list(model)
    stop = len(modules) - 1 if upto is None else upto
    if not 0 <= stop < len(modules):
        raise ValueError(f"layer {upto} is not in a stack of {plural(len(modules), 'layer')}")
    device = _device(model)
    parts = []
    with eval_mode(model):
        for xc in x.split(CHUNK):
            h = model_inputs(xc.to(device), transform)
            for m in modules[: stop + 1]:
                h = m.forward(h)
            parts.append(h.cpu())
    if not parts:
        return torch.empty(0, 0)
    return torch.cat(parts)


def class_probabilities(model: Sequential, transform: InputTransform, x: Tensor) -> Tensor:
    """P(class j | x) for raw inputs ``x`` (n, d): the softmax of the model's outputs, (n, k).

    For any loss: for MSE-trained outputs the softmax is a monotone read of the same argmax
    decision, not a calibrated probability.
    """
    return torch.softmax(outputs(model, transform, x), dim=-1)


def activations(model: Sequential, transform: InputTransform, x: Tensor, layer: int) -> Tensor:
    """The output of the module at position ``layer`` (0-based) of the stack, for raw inputs
    ``x`` (n, d): (n, units). Choose the activation after a Linear to see its neurons' outputs
    (the Linear itself gives their pre-activations)."""
    return outputs(model, transform, x, upto=layer)


def confusion_matrix(model: Sequential, data: Dataset, n_classes: int) -> Tensor:
    """C[i, j] = how many points of true class i the model predicts as class j (int64, k × k),
    on ``data`` as the model sees it (already transformed, as a run's ``test_data``)."""
    device = _device(model)
    counts = torch.zeros(n_classes * n_classes, dtype=torch.int64)
    with eval_mode(model):
        for xc, yc in zip(data.x.split(CHUNK), data.y.split(CHUNK), strict=True):
            pred = model.forward(xc.to(device)).argmax(dim=-1).cpu()
            counts += torch.bincount(yc.cpu() * n_classes + pred, minlength=n_classes**2)
    return counts.view(n_classes, n_classes)


# ---- the input plane ---------------------------------------------------------------------------
@dataclass(frozen=True)
class FeatureSummary:
    """Per feature of the raw data: where a map of it spans (``low``, ``high``) and the
    training set's ``mean`` (the value a map holds the features it does not show at)."""

    low: tuple[float, ...]
    high: tuple[float, ...]
    mean: tuple[float, ...]


def summarize(spec: RunSpec, train: Dataset, test: Dataset) -> FeatureSummary:
    """The generated datasets span the unit square; a CSV file's features span their range over
    both sets, widened by MARGIN on each side (±0.5 for a constant feature)."""
    mean = tuple(train.x.double().mean(dim=0).tolist())
    d = train.x.shape[1]
    if not DATASETS[spec.data.name].from_file:
        return FeatureSummary((UNIT_SQUARE[0],) * d, (UNIT_SQUARE[1],) * d, mean)
    both = torch.cat((train.x, test.x)).double()
    lo, hi = both.amin(dim=0), both.amax(dim=0)
    pad = torch.where(hi > lo, (hi - lo) * MARGIN, torch.full_like(lo, 0.5))
    return FeatureSummary(tuple((lo - pad).tolist()), tuple((hi + pad).tolist()), mean)


@dataclass(frozen=True)
class InputPlane:
    """A grid × grid lattice over two features of the raw input space: ``inputs`` (grid², d,
    float64, as raw inputs are read) holds one input per cell, row by row from the top (the
    largest value of the second feature) and left to right within a row, at the cell centres;
    every other feature is held at ``fill`` (the training mean)."""

    features: tuple[int, int]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    grid: int
    inputs: Tensor


def plane_inputs(
    fill: Sequence[float],
    features: tuple[int, int],
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    grid: int,
) -> InputPlane:
    """The lattice of :class:`InputPlane` over features ``features`` (0-based, distinct)."""
    d = len(fill)
    i, j = features
    if not (0 <= i < d and 0 <= j < d) or i == j:
        raise ValueError(f"features must be two different indices in [0, {d - 1}], got {features}")
    if grid < 1:
        raise ValueError(f"grid must be ≥ 1, got {grid}")
    ticks = (torch.arange(grid, dtype=torch.float64) + 0.5) / grid
    xs = x_range[0] + ticks * (x_range[1] - x_range[0])
    ys = y_range[1] - ticks * (y_range[1] - y_range[0])  # top row first
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    inputs = torch.tensor(list(fill), dtype=torch.float64).repeat(grid * grid, 1)
    inputs[:, i] = gx.reshape(-1)
    inputs[:, j] = gy.reshape(-1)
    return InputPlane((i, j), x_range, y_range, grid, inputs)


# ---- the data before any model ------------------------------------------------------------------
@dataclass(frozen=True)
class DataPreview:
    """A spec's data as drawn or read, before the input transform: the training and test
    points and their classes, the names, and the feature summary a map is laid out with."""

    train: Dataset
    test: Dataset
    shape: DataShape
    summary: FeatureSummary

    def plane(self, features: tuple[int, int] = (0, 1), grid: int = 48) -> InputPlane:
        """The lattice over two features, the others at their training mean."""
        s = self.summary
        i, j = features
        for k in (i, j):
            if not 0 <= k < len(s.mean):
                known = plural(len(s.mean), "feature")
                raise ValueError(f"feature {k} is not one of the data's {known}")
        return plane_inputs(s.mean, features, (s.low[i], s.high[i]), (s.low[j], s.high[j]), grid)


def preview_data(spec: RunSpec) -> DataPreview:
    """The data of ``spec`` without building a model (the trainer's preview before training,
    and after a reset)."""
    from .build import build_raw_data

    train, test = build_raw_data(spec)
    return DataPreview(train, test, spec.shape(), summarize(spec, train, test))
