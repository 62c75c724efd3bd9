"""Datasets: two-dimensional toy problems, and one's own data from a CSV file.

Every generator returns a :class:`Dataset` of float32 inputs (n, 2) and int64 labels (n,),
is seeded (same seed, same points) and takes a ``noise`` level; ``blobs`` and ``spirals`` also
take a number of classes k (k centres, k arms), the others have 2. A ``csv`` run's data are
read by :mod:`.table` (no torch) and become tensors here (:func:`csv_datasets`).
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from .errors import CSVError, FileError
from .files import read_bytes_limited
from .registry import DATASETS, LIMITS, N_CLASSES
from .table import CSVData, quote

__all__ = [
    "CSVError", "Dataset", "centre_inputs", "csv_datasets", "load_csv", "make_dataset",
    "table_dataset",
]  # fmt: skip

_DISK = DATASETS["disk"].boundary  # the registry states the disk's circle
assert _DISK is not None
DISK_CENTER = (_DISK.x, _DISK.y)
DISK_RADIUS = _DISK.radius


@dataclass
class Dataset:
    """Inputs ``x`` (n, 2) float32 and labels ``y`` (n,) int64."""

    x: Tensor
    y: Tensor

    def __post_init__(self) -> None:
        if self.x.dim() != 2 or self.y.dim() != 1 or self.x.shape[0] != self.y.shape[0]:
            raise ValueError(
                f"Dataset needs x of shape (n, d) and y of shape (n,), "
                f"got {tuple(self.x.shape)} and {tuple(self.y.shape)}"
            )

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def num_classes(self) -> int:
        return int(self.y.max()) + 1 if len(self) else 0

    def to(self, device: str | torch.device) -> Dataset:
        return Dataset(self.x.to(device), self.y.to(device))


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _jitter(x: Tensor, noise: float, g: torch.Generator) -> Tensor:
    return x + noise * torch.randn(x.shape, generator=g) if noise > 0 else x


def make_disk(n: int, noise: float = 0.0, seed: int = 0) -> Dataset:
    """The report's task: x uniform in [0,1]², y = 1 inside the disk centred (0.5, 0.5) of
    radius 1/√(2π), else 0. ``noise`` jitters the inputs after labelling."""
    g = _gen(seed)
    x = torch.rand(n, 2, generator=g)
    cx, cy = DISK_CENTER
    y = (((x[:, 0] - cx) ** 2 + (x[:, 1] - cy) ** 2) < DISK_RADIUS**2).long()
    return Dataset(_jitter(x, noise, g), y)


def make_xor(n: int, noise: float = 0.0, seed: int = 0) -> Dataset:
    """x uniform in [0,1]², y = 1 in the bottom-left and top-right quadrants."""
    g = _gen(seed)
    x = torch.rand(n, 2, generator=g)
    y = ((x[:, 0] > 0.5) == (x[:, 1] > 0.5)).long()
    return Dataset(_jitter(x, noise, g), y)


def blob_centres(classes: int) -> Tensor:
    """The centres of ``classes`` blobs: (0.3, 0.3) and (0.7, 0.7) for two; for k > 2, k points
    evenly spaced on the circle of radius 0.3 around (0.5, 0.5), the first at the bottom-left
    (angle 225°, as for two)."""
    if classes == 2:
        return torch.tensor([[0.3, 0.3], [0.7, 0.7]])
    angle = 1.25 * math.pi + 2.0 * math.pi * torch.arange(classes, dtype=torch.float64) / classes
    centres = 0.5 + 0.3 * torch.stack((torch.cos(angle), torch.sin(angle)), dim=1)
    return centres.float()


def make_blobs(n: int, noise: float = 0.0, seed: int = 0, classes: int = N_CLASSES) -> Dataset:
    """``classes`` Gaussian blobs (two: centred (0.3, 0.3) and (0.7, 0.7); see
    :func:`blob_centres`), std 0.1 + noise; point i is of class i mod k."""
    _check_classes(classes)
    g = _gen(seed)
    y = torch.arange(n) % classes
    centres = blob_centres(classes)
    x = centres[y] + (0.1 + noise) * torch.randn(n, 2, generator=g)
    perm = torch.randperm(n, generator=g)
    return Dataset(x[perm].float(), y[perm].long())


def make_spirals(n: int, noise: float = 0.0, seed: int = 0, classes: int = N_CLASSES) -> Dataset:
    """``classes`` interleaved spirals around (0.5, 0.5), one turn and a half each: arm c
    starts at angle 2πc/k (for two, the arms are half a turn apart); point i is on arm i mod k."""
    _check_classes(classes)
    g = _gen(seed)
    y = torch.arange(n) % classes
    t = torch.rand(n, generator=g)
    angle = t * 3.0 * math.pi + (2.0 * math.pi / classes) * y
    r = 0.05 + 0.4 * t
    x = torch.stack((0.5 + r * torch.cos(angle), 0.5 + r * torch.sin(angle)), dim=1)
    return Dataset(_jitter(x, noise, g).float(), y.long())


def make_moons(n: int, noise: float = 0.0, seed: int = 0) -> Dataset:
    """Two interleaving half circles (as scikit-learn's), scaled into [0,1]²."""
    g = _gen(seed)
    y = torch.arange(n) % 2
    t = torch.rand(n, generator=g) * math.pi
    upper = torch.stack((torch.cos(t), torch.sin(t)), dim=1)
    lower = torch.stack((1.0 - torch.cos(t), 0.5 - torch.sin(t)), dim=1)
    x = torch.where(y.view(-1, 1) == 0, upper, lower)
    x = (x + torch.tensor([1.0, 0.75])) / torch.tensor([4.0, 2.5])
    return Dataset(_jitter(x, noise, g).float(), y.long())


def _check_classes(classes: int) -> None:
    if isinstance(classes, bool) or not isinstance(classes, int):
        raise ValueError(f"classes must be a whole number, got {classes!r}")
    if not 2 <= classes <= LIMITS.max_toy_classes:
        raise ValueError(f"classes must be in [2, {LIMITS.max_toy_classes}], got {classes}")


def make_dataset(
    name: str, n: int, noise: float = 0.0, seed: int = 0, classes: int = N_CLASSES
) -> Dataset:
    """One of the registry's generated :data:`~miniframe.engine.registry.DATASETS` by name;
    ``classes`` for those that take it (blobs, spirals), else it must be 2."""
    kind = DATASETS.get(name)
    if kind is None or kind.from_file:
        from .registry import GENERATED_DATASETS

        why = " (its data come from a file: see read_table)" if kind is not None else ""
        raise ValueError(
            f"unknown dataset {name!r}{why}; choose one of {', '.join(GENERATED_DATASETS)}"
        )
    if n < 1:
        raise ValueError(f"dataset size must be ≥ 1, got {n}")
    if noise < 0 or not math.isfinite(noise):
        raise ValueError(f"noise must be ≥ 0, got {noise}")
    make: Callable[..., Dataset] = globals()[kind.builder]
    if kind.classes:
        return make(n, noise=noise, seed=seed, classes=classes)
    if classes != N_CLASSES:
        raise ValueError(f"the {name} dataset has {N_CLASSES} classes, got classes={classes}")
    return make(n, noise=noise, seed=seed)


def csv_datasets(data: CSVData) -> tuple[Dataset, Dataset]:
    """The training and test sets of a ``csv`` run, raw (before any input transform): float32
    features, int64 class indices."""
    test_y = data.test_y if data.test is not data.train else data.train.y
    return (
        _rows(data.train.features, data.train.n_features, data.train.y, data.train_rows),
        _rows(data.test.features, data.test.n_features, test_y, data.test_rows),
    )


def table_dataset(features: array[float], n_features: int, y: array[int] | None) -> Dataset:
    """Every row of a table as a Dataset (labels −1 when it has none)."""
    n = len(features) // n_features
    x = torch.frombuffer(features, dtype=torch.float64).view(n, n_features).float()
    if y is None:
        return Dataset(x, torch.full((n,), -1, dtype=torch.int64))
    return Dataset(x, torch.frombuffer(y, dtype=torch.int64).clone())


def _rows(features: array[float], n_features: int, y: array[int], rows: list[int]) -> Dataset:
    """The rows ``rows`` of a table's features (float64, row-major) and labels, as float32 and
    int64 tensors (copies: the table stays as it is)."""
    n = len(features) // n_features
    x = torch.frombuffer(features, dtype=torch.float64).view(n, n_features)
    index = torch.tensor(rows, dtype=torch.int64)
    return Dataset(x[index].float(), torch.frombuffer(y, dtype=torch.int64)[index].clone())


# What a number may look like in a data file: plain decimals with an optional exponent, as
# float() reads them, but not its extras (``1_0``, non-ASCII digits, surrounding junk).
# inf and nan are read so that the error can say "must be finite".
_NUMBER = re.compile(
    r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(inf|infinity|nan)", re.IGNORECASE
)
_INTEGER = re.compile(r"[+-]?[0-9]+")
_MAX_LABEL = 2**63 - 1  # labels are stored as int64


def load_csv(path: str | Path) -> Dataset:
    """Rows ``x1,x2,label`` (# starts a comment; blank lines are skipped): two features and
    the class index itself (for any number of features, named classes, a header that names
    the label column and a train/test split, use ``[data] name = "csv"`` or
    :func:`~.table.read_table`).

    The first row may be a header: a row whose three cells are all names, none a number. Any
    other row must be two finite numbers and an integer label in [0, 2⁶³). A malformed row
    raises :class:`CSVError` naming its line (and quoting at most 80 characters of it). The
    file is read as :func:`~.table.read_table` reads one: a regular file (a FIFO is never
    opened) of at most ``LIMITS.max_csv_bytes``.
    """
    path = Path(path)
    try:
        data = read_bytes_limited(path, LIMITS.max_csv_bytes, "CSV data file")
        text = data.decode("utf-8-sig")  # -sig: a leading byte-order mark is dropped
    except FileError as e:
        raise CSVError(str(e).replace(f"{path}: ", f"{path}: cannot read: ", 1)) from None
    except UnicodeDecodeError:
        raise CSVError(f"{path}: not a UTF-8 text file") from None
    xs: list[tuple[float, float]] = []
    ys: list[int] = []
    first = True
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != 3:
            raise CSVError(f"{path}:{lineno}: expected 3 values (x1,x2,label), got {len(cells)}")
        if first and all(c and not _NUMBER.fullmatch(c) for c in cells):
            first = False
            continue  # the header
        first = False
        try:
            x1, x2, label = _number(cells[0], "x1"), _number(cells[1], "x2"), _label(cells[2])
        except ValueError as e:
            raise CSVError(f"{path}:{lineno}: {e}") from None
        xs.append((x1, x2))
        ys.append(label)
    if not xs:
        raise CSVError(f"{path}: no data rows")
    return Dataset(torch.tensor(xs, dtype=torch.float32), torch.tensor(ys, dtype=torch.int64))


def _number(cell: str, name: str) -> float:
    if not _NUMBER.fullmatch(cell):
        raise ValueError(f"{name} must be a number, got {quote(cell)}")
    value = float(cell)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {quote(cell)}")
    return value


def _label(cell: str) -> int:
    if not _INTEGER.fullmatch(cell):
        raise ValueError(f"label must be an integer, got {quote(cell)}")
    digits = cell.lstrip("+-").lstrip("0")
    if len(digits) > 19 or int(cell) > _MAX_LABEL:  # 19 digits: int() stays cheap
        raise ValueError(f"label must be < 2**63, got {quote(cell)}")
    label = int(cell)
    if label < 0:
        raise ValueError(f"label must be ≥ 0, got {quote(cell)}")
    return label


def centre_inputs(x: Tensor) -> Tensor:
    """Map the unit square [0,1]² onto [−1,1]² (x′ = 2x − 1): zero-centred inputs of unit scale,
    a fixed transform, so a saved model needs no stored statistics."""
    return x * 2.0 - 1.0
