"""What a run's data look like to its model, and how raw inputs are prepared for it.

:class:`DataShape` says, without torch, how many inputs and classes a run's data have, and
their names: the toy datasets have 2 inputs (``x1``, ``x2``) and ``data.classes`` classes (2
unless blobs or spirals are asked for more, :meth:`DataShape.generated`); a CSV file decides
both (:mod:`.table` reads it). :func:`~.spec.data_shape` gives a spec's; spec validation, the
CLI, the trainer and checkpoints all ask that one function.

:class:`InputTransform` is what happens to raw inputs before the model sees them: nothing,
``center`` (the unit square [0,1]² onto [−1,1]², x′ = 2x − 1) or ``standardize`` (each feature
minus its training-set mean, over its training-set standard deviation, x′ = (x − μ) / σ). It is
stored with a model (checkpoints), so later inputs (``evaluate --data``, ``predict``, the
trainer's maps) go through the very same transform.

This module imports no torch at import time: the trainer and ``inspect_checkpoint`` read it
before torch has loaded. Only :meth:`InputTransform.apply` and its kin take tensors. It sits
low in the engine's imports (only the registry below it): the CSV reader and the spec build on
it.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import CSVError
from .plurals import plural
from .registry import LIMITS, N_INPUTS, show

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from torch import Tensor


def as_float32(value: float) -> float | None:
    """``value`` rounded to float32 (the model's dtype, which its input transform is stored
    for), or None when it is beyond float32's range."""
    try:
        rounded: float = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        return None
    return rounded if math.isfinite(rounded) else None


@dataclass(frozen=True)
class RowOrigin:
    """The file a dataset's rows were read from, each row's line in it and each feature's
    column: what a message about a value names (``d.csv:12: column 2 (x)``)."""

    path: Path
    lines: Sequence[int]
    columns: tuple[str, ...]

    def cell(self, row: int, feature: int) -> str:
        return f"{self.path}:{self.lines[row]}: {self.columns[feature]}"

    def column(self, feature: int) -> str:
        return f"{self.path}: {self.columns[feature]}"


TOY_FEATURES = ("x1", "x2")
TOY_LABEL = "label"


@dataclass(frozen=True)
class DataShape:
    """The data as the model sees them: ``n_inputs`` features (named ``feature_names``) and
    ``n_classes`` classes (named ``class_names``, class i is ``class_names[i]``), ``n_train``
    and ``n_test`` rows. ``label_name`` and ``label_position`` (0-based, among the
    n_inputs + 1 columns of a data row) say where a file's labels were, so that a file given to
    ``evaluate`` or ``predict`` later is read the same way."""

    n_inputs: int
    n_classes: int
    class_names: tuple[str, ...]
    feature_names: tuple[str, ...]
    n_train: int
    n_test: int
    label_name: str = TOY_LABEL
    label_position: int = N_INPUTS

    @classmethod
    def generated(cls, n_classes: int, n_train: int, n_test: int) -> DataShape:
        """A generated dataset's: 2 inputs (``x1``, ``x2``), classes ``"0"`` … ``"k-1"``."""
        return cls(
            n_inputs=N_INPUTS,
            n_classes=n_classes,
            class_names=toy_class_names(n_classes),
            feature_names=TOY_FEATURES,
            n_train=n_train,
            n_test=n_test,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_inputs": self.n_inputs,
            "n_classes": self.n_classes,
            "class_names": list(self.class_names),
            "feature_names": list(self.feature_names),
            "n_train": self.n_train,
            "n_test": self.n_test,
            "label_name": self.label_name,
            "label_position": self.label_position,
        }

    @classmethod
    def from_dict(cls, raw: object) -> DataShape:
        """Read back :meth:`to_dict` (a checkpoint's metadata); ValueError says what is off."""
        if not isinstance(raw, dict):
            raise ValueError(f"expected a table, got {show(raw)}")
        ints = {}
        for key, high in (
            ("n_inputs", LIMITS.max_features),
            ("n_classes", LIMITS.max_classes),
            ("n_train", LIMITS.max_samples),
            ("n_test", LIMITS.max_samples),
            ("label_position", LIMITS.max_features),
        ):
            value = raw.get(key)
            low = 0 if key == "label_position" else 1
            if type(value) is not int or not low <= value <= high:
                raise ValueError(f"{key} must be a whole number in [{low}, {high}]")
            ints[key] = value
        names = {}
        for key, count in (("class_names", ints["n_classes"]), ("feature_names", ints["n_inputs"])):
            value = raw.get(key)
            if not (
                isinstance(value, list)
                and len(value) == count
                and all(isinstance(v, str) and len(v) <= 1000 for v in value)
            ):
                raise ValueError(f"{key} must be a list of {plural(count, 'name')}")
            names[key] = tuple(value)
        if len(set(names["class_names"])) != len(names["class_names"]):
            raise ValueError("class_names must be distinct: two classes have one name")
        label = raw.get("label_name")
        if not isinstance(label, str) or len(label) > 1000:
            raise ValueError("label_name must be a name")
        if ints["label_position"] > ints["n_inputs"] or ints["n_classes"] < 2:
            raise ValueError("label_position or n_classes out of range")
        return cls(
            n_inputs=ints["n_inputs"],
            n_classes=ints["n_classes"],
            class_names=names["class_names"],
            feature_names=names["feature_names"],
            n_train=ints["n_train"],
            n_test=ints["n_test"],
            label_name=label,
            label_position=ints["label_position"],
        )


