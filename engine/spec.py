"""The run spec: one serializable description of a training run.

A :class:`RunSpec` names the layer stack, loss, solver and its settings, weight init, dataset
and sizes (or a CSV file), epochs, batch size, seed and stop conditions. It round-trips through
dicts, JSON and TOML, and validates with messages that name the file, the field (``run.toml:
solver.lr: …``) or the layer and what is wrong. Kinds, bounds and limits come from
:mod:`.registry`; each default is stated once, in the dataclasses below, and the parser reads
them from ``dataclasses.fields``.

Building engine objects from a spec is :mod:`.build`'s job, presets are :mod:`.presets`' and
file I/O :mod:`.files`'. This module imports no torch: the terminal trainer reads specs and
presets before torch has loaded.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .documents import DocumentError, load_json, load_toml
from .errors import CSVError, FileError
from .errors import SpecError as SpecError  # callers import it from here too
from .files import read_bytes_limited, write_atomic_text
from .plurals import agree, plural
from .registry import (
    CLASSES_UNITS,
    DATASETS,
    INITS,
    LAYERS,
    LIMITS,
    LOSSES,
    N_CLASSES,
    N_INPUTS,
    SETTINGS,
    SOLVERS,
    Circle,
    LayerKind,
    Number,
    ParamSpec,
    is_device,
    layer_kind,
    show,
)
from .shape import DataShape

MAX_PATH_CHARS = 4096  # a data path in a spec
MAX_NAME_CHARS = 1000  # a label column's name


def _layer_default(kind: str, param: str) -> float:
    default = LAYERS[kind].param_named(param).default
    return float(default if default is not None else 0.0)


def _fmt(v: Number) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


@dataclass
class LayerSpec:
    """One layer: ``kind`` names a :data:`~.registry.LAYERS` entry; the other fields are the
    parameters of every kind (``units`` and an optionally stated ``in_features`` for linear,
    checked against the previous layer; ``negative_slope`` for leaky_relu, ``p`` for dropout);
    a kind reads only its own. The last Linear may write ``units = "classes"``: one output per
    class of the run's data, whatever they are."""

    kind: str
    units: int | str | None = None
    in_features: int | None = None
    negative_slope: float = _layer_default("leaky_relu", "negative_slope")
    p: float = _layer_default("dropout", "p")

    def label(self, in_width: int | None = None, out_width: int | None = None) -> str:
        """Human form: ``Linear 2 → 25``, ``LeakyReLU(0.01)``, ``Dropout(0.5)``, ``ReLU``.
        ``out_width`` shows what ``units = "classes"`` comes to (else ``classes``)."""
        kind = LAYERS.get(self.kind)
        if kind is None:
            return str(self.kind)
        if kind.has_weights:
            src = in_width if in_width is not None else self.in_features
            out = out_width if self.units == CLASSES_UNITS and out_width is not None else self.units
            return f"{kind.title} {src if src is not None else '?'} → {out}"
        p = kind.param
        return kind.title if p is None else f"{kind.title}({_fmt(getattr(self, p.name))})"

    def params(self) -> dict[str, Number | str]:
        """The parameters this layer's kind takes, as set (unset optional ones left out)."""
        kind = LAYERS.get(self.kind)
        if kind is None:
            return {}
        values = {p.name: getattr(self, p.name) for p in kind.params}
        return {k: v for k, v in values.items() if v is not None}

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, **self.params()}

    @classmethod
    def from_dict(cls, raw: object, where: str = "layer") -> LayerSpec:
        """Parse one layer table (``type`` or ``kind`` names it; aliases such as ``LeakyReLU``
        are accepted); SpecError names ``where``."""
        if not isinstance(raw, dict):
            raise SpecError(f"{where}: expected a table like {{type = 'relu'}}, got {show(raw)}")
        name = raw.get("type", raw.get("kind"))
        kind = layer_kind(name)
        if kind is None:
            raise SpecError(
                f"{where}: unknown layer type {show(name)}; choose one of {', '.join(LAYERS)}"
            )
        allowed = {"type", "kind"} | {p.name for p in kind.params}
        extra = sorted(show(k) if not isinstance(k, str) else k for k in set(raw) - allowed)
        if extra:
            keys = f"unknown {agree(len(extra), 'key')} {', '.join(extra)}"
            raise SpecError(f"{where}: {keys} for a {kind.title} layer")
        values: dict[str, Any] = {}
        for p in kind.params:
            if p.name in raw and raw[p.name] is not None:
                if p.name == "units" and raw[p.name] == CLASSES_UNITS:
                    values[p.name] = CLASSES_UNITS
                    continue
                values[p.name] = _check(p, raw[p.name], f"{where} ({kind.title}): ")
        return cls(kind=kind.name, **values)


