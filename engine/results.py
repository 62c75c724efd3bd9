"""What training says, without torch: the status of a run, each epoch's numbers, and the spread
of a metric over seeds.

Everything that trains or reads a run speaks these types: the training loop yields an
:class:`EpochSummary` per epoch (a :class:`ReplicaEpoch` for many seeds at once); the run
history stores their ``to_json_dict()`` with a :class:`Status`; sweeps, ``reproduce`` and the
trainer summarise seeds with :func:`spread`. This module imports only the standard library, so
the history, the sweeps and the terminal trainer type their results without loading torch.

- :data:`METRICS`: the four metric names, in the one order everything uses.
- :class:`Status`: one vocabulary for a run, from the loop (running, finished, stopped,
  diverged) to the history (queued, interrupted, failed).
- :func:`spread`: a metric over seeds, the finite values' mean and sample standard deviation,
  their min and max, and the worst seed (a diverged one first), as a :class:`Band`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any

#: The metrics of an epoch, in the one order every table, record and call uses: the training
#: set's mean loss and accuracy (%), then the test set's.
METRICS = ("train_loss", "train_acc", "test_loss", "test_acc")

#: Metrics where a higher value is better (the worst seed has the lowest); for the others, the
#: losses, the worst seed has the highest.
HIGHER_IS_BETTER = frozenset({"train_acc", "test_acc"})

JSONValue = int | float | str | None | list[dict[str, int | float | str | None]]


class Status(StrEnum):
    """Where a run stands. The first four are what training says after each epoch; the other
    three what happened around it, which the run history records (and the trainer shows)."""

    RUNNING = "running"  # epochs remain
    FINISHED = "finished"  # the last epoch is done, or a stop condition of the spec ended it
    STOPPED = "stopped"  # asked to stop (should_stop, the trainer's stop key); maybe mid-epoch
    DIVERGED = "diverged"  # the loss became NaN/inf
    QUEUED = "queued"  # part of a sweep, not started yet
    INTERRUPTED = "interrupted"  # Ctrl-C, SIGTERM, or its process died
    FAILED = "failed"  # an error ended it

    @property
    def active(self) -> bool:
        """Not ended yet: queued or running."""
        return self in (Status.QUEUED, Status.RUNNING)

    @classmethod
    def ended(cls, said: str) -> Status:
        """The status a run ends with, from the last one its training said: RUNNING (the loop
        ended before its last epoch without saying why) is STOPPED; ValueError for a word
        that is no status."""
        status = cls(said)
        return cls.STOPPED if status is cls.RUNNING else status


def _json_number(value: float) -> float | None:
    """A float as strict JSON takes it: None for NaN or inf, never −0.0."""
    return value + 0.0 if math.isfinite(value) else None


@dataclass(frozen=True)
class LayerStats:
    """One Linear layer's health after an epoch (see :mod:`.layer_stats` for each number).
    ``layer`` is its position in the stack (0-based), ``title`` its shape (``Linear 2 → 25``)."""

    layer: int
    title: str
    weight_norm: float
    grad_norm: float
    update_ratio: float
    dead_fraction: float | None

    def to_json_dict(self) -> dict[str, int | float | str | None]:
        """Strict-JSON values: a NaN or infinite number (a diverged run's) becomes None."""
        out: dict[str, int | float | str | None] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = _json_number(value) if isinstance(value, float) else value
        return out


#: EpochSummary fields that its JSON leaves out when they are None (not asked for, not held).
_LEFT_OUT_WHEN_NONE = frozenset({"layer_stats", "val_loss", "val_acc"})


@dataclass(frozen=True)
class EpochSummary:
    """What one epoch did. Accuracies are percentages; losses are means over the set.

    A metric is None when it was not evaluated: a stop skips the evaluation. ``status`` is
    RUNNING while epochs remain, then FINISHED, STOPPED or DIVERGED (``message`` says when).
    FINISHED means the run ended by itself: its last epoch, or a stop condition of the spec,
    which ``message`` names (``reached the target test accuracy …``, ``early stop: …``).
    ``layer_stats``: each Linear layer's health this epoch, when asked for (else None).
    ``val_loss``, ``val_acc``: the validation set's, when the run holds one out of its
    training rows (``data.validation_fraction``; else None), which the stop conditions watch.
    """

    epoch: int
    epochs: int
    train_loss: float | None
    train_acc: float | None
    test_loss: float | None
    test_acc: float | None
    seconds: float
    samples_per_s: float
    status: Status = Status.RUNNING
    message: str = ""
    layer_stats: tuple[LayerStats, ...] | None = None
    val_loss: float | None = None
    val_acc: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json_dict(self) -> dict[str, JSONValue]:
        """The fields as strict-JSON values: a NaN or infinite number becomes None (null);
        ``status`` and ``message`` say why; ``layer_stats`` is a list of objects, left out when
        it was not asked for, and so are ``val_loss``/``val_acc`` without a validation set.
        ``json.dumps(d, allow_nan=False)`` accepts it."""
        out: dict[str, JSONValue] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.name in _LEFT_OUT_WHEN_NONE:
                continue
            if isinstance(value, float):
                value = _json_number(value)
            elif isinstance(value, Status):
                value = value.value
            elif isinstance(value, tuple):
                value = [s.to_json_dict() for s in value]
            out[f.name] = value
        return out


# ---- many seeds --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Band:
    """One metric over seeds: what a chart draws as a mean line in a min–max band, and what a
    table writes as mean ± std.

    ``mean`` and ``std`` (the sample standard deviation, 0 for one value) are over the finite
    values only (a diverged seed's loss is NaN or inf, a seed not evaluated has none), as are
    ``min`` and ``max``: all four are NaN when no value is finite. ``worst_seed`` is the seed
    with the worst value, one without a finite value first, and ``worst`` that value (NaN when
    it has none); ``count`` is how many values were finite.
    """

    mean: float
    std: float
    min: float
    max: float
    worst_seed: int
    count: int
    worst: float = math.nan

    def to_json_dict(self) -> dict[str, int | float | None]:
        """Strict-JSON values: ``{"mean", "std", "min", "max", "worst_seed", "count"}``."""
        return {
            "mean": _json_number(self.mean),
            "std": _json_number(self.std),
            "min": _json_number(self.min),
            "max": _json_number(self.max),
            "worst_seed": self.worst_seed,
            "count": self.count,
        }


def spread(
    values: Sequence[float | None],
    seeds: Sequence[int] | None = None,
    *,
    higher_is_better: bool = False,
) -> Band:
    """The :class:`Band` of one metric's per-seed ``values`` (None: that seed has no value).

    mean = Σ v / n and std = √(Σ (v − mean)² / (n − 1)) (0 when n = 1) over the n finite
    values. The worst seed is one without a finite value if there is one, else the one with
    the lowest value (``higher_is_better``: accuracies) or the highest (losses); ``seeds``
    names them (default: their positions). ValueError for no values at all.
    """
    if not values:
        raise ValueError("no values to summarise")
    if seeds is not None and len(seeds) != len(values):
        raise ValueError(f"{len(values)} values but {len(seeds)} seeds")
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    sign = -1.0 if higher_is_better else 1.0

    def badness(i: int) -> tuple[bool, float]:
        """No finite value first, then the lowest accuracy or the highest loss."""
        v = values[i]
        return (True, 0.0) if v is None or not math.isfinite(v) else (False, sign * v)

    worst = max(range(len(values)), key=badness)
    worst_seed = seeds[worst] if seeds is not None else worst
    worst_value = values[worst]
    worst_float = math.nan if worst_value is None else float(worst_value)
    if not finite:
        return Band(math.nan, math.nan, math.nan, math.nan, worst_seed, 0, worst_float)
    std = statistics.stdev(finite) if len(finite) > 1 else 0.0
    mean = statistics.fmean(finite)
    return Band(mean, std, min(finite), max(finite), worst_seed, len(finite), worst_float)


@dataclass(frozen=True)
class ReplicaEpoch:
    """One epoch of every replica (seeds trained together), in seed order: per-replica losses
    and accuracies (in %).

    What :class:`EpochSummary` is to a lone run: ``status`` is RUNNING while epochs remain, then
    FINISHED, STOPPED (a stop: this epoch was not evaluated and its metrics are None) or
    DIVERGED (every replica diverged). A replica that diverged keeps the numbers of the epoch it
    diverged in, as its lone run stops there; ``diverged`` says which. ``seconds`` is the wall
    time of the epoch's training pass and ``samples_per_s`` the rows trained per second over
    all replicas.
    """

    epoch: int
    epochs: int
    seeds: tuple[int, ...]
    train_loss: list[float] | None
    train_acc: list[float] | None
    test_loss: list[float] | None
    test_acc: list[float] | None
    diverged: list[bool]
    seconds: float = 0.0
    samples_per_s: float = 0.0
    status: Status = Status.RUNNING
    message: str = ""

    @property
    def evaluated(self) -> bool:
        return self.train_acc is not None

    def values(self, metric: str) -> list[float] | None:
        """The per-replica values of ``metric`` (one of :data:`METRICS`)."""
        if metric not in METRICS:
            raise KeyError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
        values: list[float] | None = getattr(self, metric)
        return values

    def band(self, metric: str) -> Band | None:
        """The :func:`spread` of ``metric`` over the seeds; None if not evaluated."""
        values = self.values(metric)
        if values is None:
            return None
        return spread(values, self.seeds, higher_is_better=metric in HIGHER_IS_BETTER)

    def summary(self, r: int) -> EpochSummary:
        """Replica r's epoch as its lone run's :class:`EpochSummary` (its status DIVERGED from
        the epoch it diverged in; ``samples_per_s`` its share)."""
        status, message = self.status, self.message
        if self.diverged[r] and self.evaluated:
            status, message = Status.DIVERGED, f"seed {self.seeds[r]} diverged"

        def value(name: str) -> float | None:
            values = self.values(name)
            return None if values is None else values[r]

        return EpochSummary(
            epoch=self.epoch,
            epochs=self.epochs,
            train_loss=value("train_loss"),
            train_acc=value("train_acc"),
            test_loss=value("test_loss"),
            test_acc=value("test_acc"),
            seconds=self.seconds,
            samples_per_s=self.samples_per_s / len(self.seeds),
            status=status,
            message=message,
        )

    def to_json_dict(self) -> dict[str, Any]:
        """Strict-JSON values (NaN and inf become None): the scalars, each metric's per-seed
        list and its band (``{"mean", "std", "min", "max", "worst_seed", "count"}``)."""
        out: dict[str, Any] = {
            "epoch": self.epoch,
            "epochs": self.epochs,
            "seeds": list(self.seeds),
            "seconds": _json_number(self.seconds),
            "samples_per_s": _json_number(self.samples_per_s),
            "status": self.status.value,
            "message": self.message,
            "diverged": list(self.diverged),
        }
        for name in METRICS:
            values, band = self.values(name), self.band(name)
            out[name] = None if values is None else [_json_number(v) for v in values]
            out[f"{name}_band"] = None if band is None else band.to_json_dict()
        return out
