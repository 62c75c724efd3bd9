"""The one table of every kind the engine knows, and the limits every entry point applies.

Layer kinds, losses, solvers, weight inits and datasets are each described here once: name,
title, parameters (type, default, bounds and a parser), the engine class that implements them
and the torch.nn / torch.optim class the benchmark mirrors them with. Spec validation, the
builders, the CLI's choices, the trainer's menus and dialogs and the benchmark all read these
tables, so adding a layer kind means one entry here and one class in ``layers.py``.

:data:`LIMITS` is the one set of sizes and ranges that specs, config files, checkpoints, CLI
flags and the trainer's fields all accept: a 1 KB file cannot ask for 8 GB.

This module imports only the standard library (no torch): the terminal trainer reads it before
torch has loaded.
"""

from __future__ import annotations

import math
import reprlib
from dataclasses import dataclass
from typing import NamedTuple

Number = int | float

#: The toy tasks: points in the plane, two classes unless a dataset's ``classes`` says more.
#: A CSV file decides its own (see :func:`miniframe.engine.spec.data_shape`).
N_INPUTS = 2
N_CLASSES = 2

#: What the last Linear of a spec may write for its units: one output per class of the data.
CLASSES_UNITS = "classes"


@dataclass(frozen=True)
class Limits:
    """Sizes and ranges accepted everywhere (spec validation, CLI, trainer, files)."""

    #: Units of one Linear. 4096² float32 weights are 64 MiB, already far beyond what a
    #: two-input toy task needs; the trainer's field always had this cap.
    max_units: int = 4096
    #: Layers in a stack (Linear and activations together).
    max_layers: int = 64
    #: Parameters in the whole network: 80 MB of float32 weights, ~320 MB with gradients and
    #: Adam's two moments. Admits one 4096 × 4096 hidden layer, not a stack of them.
    max_params: int = 20_000_000
    #: Points in a train or test set, a batch, ``evaluate --n``: 10⁷ points are 80 MB of inputs
    #: and 80 MB of int64 labels, per set.
    max_samples: int = 10_000_000
    #: Epochs of one run: a bound, not a budget (a million tiny epochs is still hours).
    max_epochs: int = 1_000_000
    #: Seeds: the data of a run are drawn with seeds 2·seed and 2·seed + 1, which must stay
    #: below 2**63 (torch's generator takes a signed 64-bit seed).
    max_seed: int = 2**62 - 1
    #: Learning rate: finite, > 0 and at most this, so lr, lr·λ and Adam's lr/(1 − β₁ᵗ) stay far
    #: inside float32 (≈ 3.4e38) on the first step. Larger rates only diverge, which training
    #: reports; it no longer crashes converting the rate.
    max_lr: float = 1e6
    #: Other real coefficients with no natural upper end (weight decay, LeakyReLU slope, input
    #: noise): the same reasoning as the learning rate.
    max_coefficient: float = 1e6
    #: torch intra-op threads: far above any core count here; 10⁵ made libgomp run out of memory.
    max_threads: int = 256
    #: Seeds trained by ``miniframe reproduce`` and per grid point of ``miniframe sweep`` (in
    #: tasks of at most ``max_replicas``).
    max_seeds: int = 1000
    #: Replicas trained together in one set of tensors (the trainer's "seeds" setting, one task
    #: of a sweep): past ~32, batching stops paying (each replica's weights stream through the
    #: cache every step) while memory and the time to the first epoch keep growing.
    max_replicas: int = 32
    #: Runs of one sweep (grid points × seeds), each a row in the run history.
    max_sweep_runs: int = 10_000
    #: A run spec, config or preset file (the shipped presets are ~1.5 KB; a 64-layer spec ~5 KB).
    max_spec_bytes: int = 1 << 20
    #: A CSV data file (training, test, ``evaluate --data`` or ``predict`` input). Parsing is
    #: plain Python, ~1–2 s per 10 MB here, so 64 MiB is a few seconds of reading; the data
    #: then take at most 8 bytes per number while read, 4 once in tensors.
    max_csv_bytes: int = 64 << 20
    #: Feature columns of a CSV file: the first Linear's input width, so max_units.
    max_features: int = 4096
    #: Classes of a CSV label column. More usually means the wrong column (a numeric feature,
    #: a row id) was taken for the labels; the message says so.
    max_classes: int = 256
    #: Classes of a generated dataset (blobs' centres, spirals' arms): the trainer draws up to
    #: 8 class colours, distinct in 16-colour terminals.
    max_toy_classes: int = 8

    @property
    def max_header_bytes(self) -> int:
        """A checkpoint's JSON header: the spec plus one short entry per tensor."""
        return self.max_spec_bytes + 64 * 1024

    @property
    def max_checkpoint_bytes(self) -> int:
        """A checkpoint: the 8-byte header length, the header, 4 bytes per float32 parameter."""
        return 8 + self.max_header_bytes + 4 * self.max_params


