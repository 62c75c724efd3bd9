"""Torch-free helpers for editing a run spec in the trainer: layer rows, settings parsing.

Everything here is plain Python on top of :mod:`miniframe.engine.spec` (which imports no torch),
so the screen can show and validate the network before torch has loaded, and tests can
exercise the logic without a terminal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from miniframe.engine import (
    CLASSES_UNITS,
    DATASETS,
    INITS,
    LAYERS,
    LOSSES,
    N_CLASSES,
    N_INPUTS,
    OPTIONS,
    SETTINGS,
    SOLVERS,
    DataSpec,
    LayerSpec,
    RunSpec,
    SolverSpec,
    SpecError,
    file_data,
    tabular_spec,
)

#: Layer kinds offered in the "add layer" menu, with the parameter each one asks for (from the
#: engine's registry, like everything the menus and parsers below offer).
LAYER_MENU: list[tuple[str, str | None]] = [
    (k.name, k.param.name if k.param else None) for k in LAYERS.values()
]

PARAM_LABELS = {p.name: p.label for k in LAYERS.values() for p in k.params if p.editable}


@dataclass(frozen=True)
class LayerRow:
    """One row of the layer stack as shown on screen."""

    label: str
    params: int


def layer_rows(
    layers: Sequence[LayerSpec], n_inputs: int = N_INPUTS, n_classes: int = N_CLASSES
) -> list[LayerRow]:
    """Label (``Linear 2 → 25``, ``ReLU``) and parameter count per layer, widths inferred
    (``units = "classes"`` is ``n_classes``)."""
    rows = []
    width = n_inputs
    for layer in layers:
        kind = LAYERS.get(layer.kind)
        units = n_classes if layer.units == CLASSES_UNITS else layer.units
        if kind and kind.has_weights and isinstance(units, int) and units > 0:
            rows.append(LayerRow(layer.label(width, units), width * units + units))
            width = units
        else:
            rows.append(LayerRow(layer.label(width), 0))
    return rows


def param_name(kind: str) -> str | None:
    """The editable parameter of a layer kind (``units``, ``negative_slope``, ``p``) or None."""
    return dict(LAYER_MENU).get(kind)


def kind_title(kind: str) -> str:
    """Display name of a layer kind."""
    return LAYERS[kind].title if kind in LAYERS else kind


def parse_layer_param(kind: str, text: str) -> int | float:
    """Parse the parameter typed for a layer; ValueError with a readable message."""
    param = LAYERS[kind].param
    if param is None:
        raise ValueError(f"{kind_title(kind)} takes no parameter")
    return param.parse(text)


def make_layer(kind: str, value: int | float | None = None) -> LayerSpec:
    """A LayerSpec of ``kind`` with its parameter set to ``value`` (or the default)."""
    param = LAYERS[kind].param
    if param is None:
        return LayerSpec(kind=kind)
    # The registry names the field the parameter fills (units, negative_slope or p).
    fields: dict[str, Any] = {param.name: param.default if value is None else value}
    return LayerSpec(kind=kind, **fields)


def layer_param_text(layer: LayerSpec) -> str:
    """The current parameter of a layer as editable text."""
    name = param_name(layer.kind)
    if name is None:
        return ""
    value = getattr(layer, name)
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def stack_error(spec: RunSpec) -> str | None:
    """Why ``spec`` cannot be trained, or None when it validates."""
    try:
        spec.validate()
    except SpecError as e:
        return str(e)
    return None


# ---- settings --------------------------------------------------------------------------


def _solver_choices() -> list[tuple[str, str]]:
    """Each solver; one with momentum also as "<title> + momentum" (value "momentum")."""
    choices = []
    for s in SOLVERS.values():
        choices.append((s.title, s.name))
        if s.has_momentum:
            choices.append((f"{s.title} + momentum", "momentum"))
    return choices


SOLVER_CHOICES = _solver_choices()
LOSS_CHOICES = [(k.title, k.name) for k in LOSSES.values()]
INIT_CHOICES = [(k.title, k.name) for k in INITS.values()]
# Every dataset; "CSV file" uses the file picked with the data picker (D).
DATASET_CHOICES = [(k.title, k.name) for k in DATASETS.values()]
#: The datasets that take a number of classes (blobs: k centres, spirals: k arms).
CLASS_DATASETS = frozenset(k.name for k in DATASETS.values() if k.classes)
#: Yes/no settings shown as a choice.
YES_NO = [("no", "no"), ("yes", "yes")]

#: Text settings: field id -> (label, parser). Order is the on-screen order.
FIELD_PATHS = {
    "lr": "solver.lr",
    "momentum": "solver.momentum",
    "weight_decay": "solver.weight_decay",
    "batch_size": "batch_size",
    "epochs": "epochs",
    "seed": "seed",
    "noise": "data.noise",
    "n_train": "data.n_train",
    "n_test": "data.n_test",
    "classes": "data.classes",
    "data_seed": "data.seed",
    "target_acc": "stop.target_acc",
    "patience": "stop.patience",
}
#: Labels shorter than the registry's, for the settings panel's 14 columns.
SHORT_LABELS = {"target_acc": "stop at acc %", "patience": "patience"}
TEXT_FIELDS: dict[str, tuple[str, Callable[[str], Any]]] = {
    field: (SHORT_LABELS.get(field, SETTINGS[path].label), SETTINGS[path].parse)
    for field, path in FIELD_PATHS.items()
}
#: Text settings that may be left empty (None: no data seed of its own, no stop condition).
OPTIONAL_FIELDS = frozenset({"data_seed", "target_acc", "patience"})
#: The trainer's own settings, not a spec's (a spec loaded leaves them as they are).
TRAINER_FIELDS = {"seeds": OPTIONS["trainer_seeds"]}
TRAINER_DEFAULTS = {"seeds": "1"}
TEXT_FIELDS |= {field: (p.label, p.parse) for field, p in TRAINER_FIELDS.items()}


def parse_setting(field: str, text: str) -> Any:
    """Parse one text setting; ValueError says what is wrong."""
    text = text.strip()
    if not text:
        if field in OPTIONAL_FIELDS:
            return None
        raise ValueError("required")
    try:
        return TEXT_FIELDS[field][1](text)
    except ValueError as e:  # the field shows its label; the message needn't repeat it
        label = TEXT_FIELDS[field][0]
        raise ValueError(str(e).removeprefix(f"{label}: ").removeprefix(f"{label} ")) from None


def solver_choice(solver: SolverSpec) -> str:
    """Which of SOLVER_CHOICES a SolverSpec corresponds to."""
    if solver.name == "adam":
        return "adam"
    return "momentum" if solver.momentum > 0 else "sgd"


def spec_values(spec: RunSpec) -> dict[str, Any]:
    """The settings-panel values of a spec (choices and text fields)."""
    s, d = spec.solver, spec.data
    return {
        "loss": spec.loss,
        "solver": solver_choice(s),
        "init": spec.init,
        "dataset": d.name,
        "lr": f"{s.lr:g}",
        "momentum": f"{s.momentum:g}",
        "weight_decay": f"{s.weight_decay:g}",
        "batch_size": str(spec.batch_size),
        "epochs": str(spec.epochs),
        "seed": str(spec.seed),
        "noise": f"{d.noise:g}",
        "n_train": str(d.n_train),
        "n_test": str(d.n_test),
        "classes": str(d.classes),
        "data_seed": "" if d.seed is None else str(d.seed),
        "target_acc": "" if spec.stop.target_acc is None else f"{spec.stop.target_acc:g}",
        "patience": "" if spec.stop.patience is None else str(spec.stop.patience),
        "restore_best": "yes" if spec.stop.restore_best else "no",
    }


def apply_settings(base: RunSpec, values: dict[str, Any]) -> RunSpec:
    """A new spec: ``base`` with parsed settings ``values`` applied (choices + numbers)."""
    solver = base.solver
    choice = values.get("solver", solver_choice(solver))
    momentum = values.get("momentum", solver.momentum)
    if choice == "sgd":
        solver = dataclasses.replace(solver, name="sgd", momentum=0.0, nesterov=False)
    elif choice == "momentum":
        solver = dataclasses.replace(solver, name="sgd", momentum=momentum or 0.9)
    else:
        solver = dataclasses.replace(solver, name="adam", momentum=0.0, nesterov=False)
    solver = dataclasses.replace(
        solver,
        lr=values.get("lr", solver.lr),
        weight_decay=values.get("weight_decay", solver.weight_decay),
    )
    name = values.get("dataset", base.data.name)
    data: DataSpec = dataclasses.replace(
        base.data,
        name=name,
        noise=values.get("noise", base.data.noise),
        n_train=values.get("n_train", base.data.n_train),
        n_test=values.get("n_test", base.data.n_test),
        classes=values.get("classes", base.data.classes) if name in CLASS_DATASETS else N_CLASSES,
        seed=values.get("data_seed", base.data.seed),
    )
    if name != "csv" and base.data.name == "csv":  # back to generated data: no file
        data = dataclasses.replace(
            data, path=None, test_path=None, label_column=None, standardize=False, center=True
        )
    stop = dataclasses.replace(
        base.stop,
        target_acc=values.get("target_acc", base.stop.target_acc),
        patience=values.get("patience", base.stop.patience),
        restore_best=values.get("restore_best", "yes" if base.stop.restore_best else "no") == "yes",
    )
    return dataclasses.replace(
        base,
        loss=values.get("loss", base.loss),
        init=values.get("init", base.init),
        epochs=values.get("epochs", base.epochs),
        batch_size=values.get("batch_size", base.batch_size),
        seed=values.get("seed", base.seed),
        solver=solver,
        data=data,
        stop=stop,
    )


def batch_hint(batch_size: int | None, n_train: int | None) -> str:
    """What a batch size means: SGD at 1, full-batch GD at the training-set size."""
    if batch_size is None or n_train is None:
        return ""
    if batch_size == 1:
        return "SGD"
    if batch_size == n_train:
        return "full-batch GD"
    if batch_size > n_train:
        return ""
    return "mini-batch"


def needs_rebuild(old: RunSpec, new: RunSpec) -> bool:
    """True when going from ``old`` to ``new`` changes more than the learning rate (and
    epochs), i.e. the model must be rebuilt and trained from scratch."""
    same_lr = dataclasses.replace(new, solver=dataclasses.replace(new.solver, lr=old.solver.lr))
    same_lr = dataclasses.replace(same_lr, epochs=old.epochs, name=old.name)
    same_lr = dataclasses.replace(same_lr, description=old.description)
    return same_lr != old


def default_spec() -> RunSpec:
    """A small valid spec, used when no preset can be read."""
    return RunSpec(
        layers=[LayerSpec("linear", 25), LayerSpec("relu"), LayerSpec("linear", N_CLASSES)],
        loss="cross-entropy",
        solver=SolverSpec(name="adam", lr=3e-3),
        data=DataSpec(center=True),
        init="he",
        epochs=100,
        batch_size=32,
        name="default",
    )


def csv_spec(spec: RunSpec, path: Path, label_column: Any, standardize: bool) -> RunSpec:
    """The tabular default for the CSV file ``path``, as ``miniframe train --data`` without a
    preset trains it (:func:`~miniframe.engine.tabular_spec`, sized to the file: it is read,
    so call this off the UI thread), with the screen's seed."""
    data = file_data(spec.data, path, test_path=None, label_column=label_column,
                     standardize=standardize)  # fmt: skip
    return tabular_spec(data, seed=spec.seed)