@dataclass
class SolverSpec:
    """``name`` a :data:`~.registry.SOLVERS` entry; SGD reads momentum and nesterov, Adam the
    betas, both the learning rate and weight decay."""

    name: str = "sgd"
    lr: float = 1e-4
    momentum: float = 0.0
    weight_decay: float = 0.0
    nesterov: bool = False
    betas: tuple[float, float] = (0.9, 0.999)


@dataclass
class DataSpec:
    """The data: a generated dataset or a CSV file, and how inputs are prepared.

    Generated (disk, xor, blobs, spirals, moons): ``n_train`` / ``n_test`` points with input
    ``noise``; blobs and spirals take ``classes`` (k centres, k arms). ``csv``: ``path`` (a
    relative path in a spec file is relative to that file), ``test_path`` or else a stratified
    split of ``test_fraction`` of each class, ``label_column`` (a header name, or a 1-based
    column number, −1 the last; default the last); the file decides the sizes, inputs and
    classes. ``seed``: the data's own seed (None: the run's; the data are drawn with 2·seed and
    2·seed + 1, a CSV file split with seed). ``center`` maps the unit square to [−1,1]² (the
    generated data); ``standardize`` subtracts the training set's mean and divides by its
    standard deviation, per feature (see :class:`~.shape.InputTransform`).
    ``validation_fraction``: the share of each class of the *training* rows held out as a
    validation set (0: none, the default), which the stop conditions then watch instead of
    the test set (:mod:`.holdout`).
    """

    name: str = "disk"
    n_train: int = 1000
    n_test: int = 1000
    noise: float = 0.0
    center: bool = False
    classes: int = N_CLASSES
    seed: int | None = None
    path: str | None = None
    test_path: str | None = None
    test_fraction: float = 0.2
    label_column: int | str | None = None
    standardize: bool = False
    validation_fraction: float = 0.0


@dataclass
class StopSpec:
    """When a run ends before its last epoch: once the test accuracy reaches ``target_acc`` (in
    %), or when the test loss has not improved (fallen below its best) for ``patience`` epochs
    in a row. ``restore_best``: a run that ends by itself (stop condition or last epoch) puts
    back the weights of its epoch of lowest test loss. With a validation set
    (``data.validation_fraction``) all three watch the validation set instead of the test
    set."""

    target_acc: float | None = None
    patience: int | None = None
    restore_best: bool = False