def toy_class_names(k: int) -> tuple[str, ...]:
    """The classes of a generated dataset: ``"0"`` … ``"k-1"``."""
    return tuple(str(i) for i in range(k))


# ---- the input transform -----------------------------------------------------------------------
TRANSFORMS = ("none", "center", "standardize")


@dataclass(frozen=True)
class InputTransform:
    """What raw inputs go through before the model: ``kind`` is one of

    - ``none``: x′ = x;
    - ``center``: x′ = 2x − 1, the unit square onto [−1,1]² (a fixed map, no statistics);
    - ``standardize``: x′_j = (x_j − μ_j) / σ_j with the training set's mean μ_j and standard
      deviation σ_j (population, ÷ n) of feature j; a constant feature (σ_j = 0) gets σ_j = 1,
      so it is only shifted.

    ``mean`` and ``std`` hold μ and σ (empty unless standardize). They are computed and applied
    in float64, and must be representable in float32 (the model's dtype): every μ finite and
    every σ > 0 once rounded to it (checked where they are made and where a checkpoint is
    read).
    """

    kind: str = "none"
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()

    @classmethod
    def standardize_from(cls, x: Tensor, origin: RowOrigin | None = None) -> InputTransform:
        """μ and σ of the rows of ``x`` (n, d), in float64, scaled by a power of two per
        feature so that no sum overflows (exact: the scale only moves exponents). A feature
        whose μ is beyond float32's range, or whose σ > 0 vanishes in float32, is a CSVError
        naming its column (by ``origin``)."""
        import torch

        if x.shape[0] == 0:
            raise ValueError("cannot standardize an empty training set")
        xd = x.double()
        _, exponent = torch.frexp(xd.abs().amax(dim=0))
        scale = torch.ldexp(torch.ones_like(xd[0]), exponent - 1)  # |x| / scale < 2
        scaled = xd / scale
        mean = scaled.mean(dim=0) * scale
        std = scaled.std(dim=0, correction=0) * scale
        std = std.masked_fill(std == 0, 1.0)
        means, stds = tuple(mean.tolist()), tuple(std.tolist())
        for j, (mu, sigma) in enumerate(zip(means, stds, strict=True)):
            problem = _transform_problem(mu, sigma)
            if problem:
                where = origin.column(j) if origin is not None else f"feature {j + 1}"
                raise CSVError(f"{where}: {problem}")
        return cls("standardize", means, stds)

    def apply(self, x: Tensor) -> Tensor:
        """x′ from raw inputs ``x`` (n, d), in ``x``'s dtype (the engine passes float64: see
        :func:`~.data.model_inputs`)."""
        if self.kind == "none":
            return x
        if self.kind == "center":
            return x * 2.0 - 1.0
        mean, std = self._tensors(x)
        return (x - mean) / std

    def invert(self, x: Tensor) -> Tensor:
        """Raw inputs from transformed ones (for drawing the model's inputs where they were),
        in float64 for a standardisation (a timestamp's seconds survive)."""
        if self.kind == "none":
            return x
        if self.kind == "center":
            return (x + 1.0) / 2.0
        xd = x.double()
        mean, std = self._tensors(xd)
        return xd * std + mean

    def _tensors(self, x: Tensor) -> tuple[Tensor, Tensor]:
        import torch

        if x.shape[-1] != len(self.mean):
            raise ValueError(
                f"the input transform takes {plural(len(self.mean), 'feature')}, got {x.shape[-1]}"
            )
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device)
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device)
        return mean, std

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, raw: object, n_inputs: int) -> InputTransform:
        """Read back :meth:`to_dict` for a model of ``n_inputs`` inputs; ValueError if off."""
        if not isinstance(raw, dict) or raw.get("kind") not in TRANSFORMS:
            raise ValueError(f"the input transform must name one of {', '.join(TRANSFORMS)}")
        kind = raw["kind"]
        mean, std = raw.get("mean"), raw.get("std")
        want = n_inputs if kind == "standardize" else 0
        for name, values in (("mean", mean), ("std", std)):
            if not (
                isinstance(values, list)
                and len(values) == want
                and all(type(v) in (int, float) for v in values)
            ):
                raise ValueError(f"the input transform's {name} must be {want} numbers")
        assert isinstance(mean, list) and isinstance(std, list)
        for j, (mu, sigma) in enumerate(zip(mean, std, strict=True)):
            problem = _transform_problem(float(mu), float(sigma))
            if problem:
                raise ValueError(f"the input transform of feature {j + 1}: {problem}")
        return cls(kind, tuple(float(v) for v in mean), tuple(float(v) for v in std))


def _transform_problem(mean: float, std: float) -> str:
    """Why a feature's standardisation (μ, σ) cannot be a float32 model's, or ``""``."""
    for name, value in (("mean", mean), ("std", std)):
        if not math.isfinite(value):
            return f"its {name} {value} is not a finite number"
        if as_float32(value) is None:
            return f"its {name} {value:.6g} is beyond float32's range (±3.4e+38)"
    rounded = as_float32(std)
    if rounded is None or not rounded > 0:
        return f"its std {std:.3g} is not > 0 in float32, the model's dtype"
    return ""
