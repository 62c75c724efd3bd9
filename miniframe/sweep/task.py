"""The unit of work of a sweep: some seeds of one grid point, trained together as replicas.

:func:`plan_tasks` cuts every point's seeds into groups of at most ``replicas``; each group is a
:class:`SweepTask`, and :func:`train_task` trains it — in this process, in a local worker
process or on a Dask worker: the same function with the same task gives the same numbers
anywhere (one intra-op thread, the replicas of the same group batched together). How the seeds
are grouped is part of the sweep, not of where it runs: a replica's rounding depends on the
replicas it is batched with, so the grouping is fixed by the sweep's ``replicas`` alone, never
by the number of workers.

What a task returns is plain data (lists of dicts), so the process that records the sweep never
needs torch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from miniframe.engine import LIMITS, RunSpec

from .grid import SweepPoint

#: Called with (task index, {seed: epoch record}) after each epoch.
EpochCallback = Callable[[int, dict[int, dict[str, Any]]], None]


@dataclass(frozen=True)
class SweepTask:
    """Train ``spec`` once per seed in ``seeds`` (replica-batched when its layers allow)."""

    index: int
    point: int
    spec: RunSpec
    seeds: tuple[int, ...]
    exact: bool = False

    @property
    def cost(self) -> float:
        """A rough relative cost, to start the longest tasks first (and for the progress
        display's ETA): its epochs' :func:`epoch_cost`."""
        return self.spec.epochs * epoch_cost(self.spec, len(self.seeds))


@dataclass(frozen=True)
class TaskResult:
    """Each seed's epoch records (``EpochSummary.to_json_dict()``), up to where its run ends
    (a seed that diverged stops there, as its lone run would), and the task's wall time."""

    index: int
    seeds: tuple[int, ...]
    epochs: dict[int, list[dict[str, Any]]]
    seconds: float

    def final(self, seed: int) -> dict[str, Any] | None:
        """The seed's last evaluated epoch record."""
        records: list[dict[str, Any]] = self.epochs[seed]
        return next((r for r in reversed(records) if r.get("train_acc") is not None), None)


def epoch_cost(spec: RunSpec, replicas: int = 1) -> float:
    """A rough relative cost of one epoch of ``spec`` for ``replicas`` seeds trained together:
    the steps taken, each paying per layer to dispatch and per replica for the multiply-adds."""
    shape = spec.shape()  # a CSV file's rows, not the generated data's n_train
    steps = math.ceil(shape.n_train / spec.batch_size)
    macs = sum(spec.param_counts(shape)) * min(spec.batch_size, shape.n_train)
    return float(steps) * (len(spec.layers) + replicas * macs / 20_000)


def seed_groups(seeds: Sequence[int], replicas: int) -> list[tuple[int, ...]]:
    """``seeds`` cut into the fewest groups of at most ``replicas``, as even as can be
    (10 seeds by 4 → 4, 3, 3)."""
    if not 1 <= replicas <= LIMITS.max_replicas:
        raise ValueError(f"replicas must be in [1, {LIMITS.max_replicas}], got {replicas}")
    n = len(seeds)
    count = max(1, math.ceil(n / replicas))
    size, extra = divmod(n, count)
    groups, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        groups.append(tuple(seeds[start:end]))
        start = end
    return [g for g in groups if g]


def plan_tasks(
    points: Sequence[SweepPoint], seeds: Sequence[int], replicas: int, exact: bool = False
) -> list[SweepTask]:
    """One task per point and group of seeds (see :func:`seed_groups`), in point order."""
    tasks: list[SweepTask] = []
    for p, point in enumerate(points):
        for group in seed_groups(seeds, replicas):
            tasks.append(SweepTask(len(tasks), p, point.spec, group, exact))
    return tasks


def train_task(task: SweepTask, on_epoch: EpochCallback | None = None) -> TaskResult:
    """Train the task's seeds with one intra-op thread (restored after): as replicas when the
    spec allows it (:func:`~miniframe.engine.replicas.replica_support`), else one
    lone run after another. ``on_epoch`` hears each epoch's records as they come."""
    import torch

    from miniframe.engine import Run
    from miniframe.engine.replicas import ReplicaTrainer, replica_support

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    epochs: dict[int, list[dict[str, Any]]] = {s: [] for s in task.seeds}
    ended: set[int] = set()

    def keep(records: dict[int, dict[str, Any]]) -> None:
        for seed, record in records.items():
            epochs[seed].append(record)
            if record["status"] != "running":
                ended.add(seed)
        if on_epoch is not None and records:
            on_epoch(task.index, records)

    try:
        if replica_support(task.spec) is None:
            trainer = ReplicaTrainer(task.spec, task.seeds, exact=task.exact)
            for e in trainer.fit():
                keep({s: e.summary(r).to_json_dict() for r, s in enumerate(task.seeds)
                      if s not in ended})  # fmt: skip
        else:
            for seed in task.seeds:
                for s in Run(task.spec.replace(seed=seed)).fit():
                    keep({seed: s.to_json_dict()})
    finally:
        torch.set_num_threads(threads)
    return TaskResult(task.index, task.seeds, epochs, time.perf_counter() - t0)
