"""Datasets: two-dimensional toy problems, and one's own data from a CSV file.

Every generator returns a :class:`Dataset` of float32 inputs (n, 2) and int64 labels (n,),
is seeded (same seed, same points) and takes a ``noise`` level; ``blobs`` and ``spirals`` also
take a number of classes k (k centres, k arms), the others have 2. A ``csv`` run's data are
read by :mod:`.table` (no torch) and become tensors here (:func:`csv_datasets`): float64, as
read, each dataset knowing the file lines its rows came from.

:func:`model_inputs` is the one way from raw inputs to what a model takes: the input transform
in float64, then the cast to the model's dtype (:data:`MODEL_DTYPE`), checked. A value beyond
float32's range (``1e300``) is named by file, line and column; a feature whose spread float32
cannot hold (a timestamp near 1.7e9 whose values differ by seconds, which float32 rounds to
steps of 128) is named by column, with the fix (standardise: that happens in float64).
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
from .shape import InputTransform, RowOrigin
from .table import CSVData, Table, quote

__all__ = [
    "MODEL_DTYPE", "CSVError", "Dataset", "centre_inputs", "csv_datasets", "load_csv",
    "make_dataset", "model_inputs", "table_dataset",
]  # fmt: skip

#: The dtype of every model the engine builds from a spec, and so of its inputs.
MODEL_DTYPE = torch.float32
#: A feature whose values spread (std σ) over fewer than this many of the model dtype's steps
#: at their magnitude (its ulp at max |x|) has lost what told them apart once cast: 1.7e9 + 20k
#: seconds in float32, whose steps there are 128 s, is a handful of values. Relative to the
#: values that is σ/|x| below ~1e-6, far from any feature a network can use unstandardised.
SPREAD_STEPS = 16

_DISK = DATASETS["disk"].boundary  # the registry states the disk's circle
assert _DISK is not None
DISK_CENTER = (_DISK.x, _DISK.y)
DISK_RADIUS = _DISK.radius


@dataclass
class Dataset:
    """Inputs ``x`` (n, d) and labels ``y`` (n,) int64: float32 as the model takes them (and
    as generated), float64 as read from a file; ``origin`` names the file lines of the rows
    of a file's data (None for generated data)."""

    x: Tensor
    y: Tensor
    origin: RowOrigin | None = None

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
        return Dataset(self.x.to(device), self.y.to(device), self.origin)


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
    """The training and test sets of a ``csv`` run, raw (before any input transform): float64
    features as read, int64 class indices, the rows' file lines."""
    test_y = data.test_y if data.test is not data.train else data.train.y
    return (
        _rows(data.train, data.train.y, data.train_rows),
        _rows(data.test, test_y, data.test_rows),
    )


def table_dataset(table: Table, labels: bool = True) -> Dataset:
    """Every row of a table as a Dataset: float64 features (a view of the table's), the
    classes (−1 without ``labels`` or a label column), the rows' file lines."""
    n, d = table.n_rows, table.n_features
    x = torch.frombuffer(table.features, dtype=torch.float64).view(n, d)
    if not labels or table.label_index is None or len(table.y) != n:
        return Dataset(x, torch.full((n,), -1, dtype=torch.int64), table.origin())
    return Dataset(x, torch.frombuffer(table.y, dtype=torch.int64).clone(), table.origin())


def _rows(table: Table, y: array[int], rows: list[int]) -> Dataset:
    """The rows ``rows`` of a table's features (float64, row-major) and labels ``y``, as
    float64 and int64 tensors (copies: the table stays as it is)."""
    x = torch.frombuffer(table.features, dtype=torch.float64).view(table.n_rows, table.n_features)
    index = torch.tensor(rows, dtype=torch.int64)
    y_all = torch.frombuffer(y, dtype=torch.int64)
    return Dataset(x[index], y_all[index].clone(), table.origin(rows))


def model_inputs(
    x: Tensor,
    transform: InputTransform,
    origin: RowOrigin | None = None,
    dtype: torch.dtype = MODEL_DTYPE,
) -> Tensor:
    """Raw inputs ``x`` (n, d) as a model of ``dtype`` takes them: through ``transform`` in
    float64, then cast. Inputs already of ``dtype`` (generated data) and not standardised go
    through the transform as they are (bit for bit what they always were).

    CSVError (ValueError without ``origin``) names a value beyond ``dtype``'s range by row and
    column, and a feature whose spread the cast loses (see :data:`SPREAD_TOLERANCE`)."""
    if x.dtype == dtype and transform.kind != "standardize":
        return transform.apply(x)
    z = transform.apply(x.double())
    out = z.to(dtype)
    if out.numel() == 0:
        return out
    bad = ~torch.isfinite(out)
    if bool(bad.any()):
        i, j = (int(v) for v in bad.nonzero()[0])
        limit = torch.finfo(dtype).max
        raw = float(x[i, j])
        what = f"{raw:.6g}" + (f" (transformed: {float(z[i, j]):.6g})" if z is not x else "")
        _refuse(origin, i, j, f"{what} is beyond {_name(dtype)}'s range (±{limit:.3g})")
    if transform.kind != "standardize" and out.shape[0] > 1:
        _check_spread(z, dtype, origin)
    return out


def _check_spread(z: Tensor, dtype: torch.dtype, origin: RowOrigin | None) -> None:
    """Refuse a feature whose spread does not survive the cast (see :data:`SPREAD_STEPS`)."""
    wide = z.std(dim=0, correction=0)
    top = z.abs().amax(dim=0).to(dtype)
    step = (torch.nextafter(top, torch.full_like(top, math.inf)) - top).double()
    lost = (wide > 0) & (wide < SPREAD_STEPS * step)
    if bool(lost.any()):
        j = int(lost.nonzero()[0, 0])
        centre = float(z[:, j].mean())
        _refuse(
            origin, None, j,
            f"its values vary by {float(wide[j]):.3g} around {centre:.6g}, which "
            f"{_name(dtype)} holds only in steps of {float(step[j]):.3g}: standardise the "
            "features (--standardize; standardize = true in a spec), which is done in float64",
        )  # fmt: skip


def _name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _refuse(origin: RowOrigin | None, row: int | None, feature: int, why: str) -> None:
    if origin is not None:
        where = origin.column(feature) if row is None else origin.cell(row, feature)
        raise CSVError(f"{where}: {why}")
    where = f"feature {feature + 1}" if row is None else f"row {row + 1}, feature {feature + 1}"
    raise ValueError(f"{where}: {why}")


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