LIMITS = Limits()

_short = reprlib.Repr()
_short.maxstring = 60
_short.maxother = 60
_short.maxlevel = 3


def show(value: object) -> str:
    """``repr(value)``, cut short: messages quote what was given, never megabytes of it."""
    return _short.repr(value)


def _fmt(v: Number) -> str:
    return str(v) if isinstance(v, int) else f"{v:g}"


@dataclass(frozen=True)
class ParamSpec:
    """One number a user sets: a layer parameter, a spec setting or a command-line option.

    ``type`` is int or float; the value must lie between ``low`` and ``high`` (excluded when
    ``low_open`` / ``high_open``). ``default`` is the value offered in a menu or dialog (None:
    the owning dataclass states the default). ``editable``: offered in the trainer's layer dialog.
    """

    name: str
    label: str
    type: type[int] | type[float]
    low: Number
    high: Number
    default: Number | None = None
    low_open: bool = False
    high_open: bool = False
    editable: bool = True

    def interval(self) -> str:
        """The accepted range in interval notation: ``[0, 1)``, ``(0, 1e+06]``, ``[1, 4096]``."""
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        return f"{left}{_fmt(self.low)}, {_fmt(self.high)}{right}"

    def _range_error(self, value: Number) -> str:
        """What the bounds say, from the side ``value`` missed (unit intervals in full)."""
        if self.high_open:  # [0, 1) and the like: the whole interval is the clearest
            return f"in {self.interval()}"
        if value < self.low or (value == self.low and self.low_open):
            if self.low_open and self.low == 0:
                return "a positive number"
            return f"{'>' if self.low_open else '≥'} {_fmt(self.low)}"
        return f"{'<' if self.high_open else '≤'} {_fmt(self.high)}"

    def check(self, value: object) -> Number:
        """``value`` as this parameter's type if it is one and in range; else ValueError."""
        if self.type is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{self.label} must be a whole number, got {show(value)}")
            number: Number = value
        else:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{self.label} must be a number, got {show(value)}")
            try:
                number = float(value)
            except OverflowError:  # an int beyond any float
                raise ValueError(f"{self.label} must be {self._range_error(math.inf)}") from None
            if not math.isfinite(number):
                raise ValueError(f"{self.label} must be a finite number, got {value}")
        lo_ok = number > self.low if self.low_open else number >= self.low
        hi_ok = number < self.high if self.high_open else number <= self.high
        if not (lo_ok and hi_ok):
            raise ValueError(f"{self.label} must be {self._range_error(number)}, got {show(value)}")
        return number

    def parse(self, text: str) -> Number:
        """Text typed by a user (a CLI flag, a trainer field): ValueError says what is wrong."""
        text = text.strip()
        if not text:
            raise ValueError(f"{self.label}: required")
        noun = "a whole number" if self.type is int else "a number"
        # int() and float() accept "1_000": a typo like 1_0 must not silently become 10.
        try:
            if "_" in text:
                raise ValueError(text)
            value: Number = self.type(text)
        except ValueError as e:
            if "digits" in str(e):  # past Python's int conversion limit: a number, far too big
                far = -math.inf if text.startswith("-") else math.inf
                raise ValueError(f"{self.label} must be {self._range_error(far)}") from None
            raise ValueError(f"{self.label}: {show(text)} is not {noun}") from None
        return self.check(value)


