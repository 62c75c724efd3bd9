"""Running a sweep: its tasks on a backend, every run recorded, the results summarised.

:func:`run_sweep` records the sweep and one run per point and seed (status ``queued``), hands
the tasks to the local backend or Dask, records epochs as they arrive and each run's end, and
returns a :class:`SweepResult`: per point, mean ± std over the seeds of the final accuracies
and losses, and the best point. Whatever ends the sweep early ends its unfinished runs with it
(``interrupted`` for Ctrl-C and SIGTERM, ``failed`` for an error).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from miniframe.engine import LIMITS, Band, Status, plural, spread
from miniframe.progress import ProgressCallback, Tally
from miniframe.runs import Recording

from .grid import SweepPoint
from .local import SweepError, run_local
from .task import SweepTask, TaskResult, plan_tasks

BACKENDS = ("local", "dask")

#: The table's metrics: name, column title, format.
METRICS = (
    ("train_acc", "train acc %", ".1f"),
    ("test_acc", "test acc %", ".1f"),
    ("train_loss", "train loss", ".4f"),
    ("test_loss", "test loss", ".4f"),
)


def mean_std(band: Band, fmt: str) -> str:
    """A table cell: ``mean ± std`` of the seeds' finite values, ``–`` when there are none."""
    if band.count == 0:
        return "–"
    return f"{format(band.mean + 0.0, fmt)} ± {format(band.std + 0.0, fmt)}"


@dataclass
class SweepResult:
    """What a sweep found: per point, each seed's final epoch record (``final[p][seed]``,
    None for a seed with no evaluated epoch) and status."""

    name: str
    points: list[SweepPoint]
    seeds: list[int]
    final: list[dict[int, dict[str, Any] | None]]
    status: list[dict[int, str]]
    wall_seconds: float
    backend: str
    workers: int
    replicas: int
    sweep_id: int | None = None
    run_ids: dict[tuple[int, int], int] = field(default_factory=dict)

    def values(self, point: int, metric: str) -> list[float | None]:
        out: list[float | None] = []
        for seed in self.seeds:
            record = self.final[point].get(seed)
            value = None if record is None else record.get(metric)
            out.append(float(value) if isinstance(value, int | float) else None)
        return out

    def spread(self, point: int, metric: str) -> Band:
        """``metric`` over the point's seeds (:func:`~miniframe.engine.spread`)."""
        return spread(self.values(point, metric), self.seeds)

    def diverged(self, point: int) -> int:
        return sum(s == "diverged" for s in self.status[point].values())

    def best(self) -> int | None:
        """The point with the highest mean test accuracy (ties: the lower mean test loss)."""
        scored = []
        for p in range(len(self.points)):
            acc, loss = self.spread(p, "test_acc"), self.spread(p, "test_loss")
            if acc.count:
                scored.append((acc.mean, -(loss.mean if loss.count else math.inf), -p))
        return -max(scored)[2] if scored else None

    def markdown(self) -> str:
        """The table: one row per point, mean ± std over the seeds, the best point marked."""
        keys = list(dict.fromkeys(k for point in self.points for k in point.label))
        head = [*keys, "seeds", *(title for _, title, _ in METRICS), "best"]
        lines = ["| " + " | ".join(head) + " |", "|" + "--:|" * (len(head) - 1) + ":-:|"]
        best = self.best()
        for p, point in enumerate(self.points):
            seeds = str(len(self.seeds))
            if self.diverged(p):
                seeds += f" ({self.diverged(p)} diverged)"
            cells = [_show(point.label.get(k)) for k in keys] + [seeds]
            cells += [mean_std(self.spread(p, m), fmt) for m, _, fmt in METRICS]
            cells.append("**best**" if p == best else "")
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def footer(self) -> str:
        runs = len(self.points) * len(self.seeds)
        where = plural(self.workers, "worker process") if self.workers > 1 else "1 process"
        text = f"{plural(runs, 'run')} in {self.wall_seconds:.1f} s wall ({self.backend}, {where})"
        if self.sweep_id is not None:
            text += f"; recorded as sweep {self.sweep_id} (miniframe runs list --sweep "
            text += f"{self.sweep_id})"
        return text + "."


def _show(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:g}" if isinstance(value, float) else str(value)


def default_jobs() -> int:
    return os.cpu_count() or 1