@dataclass
class RunSpec:
    """Everything that defines a training run; build it with :mod:`.build`."""

    layers: list[LayerSpec] = field(default_factory=list)
    loss: str = "mse"
    solver: SolverSpec = field(default_factory=SolverSpec)
    data: DataSpec = field(default_factory=DataSpec)
    init: str = "normal"
    epochs: int = 200
    batch_size: int = 5
    seed: int = 0
    device: str = "cpu"
    name: str = "custom"
    description: str = ""
    stop: StopSpec = field(default_factory=StopSpec)

    # ---- the data's shape (not settings: the data decide it) -----------------------------
    def shape(self) -> DataShape:
        """Inputs, classes and sizes of this spec's data (:func:`data_shape`)."""
        return data_shape(self)

    @property
    def n_inputs(self) -> int:
        return self.shape().n_inputs

    @property
    def n_classes(self) -> int:
        return self.shape().n_classes

    # ---- validation -------------------------------------------------------------------
    def validate(self, shape: DataShape | None = None) -> None:
        """Raise :class:`SpecError` naming the first thing that is wrong.

        The data's shape (inputs, classes, training-set size) is ``shape`` when given (a
        checkpoint states the shape its model was trained for), else :meth:`shape` (a CSV
        file is read: :class:`~.table.CSVError`, a SpecError, names what is wrong with it).
        """
        for table, name in (("", "loss"), ("solver.", "name"), ("", "init"), ("data.", "name")):
            _check_name(f"{table}{name}", self.get(f"{table}{name}"))
        for path, p in SETTINGS.items():
            value = self.get(path)
            if path == "solver.betas":
                if not isinstance(value, tuple | list) or len(value) != 2:
                    raise SpecError(f"{path}: Adam betas must be two numbers, got {show(value)}")
                for i, b in enumerate(value):
                    _check(p, b, f"{path}[{i}]: ")
            elif value is not None or not _optional(path):
                _check(p, value, f"{path}: ")
        s = self.solver
        if s.nesterov and s.momentum == 0:
            raise SpecError("solver.nesterov: Nesterov momentum needs momentum > 0")
        self._check_data()
        if shape is None:
            shape = self.shape()
        self.layer_widths(shape)  # the stack, each layer's parameters, the size limits
        if self.batch_size > shape.n_train:
            raise SpecError(
                f"batch_size: batch size {self.batch_size} is larger than the training set "
                f"({shape.n_train})"
            )
        if not is_device(self.device):
            raise SpecError(f"device: must be 'cpu', 'cuda' or 'cuda:N', got {show(self.device)}")
        if not isinstance(self.stop.restore_best, bool):
            raise SpecError(
                f"stop.restore_best: must be true or false, got {show(self.stop.restore_best)}"
            )

    def _check_data(self) -> None:
        """The data table's fields that depend on each other (no file is read here)."""
        d = self.data
        kind = DATASETS[d.name]
        if not kind.classes and d.classes != N_CLASSES:
            takes = ", ".join(k for k, v in DATASETS.items() if v.classes)
            raise SpecError(
                f"data.classes: the {d.name} dataset has {N_CLASSES} classes; {takes} take "
                f"classes, got {d.classes}"
            )
        for attr in ("path", "test_path"):
            value = getattr(d, attr)
            if value is None:
                continue
            if not isinstance(value, str) or not value.strip() or len(value) > MAX_PATH_CHARS:
                raise SpecError(f"data.{attr}: must be the path of a CSV file, got {show(value)}")
            if not kind.from_file:
                raise SpecError(
                    f"data.{attr}: only the csv dataset reads a file (data.name is {d.name!r})"
                )
        _check_label_column(d.label_column, "data.label_column: ")
        if d.label_column is not None and not kind.from_file:
            raise SpecError("data.label_column: only the csv dataset has a label column")
        if kind.from_file and not d.path:
            raise SpecError("data.path: a csv dataset needs the path of a CSV file")
        if kind.from_file and d.center:
            raise SpecError(
                "data.center: centring maps the unit square of the generated datasets; for a "
                "CSV file use standardize"
            )
        if d.center and d.standardize:
            raise SpecError("data.standardize: choose center or standardize, not both")

    # ---- one setting by its path -------------------------------------------------------
    def get(self, path: str) -> Any:
        """The setting at ``path``: ``solver.lr``, ``batch_size``, ``data.seed`` (the paths of
        :data:`~.registry.SPEC_SETTINGS`, or any other field of the spec's tables). KeyError
        for a path that names no field."""
        _field_type(path)
        value: Any = self
        for part in path.split("."):
            value = getattr(value, part)
        return value

    def with_setting(self, path: str, value: Any) -> RunSpec:
        """A copy with the setting at ``path`` set to ``value``, read as a spec file's value
        is (a number within its bounds, true or false, a string, None where the setting may
        be unset): SpecError names the path and what is wrong, KeyError a path that names no
        field. How the settings go together (a solver's name, the data's classes, a batch no
        larger than the training set) is :meth:`validate`'s to check."""
        converted = _convert(value, _field_type(path), path)
        head, _, rest = path.partition(".")
        if not rest:
            return self.replace(**{head: converted})
        table = dataclasses.replace(getattr(self, head), **{rest: converted})
        return self.replace(**{head: table})

    def layer_widths(self, shape: DataShape | None = None) -> list[tuple[int, int]]:
        """(in, out) width of every layer, checking the stack as it goes
        (:func:`infer_widths` with ``strict``). ``shape``: the data's (default :meth:`shape`)."""
        if shape is None:
            shape = self.shape()
        widths = infer_widths(self.layers, shape.n_inputs, shape.n_classes, strict=True)
        return [(w.n_in, w.n_out) for w in widths]

    def param_counts(self, shape: DataShape | None = None) -> list[int]:
        """Parameters per layer (weights + biases of each Linear, 0 otherwise), inferred widths
        (no validation: the trainer shows counts for a stack still being edited; data that
        cannot be read count as 2 inputs and 2 classes)."""
        if shape is None:
            try:
                shape = self.shape()
            except SpecError:
                shape = None
        n_inputs = shape.n_inputs if shape is not None else N_INPUTS
        n_classes = shape.n_classes if shape is not None else N_CLASSES
        return [w.params for w in infer_widths(self.layers, n_inputs, n_classes, strict=False)]

    # ---- serialisation -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain values (lists for tuples); scalars first, then the solver, data, stop and
        layers tables. An optional setting left unset (None: no data seed, no CSV path, no stop
        condition) is left out, as TOML has no null: the dict is TOML as it is."""
        out: dict[str, Any] = {"name": self.name, "description": self.description}
        tables: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "layers":
                tables["layers"] = [layer.to_dict() for layer in value]
            elif dataclasses.is_dataclass(value):
                tables[f.name] = {
                    g.name: _plain(getattr(value, g.name))
                    for g in dataclasses.fields(value)
                    if getattr(value, g.name) is not None
                }
            elif f.name not in out:
                out[f.name] = value
        return out | {k: tables[k] for k in ("solver", "data", "stop", "layers")}

    @classmethod
    def from_dict(
        cls,
        raw: object,
        source: str = "spec",
        *,
        base: str | Path | None = None,
        shape: DataShape | None = None,
    ) -> RunSpec:
        """Parse and validate; errors name ``source`` and the field (``source: solver.lr: …``).

        ``base``: the folder relative data paths are relative to (a spec file's own folder);
        they are stored joined to it. ``shape``: validate against this data shape instead of
        reading the data (a checkpoint's stored shape).
        """
        try:
            if not isinstance(raw, dict):
                raise SpecError(f"expected a table of settings, got {show(raw)}")
            raw = _resolve_paths(raw, base)
            if not isinstance(raw.get("layers"), list):
                raise SpecError("'layers' must be a list of layer tables")
            if len(raw["layers"]) > LIMITS.max_layers:
                raise SpecError(
                    f"the stack has {len(raw['layers'])} layers; the limit is {LIMITS.max_layers}"
                )
            spec: RunSpec = _from_table(cls, raw, "")
            spec.validate(shape)
        except SpecError as e:
            if _names_a_file(e):  # a data file's error names that file (and line, column)
                raise
            raise SpecError(f"{source}: {e}") from None
        return spec

    @classmethod
    def from_toml(
        cls, text: str, source: str = "spec", *, base: str | Path | None = None
    ) -> RunSpec:
        try:
            raw = load_toml(text)
        except DocumentError as e:
            raise SpecError(f"{source}: {_not_a_spec(e)}") from None
        return cls.from_dict(raw, source, base=base)

    @classmethod
    def from_json(
        cls,
        text: str | bytes,
        source: str = "spec",
        *,
        base: str | Path | None = None,
        shape: DataShape | None = None,
    ) -> RunSpec:
        try:
            raw = load_json(text)
        except DocumentError as e:
            raise SpecError(f"{source}: {_not_a_spec(e)}") from None
        return cls.from_dict(raw, source, base=base, shape=shape)

    @classmethod
    def load(cls, path: str | Path) -> RunSpec:
        """Read a TOML (or JSON, by the ``.json`` suffix) spec file: a regular file of at most
        :data:`~.registry.LIMITS` ``.max_spec_bytes``. Relative data paths in it are relative
        to the file's folder."""
        path = Path(path)
        try:
            data = read_bytes_limited(path, LIMITS.max_spec_bytes, "run spec")
            text = data.decode("utf-8-sig")  # -sig: a leading byte-order mark is dropped
        except FileError as e:
            raise SpecError(str(e)) from None
        except UnicodeDecodeError:
            raise SpecError(f"{path}: not a UTF-8 text file") from None
        base = path.expanduser().absolute().parent
        if path.suffix.lower() == ".json":
            return cls.from_json(text, str(path), base=base)
        return cls.from_toml(text, str(path), base=base)

    def to_toml(self) -> str:
        """TOML text that :meth:`from_toml` reads back to an equal spec."""
        import tomli_w  # the writers load when first used (the trainer's first frame is sooner)

        return tomli_w.dumps(self.to_dict())

    def to_json(self) -> str:
        import json

        return json.dumps(self.to_dict(), allow_nan=False)

    def save(self, path: str | Path) -> None:
        """Write TOML atomically (see :func:`~.files.write_atomic_bytes`)."""
        write_atomic_text(path, self.to_toml())

    def replace(self, **changes: Any) -> RunSpec:
        return dataclasses.replace(self, **changes)


# ---- what the spec says about its data and its stack ------------------------------------------
def data_seed(spec: RunSpec) -> int:
    """The seed the data are drawn (or split) with: ``data.seed``, else the run's seed."""
    return spec.seed if spec.data.seed is None else spec.data.seed


def data_shape(spec: RunSpec) -> DataShape:
    """The inputs and classes of ``spec``'s data, without torch.

    Generated datasets: 2 inputs, ``data.classes`` classes (2 for the datasets that do not take
    it), the spec's n_train and n_test. A dataset read from a file (``csv``): the file decides
    (read once and cached while it is unchanged; :class:`~.errors.CSVError` names what is
    wrong with it).
    """
    data = spec.data
    kind = DATASETS.get(data.name)
    if kind is not None and kind.from_file:
        from .table import csv_shape  # the CSV reader loads when a spec first reads a file

        return csv_shape(data, data_seed(spec))
    k = data.classes if kind is not None and kind.classes else N_CLASSES
    return DataShape.generated(k, data.n_train, data.n_test)


def true_boundary(spec: RunSpec) -> Circle | None:
    """The boundary that decides the classes of ``spec``'s data, where the dataset has one to
    draw (the disk: a circle in the raw input square, before any centring), else None."""
    kind = DATASETS.get(spec.data.name)
    return kind.boundary if kind is not None else None


@dataclass(frozen=True)
class LayerWidths:
    """One layer's widths: ``n_in`` values in, ``n_out`` out, and its ``params`` (a Linear's
    weights and biases, n_in · n_out + n_out; 0 for the others)."""

    n_in: int
    n_out: int
    params: int


def infer_widths(
    layers: Sequence[LayerSpec], n_inputs: int, n_classes: int, *, strict: bool = True
) -> list[LayerWidths]:
    """Every layer's widths, inferred: the one place that walks a stack's widths.

    The first layer takes the data's ``n_inputs``; each Linear outputs its ``units``
    (``units = "classes"``: ``n_classes``), every other layer keeps its input's width.

    ``strict`` (spec validation, building a model): check the stack as it goes, raising
    :class:`SpecError` naming the first problem: an unknown kind, a parameter out of its
    bounds, ``"classes"`` on a Linear that is not the last, a stated ``in_features`` that
    disagrees with the layer before, more than :data:`~.registry.LIMITS` layers or
    parameters, no Linear, or a last Linear that does not output one value per class.

    Not strict (a stack still being edited: the trainer's layer rows, parameter counts,
    run summaries): never raises; a layer whose kind or units are unknown passes its input
    width on and counts 0 parameters.
    """
    if strict:
        _check_stack_length(len(layers))
    linears = [i for i, x in enumerate(layers) if x.kind in LAYERS and LAYERS[x.kind].has_weights]
    width = n_inputs
    out: list[LayerWidths] = []
    total = 0
    for i, layer in enumerate(layers):
        kind = LAYERS.get(layer.kind)
        if strict:
            _check_layer(i, layer, kind, width, n_classes, i == (linears or [-1])[-1])
        units = n_classes if layer.units == CLASSES_UNITS else layer.units
        usable = isinstance(units, int) and not isinstance(units, bool) and units > 0
        if kind is not None and kind.has_weights and usable:
            assert isinstance(units, int)
            if strict and layer.in_features is not None and layer.in_features != width:
                raise SpecError(
                    f"layer {i + 1} (Linear({layer.in_features}, {units})) expects "
                    f"{layer.in_features} input features, but the layer before it "
                    f"produces {width}"
                )
            out.append(LayerWidths(width, units, width * units + units))
            total += width * units + units
            width = units
        else:
            out.append(LayerWidths(width, width, 0))
    if strict:
        _check_outputs(total, linears, width, n_classes)
    return out


def _check_stack_length(n: int) -> None:
    if n == 0:
        raise SpecError("the layer stack is empty: add at least one Linear layer")
    if n > LIMITS.max_layers:
        raise SpecError(f"the stack has {n} layers; the limit is {LIMITS.max_layers}")


def _check_layer(
    i: int, layer: LayerSpec, kind: LayerKind | None, width: int, n_classes: int, last: bool
) -> None:
    """Layer i's kind and parameters (its widths are :func:`infer_widths`' to check)."""
    if kind is None:
        raise SpecError(
            f"layer {i + 1}: unknown layer type {show(layer.kind)}; "
            f"choose one of {', '.join(LAYERS)}"
        )
    where = f"layer {i + 1} ({layer.label(width, n_classes)}): "
    for p in kind.params:
        value = getattr(layer, p.name)
        if value is None and not p.editable:
            continue  # optional and unset (in_features)
        if value is None:
            raise SpecError(f"{where}{p.label} must be set")
        if p.name == "units" and value == CLASSES_UNITS:
            if not last:
                raise SpecError(
                    f'{where}units = "classes" is for the last Linear (one output per '
                    "class); give this one a number"
                )
            continue
        _check(p, value, where)


def _check_outputs(total: int, linears: list[int], width: int, n_classes: int) -> None:
    """The whole stack: its parameter count, and a last Linear with one output per class."""
    if total > LIMITS.max_params:
        raise SpecError(f"the network has {total:,} parameters; the limit is {LIMITS.max_params:,}")
    if not linears:
        raise SpecError(f"the stack has no Linear layer: add one that outputs {n_classes} classes")
    if width != n_classes:
        raise SpecError(
            f"the last Linear (layer {linears[-1] + 1}) outputs {plural(width, 'value')}, "
            f"but the data have {plural(n_classes, 'class')}: it must output one value per "
            f'class (set its units to {n_classes}, or to "classes")'
        )


# ---- parsing, driven by the dataclasses' fields ------------------------------------------------
def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@functools.cache
def _field_type(path: str) -> Any:
    """The annotation of the spec field at ``path`` (``solver.lr`` → float); KeyError for a
    path that names no field (the layers are a list, not a setting)."""
    *tables, name = path.split(".")
    cls: Any = RunSpec
    try:
        for t in tables:
            cls = typing.get_type_hints(cls)[t]
            if not dataclasses.is_dataclass(cls):
                raise KeyError(t)
        hint = typing.get_type_hints(cls)[name]
    except (KeyError, TypeError):
        raise KeyError(f"no setting {path!r} in a run spec") from None
    if path == "layers" or dataclasses.is_dataclass(hint):
        raise KeyError(f"{path!r} is not one setting of a run spec")
    return hint


@functools.cache
def _optional(path: str) -> bool:
    """Whether the spec field at ``path`` may be None (its annotation says ``| None``)."""
    return type(None) in typing.get_args(_field_type(path))


def _names_a_file(e: SpecError) -> bool:
    return isinstance(e, CSVError)


def _resolve_paths(raw: dict[Any, Any], base: str | Path | None) -> dict[Any, Any]:
    """``raw`` with relative ``data.path`` / ``data.test_path`` joined to ``base``."""
    data = raw.get("data")
    if base is None or not isinstance(data, dict):
        return raw
    data = dict(data)
    for key in ("path", "test_path"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            p = Path(value).expanduser()
            if not p.is_absolute():
                data[key] = str(Path(base) / p)
    return {**raw, "data": data}


def _check_label_column(value: object, where: str) -> int | str | None:
    """A label column: None (the last), a 1-based column number (negative from the end) or a
    header name."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if value == 0 or abs(value) > LIMITS.max_features + 1:
            raise SpecError(
                f"{where}a column number counts from 1 (−1 is the last) and is at most "
                f"{LIMITS.max_features + 1}, got {show(value)}"
            )
        return value
    if isinstance(value, str) and value.strip() and len(value) <= MAX_NAME_CHARS:
        return value
    raise SpecError(f"{where}must be a column name or a 1-based column number, got {show(value)}")


def _check(p: ParamSpec, value: object, where: str) -> Number:
    try:
        return p.check(value)
    except ValueError as e:
        raise SpecError(f"{where}{e}") from None


def _check_name(path: str, value: object) -> None:
    tables: dict[str, dict[str, Any]] = {
        "loss": LOSSES, "solver.name": SOLVERS, "init": INITS, "data.name": DATASETS,
    }  # fmt: skip
    table = tables[path]
    if value not in table:
        what = {"solver.name": "solver", "data.name": "dataset"}.get(path, path)
        raise SpecError(f"{path}: unknown {what} {show(value)}; choose one of {', '.join(table)}")


def _from_table(cls: type[Any], raw: object, prefix: str) -> Any:
    """An instance of the dataclass ``cls`` from the table ``raw``: each field read with its
    declared type, its default where ``raw`` leaves it out; unknown keys are errors."""
    where = prefix.rstrip(".") or "spec"
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: must be a table, got {show(raw)}")
    names = {f.name for f in dataclasses.fields(cls)}
    extra = sorted(k if isinstance(k, str) else show(k) for k in set(raw) - names)
    if extra:
        unknown = ", ".join(prefix + k for k in extra)
        raise SpecError(f"unknown {agree(len(extra), 'setting')} {unknown}")
    hints = typing.get_type_hints(cls)
    values = {
        f.name: _convert(raw[f.name], hints[f.name], prefix + f.name)
        for f in dataclasses.fields(cls)
        if f.name in raw
    }
    return cls(**values)


def _convert(value: object, tp: Any, path: str) -> Any:
    """``value`` read as the type ``tp`` (the field's annotation) at ``path``."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if value is None and origin in (types.UnionType, typing.Union) and type(None) in args:
        return None  # an optional setting left unset (JSON null)
    if path == "data.label_column":
        return _check_label_column(value, f"{path}: ")
    if path in SETTINGS and path != "solver.betas":
        return _check(SETTINGS[path], value, f"{path}: ")
    if tp is bool:
        if not isinstance(value, bool):
            raise SpecError(f"{path}: must be true or false, got {show(value)}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise SpecError(f"{path}: must be a string, got {show(value)}")
        return value
    if tp is float or tp is int:  # every number a spec holds has bounds: state them
        raise TypeError(f"{path}: a number with no entry in registry.SETTINGS")
    if origin in (types.UnionType, typing.Union) and type(None) in args:
        inner = next(a for a in args if a is not type(None))
        return None if value is None else _convert(value, inner, path)
    if origin is tuple:
        if not isinstance(value, list | tuple) or len(value) != len(args):
            raise SpecError(f"{path}: must be a list of {len(args)} numbers, got {show(value)}")
        p = SETTINGS.get(path)
        return tuple(
            _check(p, v, f"{path}[{i}]: ") if p else _convert(v, a, f"{path}[{i}]")
            for i, (v, a) in enumerate(zip(value, args, strict=True))
        )
    if origin is list and args == (LayerSpec,):
        if not isinstance(value, list):
            raise SpecError(f"{path}: must be a list of layer tables")
        return [LayerSpec.from_dict(x, f"layer {i + 1}") for i, x in enumerate(value)]
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _from_table(tp, value, f"{path}.")
    raise TypeError(f"no reader for {path} of type {tp!r}")  # a new field needs one


def _not_a_spec(error: DocumentError) -> str:
    text = str(error)
    return f"not a run spec ({text})" if text == "nested too deeply" else text