# ---- layers ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerKind:
    """A layer kind: what the spec calls it, what it shows as, what it builds.

    ``engine_class`` names the class in :mod:`miniframe.engine.layers`; ``torch_class`` the
    torch.nn class the benchmark mirrors it with (called with the parameters by name, plus
    ``torch_kwargs``). ``has_weights``: a Linear (weights and bias; sets the width).
    ``row_wise``: acts on each row (the last axis) alone, so one module serves stacked replicas
    as it is. ``stochastic``: draws random masks, from its own generator (each replica would
    need its own stream, so such layers are not replica-batched).
    """

    name: str
    title: str
    engine_class: str
    torch_class: str
    params: tuple[ParamSpec, ...] = ()
    has_weights: bool = False
    row_wise: bool = False
    stochastic: bool = False
    torch_kwargs: tuple[tuple[str, object], ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def param(self) -> ParamSpec | None:
        """The parameter the trainer's dialog asks for (None: the kind has none)."""
        return next((p for p in self.params if p.editable), None)

    def param_named(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.name} has no parameter {name!r}")

    @property
    def menu_label(self) -> str:
        """The trainer's menu entry: ``Linear (units)``, ``ReLU``."""
        p = self.param
        return self.title if p is None else f"{self.title} ({p.label})"


_UNITS = ParamSpec("units", "units", int, 1, LIMITS.max_units, default=25)
_IN_FEATURES = ParamSpec("in_features", "in_features", int, 1, LIMITS.max_units, editable=False)
_SLOPE = ParamSpec("negative_slope", "slope", float, 0.0, LIMITS.max_coefficient, default=0.01)
_DROP_P = ParamSpec("p", "p", float, 0.0, 1.0, default=0.5, high_open=True)

LAYERS: dict[str, LayerKind] = {
    k.name: k
    for k in (
        LayerKind("linear", "Linear", "Linear", "Linear", (_UNITS, _IN_FEATURES), has_weights=True),
        LayerKind("relu", "ReLU", "ReLU", "ReLU", row_wise=True),
        LayerKind(
            "leaky_relu",
            "LeakyReLU",
            "LeakyReLU",
            "LeakyReLU",
            (_SLOPE,),
            row_wise=True,
            aliases=("leakyrelu", "lrelu"),
        ),
        LayerKind("tanh", "Tanh", "Tanh", "Tanh", row_wise=True),
        LayerKind("sigmoid", "Sigmoid", "Sigmoid", "Sigmoid", row_wise=True),
        LayerKind(
            "softmax", "Softmax", "Softmax", "Softmax", row_wise=True, torch_kwargs=(("dim", 1),)
        ),
        LayerKind("dropout", "Dropout", "Dropout", "Dropout", (_DROP_P,), stochastic=True),
    )
}

#: Every parameter name any layer kind takes: the per-layer fields of a spec.
LAYER_PARAMS: tuple[str, ...] = tuple(
    dict.fromkeys(p.name for k in LAYERS.values() for p in k.params)
)


def layer_kind(name: object) -> LayerKind | None:
    """The kind a spec names (case, ``-`` vs ``_`` and aliases forgiven), or None."""
    if not isinstance(name, str):
        return None
    key = name.strip().lower().replace("-", "_")
    for kind in LAYERS.values():
        if key == kind.name or key in kind.aliases:
            return kind
    return None


# ---- losses, solvers, inits, datasets ----------------------------------------------------------
@dataclass(frozen=True)
class LossKind:
    """A loss: ``one_hot_target`` when the torch mirror compares against one-hot rows."""

    name: str
    title: str
    engine_class: str
    torch_class: str
    one_hot_target: bool


@dataclass(frozen=True)
class SolverKind:
    """A solver: ``settings`` are the SolverSpec fields it is constructed with (by name, the
    same for the engine class and the torch.optim mirror)."""

    name: str
    title: str
    engine_class: str
    torch_class: str
    settings: tuple[str, ...]

    @property
    def has_momentum(self) -> bool:
        return "momentum" in self.settings


@dataclass(frozen=True)
class InitKind:
    name: str
    title: str
    formula: str


class Circle(NamedTuple):
    """A circle in the input plane: centre (``x``, ``y``) and ``radius``."""

    x: float
    y: float
    radius: float


@dataclass(frozen=True)
class DatasetKind:
    """A dataset. A generated one names its function in :mod:`miniframe.engine.data`
    (``builder``); ``classes``: it takes ``data.classes`` (k centres, k arms; else it has 2).
    ``from_file``: the data are read from ``data.path`` (CSV), not generated. ``boundary``: the
    true boundary between its classes, where it is a circle the trainer's map can trace (in
    the raw inputs' coordinates); the generator labels its points by it."""

    name: str
    title: str
    builder: str
    description: str
    classes: bool = False
    from_file: bool = False
    boundary: Circle | None = None


LOSSES: dict[str, LossKind] = {
    k.name: k
    for k in (
        LossKind("mse", "MSE", "MSELoss", "MSELoss", one_hot_target=True),
        LossKind(
            "cross-entropy",
            "cross-entropy",
            "CrossEntropyLoss",
            "CrossEntropyLoss",
            one_hot_target=False,
        ),
    )
}

SOLVERS: dict[str, SolverKind] = {
    k.name: k
    for k in (
        SolverKind("sgd", "SGD", "SGD", "SGD", ("lr", "momentum", "weight_decay", "nesterov")),
        SolverKind("adam", "Adam", "Adam", "Adam", ("lr", "betas", "weight_decay")),
    )
}

INITS: dict[str, InitKind] = {
    k.name: k
    for k in (
        InitKind("normal", "normal", "N(0, 1), weights and bias (the report's)"),
        InitKind("uniform", "uniform", "U(±1/√in), torch.nn's default"),
        InitKind("xavier", "xavier", "N(0, 2/(in+out)), bias 0"),
        InitKind("he", "he", "N(0, 2/in), bias 0"),
    )
}

DATASETS: dict[str, DatasetKind] = {
    k.name: k
    for k in (
        DatasetKind(
            "disk",
            "disk",
            "make_disk",
            "inside a disk of area 1/2 (the report's task)",
            # π r² = 1/2: the two classes are equally likely.
            boundary=Circle(0.5, 0.5, 1.0 / math.sqrt(2.0 * math.pi)),
        ),
        DatasetKind("xor", "xor", "make_xor", "the four quadrants, XOR of the signs"),
        DatasetKind("blobs", "blobs", "make_blobs", "k Gaussian blobs", classes=True),
        DatasetKind("spirals", "spirals", "make_spirals", "k interleaved spirals", classes=True),
        DatasetKind("moons", "moons", "make_moons", "two interleaving half circles"),
        DatasetKind("csv", "CSV file", "", "your own data: a CSV file", from_file=True),
    )
}

#: The datasets drawn by a generator (every one but those read from a file).
GENERATED_DATASETS: tuple[str, ...] = tuple(k for k, v in DATASETS.items() if not v.from_file)
#: The dataset read from a file (``--data FILE.csv`` makes a run one).
FILE_DATASET: str = next(k for k, v in DATASETS.items() if v.from_file)


def reads_file(name: object) -> bool:
    """Whether the dataset ``name`` is read from a file (not generated); False if unknown."""
    kind = DATASETS.get(name) if isinstance(name, str) else None
    return kind is not None and kind.from_file


#: Data settings only generated data read: a file decides its own rows and adds no noise.
GENERATED_DATA_SETTINGS = ("data.noise", "data.n_train", "data.n_test")
#: Data settings only a file's data read: the share of its rows held out for testing.
FILE_DATA_SETTINGS = ("data.test_fraction",)


def ignored_by(dataset: str, path: str) -> str:
    """Why the data ``dataset`` ignore the spec setting at ``path`` (``data.noise``), or ``""``
    when they read it. A flag or a grid value that sets an ignored setting changes nothing the
    run does: the CLI refuses it rather than train (or sweep) the same thing under a new name."""
    kind = DATASETS.get(dataset)
    name = path.removeprefix("data.")
    if kind is None or not path.startswith("data."):
        return ""
    if kind.from_file and path in GENERATED_DATA_SETTINGS:
        return f"{name} is for generated data: a CSV file decides its own rows and has no noise"
    if not kind.from_file and path in FILE_DATA_SETTINGS:
        return f"{name} is for CSV data: the {dataset} dataset draws its test set (n_test)"
    if path == "data.classes" and not kind.classes:
        takes = ", ".join(k for k, v in DATASETS.items() if v.classes)
        return f"the {dataset} dataset has 2 classes; {takes} take classes"
    return ""


DEVICES = ("cpu", "cuda")  # and "cuda:N"


def is_device(name: object) -> bool:
    """``cpu``, ``cuda`` or ``cuda:N``."""
    if not isinstance(name, str):
        return False
    if name in DEVICES:
        return True
    head, _, index = name.partition(":")
    return head == "cuda" and index.isdigit() and len(index) <= 3


# ---- the settings of a run spec ----------------------------------------------------------------
@dataclass(frozen=True)
class Setting:
    """One setting of a run spec, and how every entry point offers it.

    ``path`` is where the spec holds it (``solver.lr``; the spec's dataclasses state its
    default). What it takes: a number within ``number``'s bounds, one of ``choices`` (the
    names of a registry table), a yes/no ``switch``, or else free text. ``key`` names it for
    people: the command line's flag (``lr`` → ``--lr``, ``data_seed`` → ``--data-seed``,
    offered when ``flag``) and the trainer's field. ``group`` is the part of the run it sets
    (``training``, ``data``, ``stop``: the CLI's help groups), ``short`` the trainer's row
    label (14 columns; default :attr:`label`), ``row``: the trainer shows it. The table's
    order is the order the trainer shows and ``--help`` lists them in.
    """

    path: str
    key: str
    group: str
    number: ParamSpec | None = None
    choices: tuple[str, ...] = ()
    switch: bool = False
    short: str = ""
    help: str = ""
    metavar: str | None = None
    flag: bool = True
    row: bool = True

    @property
    def label(self) -> str:
        """What messages call it: the number's label (``learning rate``), else its key."""
        return self.number.label if self.number is not None else self.key.replace("_", " ")

    @property
    def flag_name(self) -> str:
        """The command line's flag: ``--`` and the key, ``-`` for ``_``."""
        return "--" + self.key.replace("_", "-")

    @property
    def row_label(self) -> str:
        return self.short or self.label


#: Every setting of a run spec but its layers, name and description, in the order the trainer
#: shows them. A new setting is one entry here (and its field in the spec's dataclasses);
#: spec validation, the CLI's flags and overrides, sweep grids and the trainer read it.
SPEC_SETTINGS: tuple[Setting, ...] = (
    Setting("loss", "loss", "training", choices=tuple(LOSSES)),
    Setting("solver.name", "solver", "training", choices=tuple(SOLVERS)),
    Setting("solver.lr", "lr", "training",
            ParamSpec("lr", "learning rate", float, 0.0, LIMITS.max_lr, low_open=True)),
    Setting("solver.momentum", "momentum", "training",
            ParamSpec("momentum", "momentum", float, 0.0, 1.0, high_open=True)),
    Setting("solver.weight_decay", "weight_decay", "training",
            ParamSpec("weight_decay", "weight decay", float, 0.0, LIMITS.max_coefficient)),
    Setting("solver.betas", "betas", "training",
            ParamSpec("betas", "Adam beta", float, 0.0, 1.0, high_open=True),
            flag=False, row=False),  # two numbers: a config file sets them
    Setting("batch_size", "batch_size", "training",
            ParamSpec("batch_size", "batch size", int, 1, LIMITS.max_samples)),
    Setting("epochs", "epochs", "training",
            ParamSpec("epochs", "epochs", int, 1, LIMITS.max_epochs)),
    Setting("init", "init", "training", choices=tuple(INITS)),
    Setting("seed", "seed", "training", ParamSpec("seed", "seed", int, 0, LIMITS.max_seed)),
    Setting("device", "device", "training", help="cpu (default) or cuda", row=False),
    Setting("data.name", "dataset", "data", choices=tuple(DATASETS)),
    Setting("data.classes", "classes", "data",
            ParamSpec("classes", "classes", int, 2, LIMITS.max_toy_classes),
            help="blobs and spirals: k classes"),
    Setting("data.seed", "data_seed", "data",
            ParamSpec("seed", "data seed", int, 0, LIMITS.max_seed),
            help="seed of the data alone (default: --seed)"),
    Setting("data.noise", "noise", "data",
            ParamSpec("noise", "noise", float, 0.0, LIMITS.max_coefficient)),
    Setting("data.n_train", "n_train", "data",
            ParamSpec("n_train", "train size", int, 1, LIMITS.max_samples), flag=False),
    Setting("data.n_test", "n_test", "data",
            ParamSpec("n_test", "test size", int, 1, LIMITS.max_samples), flag=False),
    Setting("data.test_fraction", "test_fraction", "data",
            ParamSpec("test_fraction", "test fraction", float, 0.0, 1.0, low_open=True,
                      high_open=True),
            help="share of each class held out for testing without --test-data (default 0.2)",
            row=False),
    Setting("data.standardize", "standardize", "data", switch=True, row=False,
            help="subtract the training set's mean, divide by its std, per feature (default: "
            "on for --data, off for the generated datasets)"),
    Setting("data.validation_fraction", "validation_fraction", "data",
            ParamSpec("validation_fraction", "validation fraction", float, 0.0, 1.0,
                      high_open=True),
            short="val. fraction", metavar="F", row=False,
            help="hold out this share of each class of the training rows as a validation set, "
            "which the stop conditions watch instead of the test set (default 0: none)"),
    Setting("stop.target_acc", "target_acc", "stop",
            ParamSpec("target_acc", "target test accuracy", float, 0.0, 100.0, low_open=True),
            short="stop at acc %", metavar="PCT",
            help="stop once the test accuracy reaches PCT %%"),
    Setting("stop.patience", "patience", "stop",
            ParamSpec("patience", "patience", int, 1, LIMITS.max_epochs), metavar="N",
            help="stop when the test loss has not improved for N epochs"),
    Setting("stop.restore_best", "restore_best", "stop", switch=True,
            help="end with the weights of the epoch of lowest test loss"),
)  # fmt: skip

#: Each setting by its path.
SETTING_AT: dict[str, Setting] = {s.path: s for s in SPEC_SETTINGS}

#: The numbers among them, by path: what each accepts (validation, CLI flags, grids, fields).
SETTINGS: dict[str, ParamSpec] = {s.path: s.number for s in SPEC_SETTINGS if s.number}

#: Numbers the command line takes that are not spec settings.
OPTIONS: dict[str, ParamSpec] = {
    "threads": ParamSpec("threads", "threads", int, 1, LIMITS.max_threads),
    "jobs": ParamSpec("jobs", "jobs", int, 1, LIMITS.max_threads),
    "seeds": ParamSpec("seeds", "seeds", int, 1, LIMITS.max_seeds),
    "replicas": ParamSpec("replicas", "replicas", int, 1, LIMITS.max_replicas),
    #: The trainer's "seeds" setting: K seeds of the screen's spec trained at once.
    "trainer_seeds": ParamSpec("seeds", "seeds", int, 1, LIMITS.max_replicas),
    "last": ParamSpec("last", "number of runs", int, 1, 2**31 - 1),
    #: A run's or sweep's id in the run history: SQLite's integers are signed 64-bit.
    "run_id": ParamSpec("id", "run id", int, 1, 2**63 - 1),
    "sweep_id": ParamSpec("id", "sweep id", int, 1, 2**63 - 1),
    #: Seconds a Dask sweep waits for its scheduler to answer and for a worker to be there.
    "dask_wait": ParamSpec("dask_wait", "Dask wait", float, 0.0, 3600.0, low_open=True),
    "every": ParamSpec("every", "every", int, 1, LIMITS.max_epochs),
    "samples": ParamSpec("n", "number of points", int, 1, LIMITS.max_samples),
}