def run_sweep(
    name: str,
    points: Sequence[SweepPoint],
    seeds: Sequence[int],
    *,
    replicas: int | None = None,
    exact: bool = False,
    backend: str = "local",
    jobs: int | None = None,
    scheduler: str | None = None,
    dask_wait: float = 30.0,
    recording: Recording | None = None,
    grid: Mapping[str, Sequence[Any]] | None = None,
    source: str = "sweep",
    say: Callable[[str], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> SweepResult:
    """Train every point with every seed and record it all (see the module's docstring).

    ``replicas``: seeds trained together per task (default: all of a point's, up to
    ``LIMITS.max_replicas``); it decides the numbers, the backend and ``jobs`` only the speed.
    ``jobs``: local worker processes, or the LocalCluster's workers for Dask (default: the CPU
    count; a local sweep uses at most one per task). ``scheduler``: an existing Dask cluster;
    ``dask_wait``: how long Dask may leave it without an answer or a worker.
    ``say`` hears a line now and then; ``on_progress`` a :class:`~miniframe.progress.Progress`
    of the runs after every epoch the backend reports (the local one reports each; Dask only
    each task's end) and every finished task.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if not points or not seeds:
        raise ValueError("a sweep needs at least one point and one seed")
    replicas = replicas or min(len(seeds), LIMITS.max_replicas)
    seeds = list(seeds)
    recording = recording or Recording(None)
    tell = say or (lambda _msg: None)
    tasks = plan_tasks(points, seeds, replicas, exact)
    jobs = jobs or default_jobs()
    if backend == "local":
        jobs = min(jobs, len(tasks))

    # The record: the sweep, then one queued run per point and seed.
    base = points[0].spec
    sweep_id = recording.start_sweep(
        name, base, grid or {"point": [p.title for p in points]}, seeds, backend
    )
    keys = [(p, s) for p in range(len(points)) for s in seeds]
    ids = recording.start_runs(
        [points[p].spec.replace(seed=s) for p, s in keys],
        source=source,
        sweep_id=sweep_id,
        points=[points[p].label for p, _ in keys],
        seeds=[s for _, s in keys],
        status=Status.QUEUED,
    )
    run_ids = dict(zip(keys, ids, strict=True)) if ids else {}
    by_index = {t.index: t for t in tasks}
    final: list[dict[int, dict[str, Any] | None]] = [{} for _ in points]
    status: list[dict[int, str]] = [{} for _ in points]
    recorded_live: set[int] = set()
    left = {p: sum(t.point == p for t in tasks) for p in range(len(points))}
    # Progress in runs; for the bar and the ETA, each run weighs its share of its task's cost.
    costs = {(t.point, s): t.cost / len(t.seeds) for t in tasks for s in t.seeds}
    tally = Tally(costs, "run", on_progress)
    t0 = time.perf_counter()

    def ids_of(task: SweepTask) -> list[int]:
        return [run_ids[(task.point, s)] for s in task.seeds if (task.point, s) in run_ids]

    def on_start(task: SweepTask) -> None:
        recording.set_status(ids_of(task), Status.RUNNING)

    def on_epoch(index: int, records: dict[int, dict[str, Any]]) -> None:
        task = by_index[index]
        recorded_live.add(index)
        rows = [(run_ids[(task.point, s)], r) for s, r in records.items() if (task.point, s)
                in run_ids]  # fmt: skip
        recording.record_epochs(rows)
        for seed, record in records.items():
            if record.get("status") != Status.RUNNING.value:  # the run ended (or diverged)
                tally.finish((task.point, seed))
            else:
                tally.step((task.point, seed), float(record["epoch"]) / task.spec.epochs)

    def on_done(result: TaskResult) -> None:
        task = by_index[result.index]
        rows = []
        for seed in result.seeds:
            final[task.point][seed] = result.final(seed)
            records = result.epochs[seed]
            status[task.point][seed] = str(records[-1]["status"]) if records else "stopped"
            if result.index not in recorded_live and (task.point, seed) in run_ids:
                rows += [(run_ids[(task.point, seed)], r) for r in records]
        recording.record_epochs(rows)
        for seed in result.seeds:
            run_id = run_ids.get((task.point, seed))
            recording.finish_run(run_id, _status(status[task.point][seed]))
            tally.finish((task.point, seed))
        left[task.point] -= 1
        if left[task.point] == 0:
            tell(f"{points[task.point].title}: done at {time.perf_counter() - t0:.1f} s")

    outcome = Status.FAILED
    tally.report()
    try:
        if backend == "local":
            workers = jobs
            if jobs > 1:
                size = plural(max(len(t.seeds) for t in tasks), "seed")
                tell(f"training {plural(len(tasks), 'task')} of up to {size} in {jobs} processes")
            run_local(tasks, jobs, on_start, on_epoch, on_done)
        else:
            from .cluster import run_dask

            workers = run_dask(tasks, jobs, scheduler, on_start, on_done, tell, dask_wait)
        outcome = Status.FINISHED
    except SweepError as e:
        where = f"{points[e.task.point].title}: " if e.task is not None else ""
        raise SweepError(f"{where}{e}", e.task) from None
    except BaseException as e:
        if not isinstance(e, Exception):  # Ctrl-C, the CLI's SIGTERM
            outcome = Status.INTERRUPTED
        raise
    finally:
        recording.finish_sweep(sweep_id, outcome)
    return SweepResult(
        name=name,
        points=list(points),
        seeds=seeds,
        final=final,
        status=status,
        wall_seconds=time.perf_counter() - t0,
        backend=backend,
        workers=workers,
        replicas=replicas,
        sweep_id=sweep_id,
        run_ids=run_ids,
    )


def _status(training: str) -> Status:
    """A run's status in the history from its last epoch's (a task that ended with no epoch
    says ``stopped``)."""
    return Status.ended(training)
