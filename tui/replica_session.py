"""K seeds of the screen's spec trained at once (the trainer's "seeds" setting, K > 1).

:class:`ReplicaRun` wraps the engine's :class:`~miniframe.engine.replicas.ReplicaTrainer` in
the few methods :class:`~.session.TrainingSession` uses of a lone ``Run`` (``epoch``,
``step_epoch``, ``set_lr``, ``predict_proba``, ``test_data``, ``spec``, ``save``), so the
session's loop (pause, step, stop, the epoch feed, the map) drives it unchanged. Its epochs are
:class:`~miniframe.engine.replicas.ReplicaEpoch` objects (per-seed lists); the app tells them
apart with :func:`is_replica_epoch`. The map and a saved checkpoint show one seed of the K:
``shown`` (:meth:`ReplicaRun.show_seed`).

Seeds are the spec's seed and the K - 1 after it: replica i is ``Run(spec.replace(seed=seed +
i))`` (the engine's guarantee), so K = 1 of seed s and seed s of a K-seed run agree.
Imports torch: only worker threads create one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from miniframe.engine.registry import LIMITS

if TYPE_CHECKING:
    from torch import Tensor

    from miniframe.engine.replicas import ReplicaEpoch, ReplicaTrainer
    from miniframe.engine.spec import RunSpec
    from miniframe.engine.train import Run, StopCheck

#: The most seeds the trainer trains at once (the registry's limit).
MAX_SEEDS = LIMITS.max_replicas


def seeds_for(spec: RunSpec, k: int) -> list[int]:
    """The K seeds of a band: the spec's seed and the ones after it."""
    return [spec.seed + i for i in range(k)]


def is_replica_epoch(item: object) -> bool:
    """An epoch of K seeds (a ReplicaEpoch) rather than a lone run's EpochSummary."""
    return isinstance(getattr(item, "seeds", None), tuple)


@dataclass(frozen=True)
class _TestSet:
    """One seed's test set as the session's map reads it (``x``, ``y``, ``len``)."""

    x: Tensor
    y: Tensor

    def __len__(self) -> int:
        return int(self.x.shape[0])


class ReplicaRun:
    """K seeds of ``spec`` trained together, behind a lone Run's face (see the module)."""

    def __init__(self, spec: RunSpec, k: int) -> None:
        from miniframe.engine.replicas import ReplicaTrainer

        self.spec = spec
        self.seeds = seeds_for(spec, k)
        self.trainer: ReplicaTrainer = ReplicaTrainer(spec, self.seeds)
        self.shown = 0  # the seed (index) the map shows and a checkpoint saves
        self._lone: dict[int, Run] = {}  # shown_run's lone runs, by seed index

    @property
    def epoch(self) -> int:
        return self.trainer.epoch

    @property
    def k(self) -> int:
        return len(self.seeds)

    def show_seed(self, index: int) -> int:
        """Show seed ``index`` (modulo K) on the map; returns that seed."""
        self.shown = index % len(self.seeds)
        return self.seeds[self.shown]

    def step_epoch(self, should_stop: StopCheck | None = None) -> ReplicaEpoch:
        """One epoch of every seed (the last one of the spec's epochs says FINISHED)."""
        total = max(self.spec.epochs, self.trainer.epoch + 1)
        return next(self.trainer.fit(1, should_stop, total=total))

    def set_lr(self, lr: float) -> None:
        if not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"learning rate must be a positive number, got {lr!r}")
        self.trainer.optimizer.lr = float(lr)

    def predict_proba(self, x: Tensor) -> Tensor:
        """P(class 1) of the shown seed for raw inputs."""
        return self.trainer.predict_proba(x, self.shown)

    @property
    def test_data(self) -> _TestSet:
        """The shown seed's test set (as the engine prepared it)."""
        return _TestSet(self.trainer.test_x[self.shown], self.trainer.test_y[self.shown])

    def shown_run(self) -> Run:
        """The shown seed as a lone engine Run (its spec's seed, the replica's live weights),
        for the views that ask a Run (map, neurons, confusion) and for saving. Built once per
        seed; the weights are copied in on every call (hold the session's lock)."""
        from miniframe.engine.train import Run

        lone = self._lone.get(self.shown)
        if lone is None:
            lone = self._lone[self.shown] = Run(self.spec.replace(seed=self.seeds[self.shown]))
        model = self.trainer.replica_model(self.shown)
        for (mine, _), (theirs, _) in zip(lone.model.param(), model.param(), strict=True):
            mine.data.copy_(theirs.data)
        lone.trainer.epoch = self.trainer.epoch
        return lone

    def save(self, path: str | Path) -> None:
        """Save the shown seed as a lone run's checkpoint (its spec's seed is that seed)."""
        self.shown_run().save(path)


def replica_lists(epoch: Any) -> tuple[Any, Any, Any, Any]:
    """(train_loss, test_loss, train_acc, test_acc) per-seed lists of a ReplicaEpoch."""
    return epoch.train_loss, epoch.test_loss, epoch.train_acc, epoch.test_acc
