"""The run spec: one serializable description of a training run, and the presets.

A :class:`RunSpec` names the layer stack, loss, solver and its settings, weight init, dataset
and sizes, epochs, batch size and seed. It round-trips through dicts, JSON and TOML, validates
with messages that name the offending layer or field, and builds the model, loss, solver and
data. This module imports no torch at import time (the builders import it when called), so the
terminal trainer can read specs and presets before torch has loaded.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .data import Dataset
    from .losses import Loss
    from .module import Param, Sequential
    from .optim import Optimizer

LAYER_KINDS = ("linear", "relu", "leaky_relu", "tanh", "sigmoid", "softmax", "dropout")
LAYER_NAMES = {
    "linear": "Linear",
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "softmax": "Softmax",
    "dropout": "Dropout",
}
LOSS_NAMES = ("mse", "cross-entropy")
SOLVER_NAMES = ("sgd", "adam")
INIT_NAMES = ("normal", "uniform", "xavier", "he")
DATASET_NAMES = ("disk", "xor", "blobs", "spirals", "moons")
N_INPUTS = 2
N_CLASSES = 2


class SpecError(ValueError):
    """A run spec (or preset file) that cannot describe a run; the message says why."""


@dataclass
class LayerSpec:
    """One layer: ``kind`` from LAYER_KINDS; ``units`` for linear (its output width),
    ``in_features`` optionally stated for linear (checked against the previous layer),
    ``negative_slope`` for leaky_relu, ``p`` for dropout."""

    kind: str
    units: int | None = None
    in_features: int | None = None
    negative_slope: float = 0.01
    p: float = 0.5

    def label(self, in_width: int | None = None) -> str:
        """Human form: ``Linear 2 → 25``, ``LeakyReLU(0.01)``, ``Dropout(0.5)``, ``ReLU``."""
        name = LAYER_NAMES.get(self.kind, self.kind)
        if self.kind == "linear":
            src = in_width if in_width is not None else self.in_features
            return f"{name} {src if src is not None else '?'} → {self.units}"
        if self.kind == "leaky_relu":
            return f"{name}({self.negative_slope:g})"
        if self.kind == "dropout":
            return f"{name}({self.p:g})"
        return name

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.kind}
        if self.kind == "linear":
            d["units"] = self.units
            if self.in_features is not None:
                d["in_features"] = self.in_features
        elif self.kind == "leaky_relu":
            d["negative_slope"] = self.negative_slope
        elif self.kind == "dropout":
            d["p"] = self.p
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "layer") -> LayerSpec:
        if not isinstance(d, dict):
            raise SpecError(f"{where}: expected a table like {{type = 'relu'}}, got {d!r}")
        kind = _norm_kind(d.get("type", d.get("kind")))
        if kind not in LAYER_KINDS:
            raise SpecError(
                f"{where}: unknown layer type {d.get('type')!r}; "
                f"choose one of {', '.join(LAYER_KINDS)}"
            )
        allowed = {"type", "kind", "units", "in_features", "negative_slope", "p"}
        extra = set(d) - allowed
        if extra:
            raise SpecError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
        return cls(
            kind=kind,
            units=_opt_int(d.get("units"), f"{where}.units"),
            in_features=_opt_int(d.get("in_features"), f"{where}.in_features"),
            negative_slope=_num(d.get("negative_slope", 0.01), f"{where}.negative_slope"),
            p=_num(d.get("p", 0.5), f"{where}.p"),
        )


@dataclass
class SolverSpec:
    """``name`` "sgd" or "adam"; SGD uses momentum/nesterov, Adam betas; both weight decay."""

    name: str = "sgd"
    lr: float = 1e-4
    momentum: float = 0.0
    weight_decay: float = 0.0
    nesterov: bool = False
    betas: tuple[float, float] = (0.9, 0.999)


@dataclass
class DataSpec:
    """Dataset name, train/test sizes, input noise, and whether inputs are centred to [−1,1]²."""

    name: str = "disk"
    n_train: int = 1000
    n_test: int = 1000
    noise: float = 0.0
    center: bool = False


@dataclass
class RunSpec:
    """Everything that defines a training run. Build with :meth:`build_model` and friends."""

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

    n_inputs: int = N_INPUTS
    n_classes: int = N_CLASSES

    # ---- validation -------------------------------------------------------------------
    def validate(self) -> None:
        """Raise :class:`SpecError` naming the first thing that is wrong."""
        self.layer_widths()  # checks the stack
        if self.loss not in LOSS_NAMES:
            raise SpecError(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSS_NAMES)}")
        s = self.solver
        if s.name not in SOLVER_NAMES:
            raise SpecError(f"unknown solver {s.name!r}; choose one of {', '.join(SOLVER_NAMES)}")
        if not (isinstance(s.lr, int | float) and math.isfinite(s.lr) and s.lr > 0):
            raise SpecError(f"learning rate must be a positive number, got {s.lr!r}")
        if not (math.isfinite(s.momentum) and 0 <= s.momentum < 1):
            raise SpecError(f"momentum must be in [0, 1), got {s.momentum!r}")
        if not (math.isfinite(s.weight_decay) and s.weight_decay >= 0):
            raise SpecError(f"weight decay must be ≥ 0, got {s.weight_decay!r}")
        if s.nesterov and s.momentum == 0:
            raise SpecError("Nesterov momentum needs momentum > 0")
        if len(s.betas) != 2 or not all(0 <= b < 1 for b in s.betas):
            raise SpecError(f"Adam betas must be two numbers in [0, 1), got {s.betas!r}")
        if self.init not in INIT_NAMES:
            raise SpecError(f"unknown init {self.init!r}; choose one of {', '.join(INIT_NAMES)}")
        d = self.data
        if d.name not in DATASET_NAMES:
            raise SpecError(f"unknown dataset {d.name!r}; choose one of {', '.join(DATASET_NAMES)}")
        for key in ("n_train", "n_test"):
            v = getattr(d, key)
            if not isinstance(v, int) or v < 1:
                raise SpecError(f"{key} must be a positive integer, got {v!r}")
        if not (math.isfinite(d.noise) and d.noise >= 0):
            raise SpecError(f"noise must be ≥ 0, got {d.noise!r}")
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise SpecError(f"epochs must be a positive integer, got {self.epochs!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise SpecError(f"batch size must be a positive integer, got {self.batch_size!r}")
        if self.batch_size > d.n_train:
            raise SpecError(
                f"batch size {self.batch_size} is larger than the training set ({d.n_train})"
            )
        if not isinstance(self.seed, int) or self.seed < 0:
            raise SpecError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.device not in ("cpu", "cuda") and not self.device.startswith("cuda:"):
            raise SpecError(f"device must be 'cpu' or 'cuda', got {self.device!r}")

    def layer_widths(self) -> list[tuple[int, int]]:
        """(in, out) width of every layer, checking the stack as it goes.

        Linear input widths are inferred from the previous layer (the dataset's 2 inputs for
        the first); a stated ``in_features`` that disagrees is an error naming the layer, and
        the last Linear must produce one output per class.
        """
        if not self.layers:
            raise SpecError("the layer stack is empty: add at least one Linear layer")
        width = self.n_inputs
        widths = []
        last_linear = None
        for i, layer in enumerate(self.layers):
            where = f"layer {i + 1} ({layer.label(width)})"
            if layer.kind not in LAYER_KINDS:
                raise SpecError(f"layer {i + 1}: unknown layer type {layer.kind!r}")
            if layer.kind == "linear":
                if not isinstance(layer.units, int) or layer.units < 1:
                    raise SpecError(f"{where}: units must be a positive integer")
                if layer.in_features is not None and layer.in_features != width:
                    raise SpecError(
                        f"layer {i + 1} (Linear({layer.in_features}, {layer.units})) expects "
                        f"{layer.in_features} input features, but the layer before it "
                        f"produces {width}"
                    )
                widths.append((width, layer.units))
                width = layer.units
                last_linear = i
            else:
                if layer.kind == "leaky_relu" and not (
                    math.isfinite(layer.negative_slope) and layer.negative_slope >= 0
                ):
                    raise SpecError(f"{where}: negative slope must be ≥ 0")
                if layer.kind == "dropout" and not 0 <= layer.p < 1:
                    raise SpecError(f"{where}: dropout p must be in [0, 1), got {layer.p}")
                widths.append((width, width))
        if last_linear is None:
            raise SpecError("the stack has no Linear layer: add one that outputs 2 classes")
        if width != self.n_classes:
            raise SpecError(
                f"the last Linear (layer {last_linear + 1}) outputs {width} values, but the "
                f"task has {self.n_classes} classes: set its units to {self.n_classes}"
            )
        return widths

    def param_counts(self) -> list[int]:
        """Parameters per layer (weights + biases of each Linear, 0 otherwise), inferred widths."""
        counts = []
        width = self.n_inputs
        for layer in self.layers:
            if layer.kind == "linear" and isinstance(layer.units, int):
                counts.append(width * layer.units + layer.units)
                width = layer.units
            else:
                counts.append(0)
        return counts

    # ---- builders (import torch lazily) ------------------------------------------------
    def build_model(self, generator: Any = None) -> Sequential:
        """The layer stack as a :class:`Sequential`, weights drawn from ``generator`` (seeded
        from ``seed`` when not given)."""
        import torch

        from . import layers as L
        from .module import Sequential

        self.validate()
        g = generator if generator is not None else torch.Generator().manual_seed(self.seed)
        mods = []
        for i, ((w_in, w_out), layer) in enumerate(
            zip(self.layer_widths(), self.layers, strict=True)
        ):
            if layer.kind == "linear":
                mods.append(L.Linear(w_in, w_out, init=self.init, generator=g))
            elif layer.kind == "relu":
                mods.append(L.ReLU())
            elif layer.kind == "leaky_relu":
                mods.append(L.LeakyReLU(layer.negative_slope))
            elif layer.kind == "tanh":
                mods.append(L.Tanh())
            elif layer.kind == "sigmoid":
                mods.append(L.Sigmoid())
            elif layer.kind == "softmax":
                mods.append(L.Softmax())
            else:
                # Each Dropout draws its masks from its own stream, seeded from the run's seed
                # and its position, so two Dropout layers never share a mask.
                mask_gen = torch.Generator().manual_seed(self.seed * 1_000_003 + i + 1)
                mods.append(L.Dropout(layer.p, generator=mask_gen))
        model = Sequential(*mods)
        if self.device != "cpu":
            for p, grad in model.param():
                p.data = p.data.to(self.device)
                grad.data = grad.data.to(self.device)
        return model

    def build_loss(self) -> Loss:
        from .losses import LOSSES

        return LOSSES[self.loss]()

    def build_optimizer(self, params: list[Param]) -> Optimizer:
        from .optim import SGD, Adam

        s = self.solver
        if s.name == "adam":
            return Adam(params, lr=s.lr, betas=tuple(s.betas), weight_decay=s.weight_decay)
        return SGD(params, lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay,
                   nesterov=s.nesterov)  # fmt: skip

    def build_data(self, seed: int | None = None) -> tuple[Dataset, Dataset]:
        """Independent train and test sets (the test set is drawn with another seed)."""
        from .data import Dataset, centre_inputs, make_dataset

        seed = self.seed if seed is None else seed
        d = self.data
        train = make_dataset(d.name, d.n_train, d.noise, seed=2 * seed)
        test = make_dataset(d.name, d.n_test, d.noise, seed=2 * seed + 1)
        if d.center:
            train, test = (Dataset(centre_inputs(s.x), s.y) for s in (train, test))
        if self.device != "cpu":
            train, test = train.to(self.device), test.to(self.device)
        return train, test

    # ---- serialisation -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        s, d = self.solver, self.data
        return {
            "name": self.name,
            "description": self.description,
            "loss": self.loss,
            "init": self.init,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "device": self.device,
            "solver": {
                "name": s.name,
                "lr": s.lr,
                "momentum": s.momentum,
                "weight_decay": s.weight_decay,
                "nesterov": s.nesterov,
                "betas": list(s.betas),
            },
            "data": dataclasses.asdict(d),
            "layers": [layer.to_dict() for layer in self.layers],
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "spec") -> RunSpec:
        """Parse and validate; errors name ``source`` and the field."""
        if not isinstance(raw, dict):
            raise SpecError(f"{source}: expected a table of settings")
        top = {"name", "description", "loss", "init", "epochs", "batch_size", "seed", "device",
               "solver", "data", "layers"}  # fmt: skip
        extra = set(raw) - top
        if extra:
            raise SpecError(f"{source}: unknown setting(s) {', '.join(sorted(extra))}")
        layers_raw = raw.get("layers")
        if not isinstance(layers_raw, list):
            raise SpecError(f"{source}: 'layers' must be a list of layer tables")
        layers = [
            LayerSpec.from_dict(x, f"{source}: layer {i + 1}") for i, x in enumerate(layers_raw)
        ]
        solver_raw = _table(raw.get("solver", {}), f"{source}: solver")
        data_raw = _table(raw.get("data", {}), f"{source}: data")
        _no_extra(solver_raw, {f.name for f in dataclasses.fields(SolverSpec)}, source, "solver")
        _no_extra(data_raw, {f.name for f in dataclasses.fields(DataSpec)}, source, "data")
        betas = solver_raw.get("betas", (0.9, 0.999))
        if not isinstance(betas, list | tuple) or len(betas) != 2:
            raise SpecError(f"{source}: solver.betas must be two numbers")
        solver = SolverSpec(
            name=_str(solver_raw.get("name", "sgd"), f"{source}: solver.name"),
            lr=_num(solver_raw.get("lr", 1e-4), f"{source}: solver.lr"),
            momentum=_num(solver_raw.get("momentum", 0.0), f"{source}: solver.momentum"),
            weight_decay=_num(solver_raw.get("weight_decay", 0.0), f"{source}: weight_decay"),
            nesterov=_bool(solver_raw.get("nesterov", False), f"{source}: solver.nesterov"),
            betas=(_num(betas[0], "betas[0]"), _num(betas[1], "betas[1]")),
        )
        data = DataSpec(
            name=_str(data_raw.get("name", "disk"), f"{source}: data.name"),
            n_train=_int(data_raw.get("n_train", 1000), f"{source}: data.n_train"),
            n_test=_int(data_raw.get("n_test", 1000), f"{source}: data.n_test"),
            noise=_num(data_raw.get("noise", 0.0), f"{source}: data.noise"),
            center=_bool(data_raw.get("center", False), f"{source}: data.center"),
        )
        spec = cls(
            layers=layers,
            loss=_str(raw.get("loss", "mse"), f"{source}: loss"),
            solver=solver,
            data=data,
            init=_str(raw.get("init", "normal"), f"{source}: init"),
            epochs=_int(raw.get("epochs", 200), f"{source}: epochs"),
            batch_size=_int(raw.get("batch_size", 5), f"{source}: batch_size"),
            seed=_int(raw.get("seed", 0), f"{source}: seed"),
            device=_str(raw.get("device", "cpu"), f"{source}: device"),
            name=_str(raw.get("name", "custom"), f"{source}: name"),
            description=_str(raw.get("description", ""), f"{source}: description"),
        )
        try:
            spec.validate()
        except SpecError as e:
            raise SpecError(f"{source}: {e}") from None
        return spec

    @classmethod
    def from_toml(cls, text: str, source: str = "spec") -> RunSpec:
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise SpecError(f"{source}: not valid TOML ({e})") from None
        return cls.from_dict(raw, source)

    @classmethod
    def load(cls, path: str | Path) -> RunSpec:
        """Read a TOML (or JSON, by suffix) spec file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SpecError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError) as e:
            raise SpecError(f"{path}: cannot read ({e})") from None
        if path.suffix == ".json":
            try:
                return cls.from_dict(json.loads(text), str(path))
            except json.JSONDecodeError as e:
                raise SpecError(f"{path}: not valid JSON ({e})") from None
        return cls.from_toml(text, str(path))

    def to_toml(self) -> str:
        """TOML text that :meth:`from_toml` reads back to an equal spec."""
        d = self.to_dict()
        top = ("name", "description", "loss", "init", "epochs", "batch_size", "seed", "device")
        lines = [f"{k} = {_toml_value(d[k])}" for k in top]
        for table in ("solver", "data"):
            lines += ["", f"[{table}]"] + [f"{k} = {_toml_value(v)}" for k, v in d[table].items()]
        for layer in d["layers"]:
            lines += ["", "[[layers]]"] + [f"{k} = {_toml_value(v)}" for k, v in layer.items()]
        return "\n".join(lines) + "\n"

    def save(self, path: str | Path) -> None:
        """Write TOML atomically (temporary file in the same folder, then rename)."""
        atomic_write_text(Path(path), self.to_toml())

    def replace(self, **changes: Any) -> RunSpec:
        return dataclasses.replace(self, **changes)


