"""`miniframe reproduce`: Table I over many seeds, mean ± std, in about a minute.

Each preset's seeds train together as replicas (:mod:`.replicas`: one batched operation where
a seed-by-seed loop would make one per seed), and the presets go to separate worker processes,
one intra-op thread each, so two cores train two presets at once. Replica r's numbers are those
of ``Run(preset.replace(seed=r)).fit()``, trained alone.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

# The report's Table I: (train accuracy %, test accuracy %).
TABLE_I = {"vanilla": (83.8, 80.3), "deep": (99.7, 96.7)}


@dataclass
class ReproduceResult:
    """Per preset, per seed, the final (train accuracy, test accuracy) in %; and the wall time."""

    per_seed: dict[str, dict[int, tuple[float, float]]]
    wall_seconds: float
    epochs: dict[str, int] = field(default_factory=dict)
    jobs: int = 1

    def summary(self, preset: str) -> tuple[float, float, float, float]:
        """(train mean, train std, test mean, test std) over the seeds (std 0 for one seed)."""
        runs = list(self.per_seed[preset].values())
        tr, te = [r[0] for r in runs], [r[1] for r in runs]

        def std(v: list[float]) -> float:
            return statistics.stdev(v) if len(v) > 1 else 0.0

        return statistics.mean(tr), std(tr), statistics.mean(te), std(te)

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
        lines += ["", f"{n} runs in {self.wall_seconds:.1f} s wall ({self.jobs} process(es))."]
        return "\n".join(lines)


def train_seeds(
    preset: str, seeds: Sequence[int], epochs: int | None = None
) -> dict[int, tuple[float, float]]:
    """Train ``preset`` once per seed (replica-batched when its layers allow, else one by one);
    each seed's final (train accuracy, test accuracy)."""
    from .replicas import ReplicaTrainer, replica_support
    from .spec import load_preset
    from .train import Run

    spec = load_preset(preset)
    if replica_support(spec) is None:
        trainer = ReplicaTrainer(spec, seeds)
        trainer.fit(epochs)
        return dict(zip(seeds, trainer.final(), strict=True))
    out = {}
    for s in seeds:
        *_, last = Run(spec.replace(seed=s)).fit(epochs)
        out[s] = (last.train_acc, last.test_acc)
    return out


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)  # one core per worker; tiny matrices gain nothing from more


def _job(preset: str, seeds: list[int], epochs: int | None) -> tuple[str, dict, int]:
    from .spec import load_preset

    result = train_seeds(preset, seeds, epochs)
    return preset, result, epochs if epochs is not None else load_preset(preset).epochs


def reproduce(
    seeds: int,
    presets: Sequence[str] = ("vanilla", "deep"),
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
    epochs: int | None = None,
) -> ReproduceResult:
    """Train every preset with seeds 0 … ``seeds`` − 1 for its epochs (or ``epochs``).

    ``jobs`` worker processes (default: one per preset, at most the CPU count); with one job
    everything runs in this process.
    """
    if seeds < 1:
        raise ValueError(f"seeds must be ≥ 1, got {seeds}")
    seed_list = list(range(seeds))
    presets = list(presets)
    if jobs is None:
        jobs = min(len(presets), os.cpu_count() or 1)
    jobs = max(1, min(jobs, len(presets)))
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    done: dict[str, tuple[dict, int]] = {}
    if jobs == 1:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for p in presets:
                say(f"{p}: training {seeds} seed(s)")
                _, res, ep = _job(p, seed_list, epochs)
                done[p] = (res, ep)
                say(f"{p}: done at {time.perf_counter() - t0:.1f} s")
        finally:
            torch.set_num_threads(threads)
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_worker_init) as pool:
            futures = [pool.submit(_job, p, seed_list, epochs) for p in presets]
            say(f"training {', '.join(presets)} × {seeds} seed(s) in {jobs} processes")
            for fut in futures:
                p, res, ep = fut.result()
                done[p] = (res, ep)
                say(f"{p}: done at {time.perf_counter() - t0:.1f} s")
    return ReproduceResult(
        per_seed={p: done[p][0] for p in presets},
        wall_seconds=time.perf_counter() - t0,
        epochs={p: done[p][1] for p in presets},
        jobs=jobs,
    )
