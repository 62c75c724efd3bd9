"""`miniframe reproduce`: Table I over many seeds, mean ± std — a sweep over seeds of the presets.

Each preset is one point of a sweep (:mod:`miniframe.sweep`): its seeds train together as
replicas (one batched operation where a seed-by-seed loop would make one per seed; up to 32 in a
group), the presets on worker processes of one intra-op thread each (or on Dask), and every run
is recorded in the run history as one sweep.

Why not smaller groups, to share the deep preset between two cores? Ten deep replicas cost
~2.5 lone epochs, five ~1.7: groups of five would finish both presets about as soon on two idle
cores, but spend 40 % more CPU, which a shared machine pays for in wall time
(benchmarks/reproduce_bench.py measures both). Replica r's numbers are those of
``Run(spec.replace(seed=r)).fit()`` up to float rounding.

The workers never outlive the run: whatever ends it (an error, Ctrl-C, SIGINT or SIGTERM to this
process alone, see ``miniframe.cli.reproduce``) terminates them, and a worker whose parent
disappears (SIGKILL) exits within a second (see :mod:`miniframe.sweep.local`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from miniframe.engine import RunSpec, load_preset, plural, spread
from miniframe.progress import ProgressCallback
from miniframe.runs import Recording
from miniframe.sweep import SweepPoint, SweepTask, run_sweep, train_task

# The report's Table I: (train accuracy %, test accuracy %).
TABLE_I = {"vanilla": (83.8, 80.3), "deep": (99.7, 96.7)}

PerSeed = dict[int, tuple[float, float]]


@dataclass
class ReproduceResult:
    """Per preset, per seed, the final (train accuracy, test accuracy) in %; and the wall time."""

    per_seed: dict[str, PerSeed]
    wall_seconds: float
    epochs: dict[str, int] = field(default_factory=dict)
    jobs: int = 1
    backend: str = "local"
    sweep_id: int | None = None

    def summary(self, preset: str) -> tuple[float, float, float, float]:
        """(train mean, train std, test mean, test std) over the seeds (std 0 for one seed)."""
        runs = list(self.per_seed[preset].values())
        train = spread([r[0] for r in runs], higher_is_better=True)
        test = spread([r[1] for r in runs], higher_is_better=True)
        return train.mean, train.std, test.mean, test.std

    def markdown(self) -> str:
        lines = [
            "| preset | seeds | epochs | train acc % | test acc % | Table I train | Table I test |",
            "|---|--:|--:|--:|--:|--:|--:|",
        ]
        for preset, runs in self.per_seed.items():
            tr_m, tr_s, te_m, te_s = self.summary(preset)
            ref_tr, ref_te = (f"{v}" for v in TABLE_I[preset]) if preset in TABLE_I else "––"
            lines.append(
                f"| {preset} | {len(runs)} | {self.epochs.get(preset, '?')} "
                f"| {tr_m:.1f} ± {tr_s:.1f} | {te_m:.1f} ± {te_s:.1f} | {ref_tr} | {ref_te} |"
            )
        n = sum(len(r) for r in self.per_seed.values())
        where = (
            plural(self.jobs, "process")
            if self.backend == "local"
            else f"dask, {plural(self.jobs, 'worker')}"
        )
        footer = f"{plural(n, 'run')} in {self.wall_seconds:.1f} s wall ({where})."
        if self.sweep_id is not None:
            footer += f" Recorded as sweep {self.sweep_id} (miniframe runs list --sweep "
            footer += f"{self.sweep_id})."
        return "\n".join([*lines, "", footer])


def train_seeds(spec: RunSpec, seeds: Sequence[int], epochs: int | None = None) -> PerSeed:
    """Train ``spec`` once per seed here (replica-batched when its layers allow, else one by
    one); each seed's final (train accuracy, test accuracy)."""
    if epochs is not None:
        spec = spec.replace(epochs=epochs)
    result = train_task(SweepTask(0, 0, spec, tuple(seeds)))
    out = {}
    for s in seeds:
        final = result.final(s) or {}
        out[s] = (float(final.get("train_acc") or 0.0), float(final.get("test_acc") or 0.0))
    return out


def reproduce(
    seeds: int,
    presets: Sequence[str] | Mapping[str, RunSpec] = ("vanilla", "deep"),
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
    epochs: int | None = None,
    *,
    backend: str = "local",
    scheduler: str | None = None,
    dask_wait: float = 30.0,
    replicas: int | None = None,
    exact: bool = False,
    recording: Recording | None = None,
    on_progress: ProgressCallback | None = None,
) -> ReproduceResult:
    """Train every preset with seeds 0 … ``seeds`` − 1 for its epochs (or ``epochs``).

    ``presets``: names (read from the preset store, here) or specs by name. ``jobs``: worker
    processes (default: one per core, at most one per task; with one job everything runs in
    this process) or, with ``backend="dask"``, the LocalCluster's workers. ``replicas``: seeds
    per task (default: all of a preset's, up to 32). ``recording``: where the runs are recorded
    (default: nowhere). ``progress`` hears a line now and then, ``on_progress`` how many runs
    are done (see :func:`~miniframe.sweep.run_sweep`); ``dask_wait`` too.
    """
    if seeds < 1:
        raise ValueError(f"seeds must be ≥ 1, got {seeds}")
    specs = dict(presets) if isinstance(presets, Mapping) else {p: load_preset(p) for p in presets}
    if epochs is not None:
        specs = {name: spec.replace(epochs=epochs) for name, spec in specs.items()}
    points = [SweepPoint({"preset": name}, spec, title=name) for name, spec in specs.items()]
    seed_list = list(range(seeds))
    result = run_sweep(
        "reproduce",
        points,
        seed_list,
        replicas=replicas,
        exact=exact,
        backend=backend,
        jobs=jobs,
        scheduler=scheduler,
        dask_wait=dask_wait,
        recording=recording,
        grid={"preset": list(specs)},
        source="reproduce",
        say=progress,
        on_progress=on_progress,
    )
    per_seed: dict[str, PerSeed] = {}
    for p, name in enumerate(specs):
        train, test = result.values(p, "train_acc"), result.values(p, "test_acc")
        per_seed[name] = {
            s: (tr or 0.0, te or 0.0) for s, tr, te in zip(seed_list, train, test, strict=True)
        }
    return ReproduceResult(
        per_seed=per_seed,
        wall_seconds=result.wall_seconds,
        epochs={name: spec.epochs for name, spec in specs.items()},
        jobs=result.workers,
        backend=backend,
        sweep_id=result.sweep_id,
    )