# ---- presets ---------------------------------------------------------------------------
def preset_names() -> list[str]:
    """Shipped presets (TOML files in the miniframe.presets package)."""
    folder = resources.files("miniframe.presets")
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_preset(name: str) -> RunSpec:
    """A shipped preset by name; :class:`SpecError` for an unknown one."""
    names = preset_names()
    if name not in names:
        raise SpecError(f"unknown preset {name!r}; choose one of {', '.join(names)}")
    text = resources.files("miniframe.presets").joinpath(f"{name}.toml").read_text("utf-8")
    return RunSpec.from_toml(text, source=f"preset {name}")


# ---- small helpers ---------------------------------------------------------------------
def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path``, fsync, then rename over it: a crash leaves
    either the old file or the new one, never half of one."""
    write_atomic_bytes(path, text.encode("utf-8"))


def write_atomic_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _norm_kind(v: Any) -> str:
    if not isinstance(v, str):
        return repr(v)
    k = v.strip().lower().replace("-", "_")
    return {"leakyrelu": "leaky_relu", "lrelu": "leaky_relu"}.get(k, k)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        # A JSON string is a valid TOML basic string once DEL (which JSON leaves raw) is escaped.
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")


def _table(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise SpecError(f"{where} must be a table")
    return v


def _no_extra(d: dict[str, Any], allowed: set[str], source: str, table: str) -> None:
    extra = set(d) - allowed
    if extra:
        raise SpecError(f"{source}: unknown {table} setting(s) {', '.join(sorted(extra))}")


def _num(v: Any, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise SpecError(f"{where} must be a number, got {v!r}")
    return float(v)


def _int(v: Any, where: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise SpecError(f"{where} must be an integer, got {v!r}")
    return v


def _opt_int(v: Any, where: str) -> int | None:
    return None if v is None else _int(v, where)


def _str(v: Any, where: str) -> str:
    if not isinstance(v, str):
        raise SpecError(f"{where} must be a string, got {v!r}")
    return v


def _bool(v: Any, where: str) -> bool:
    if not isinstance(v, bool):
        raise SpecError(f"{where} must be true or false, got {v!r}")
    return v
