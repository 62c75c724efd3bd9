"""Replica throughput: K seeds trained together (ReplicaTrainer) against one lone run.

    .venv/bin/python benchmarks/replica_bench.py              # vanilla and deep, K = 1, 4, 10
    .venv/bin/python benchmarks/replica_bench.py --exact      # also the bit-identical mode
    .venv/bin/python benchmarks/replica_bench.py --repeats 3 --presets vanilla

For each preset (batch 5, 1,000 training points, one intra-op thread) it times one epoch of
``Run(spec)`` and of ``ReplicaTrainer(spec, range(K))`` for each K, interleaved in a rotating
order, and prints the medians: the training pass alone (``train_epoch``) and a whole epoch
(training plus the evaluation of both sets, what ``fit`` does). "K=10 ÷ lone" is the replica
trainer's epochs/s over the lone run's: the target is ≥ 0.5 at K = 10, i.e. ten seeds in the
time of two lone runs (a 5× throughput). A printed benchmark, not a timed test.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch

from miniframe.engine import Run, load_preset
from miniframe.engine.replicas import ReplicaTrainer

TARGET = 0.5  # K=10 epochs/s ÷ lone epochs/s


@dataclass
class ReplicaRow:
    """Median ms per epoch of the lone run and of each K, for one preset, mode and measure."""

    preset: str
    mode: str  # "throughput" or "exact"
    measure: str  # "train pass" or "full epoch"
    lone_ms: float
    replica_ms: dict[int, float]

    def ratio(self, k: int) -> float:
        """K replicas' epochs/s ÷ the lone run's epochs/s."""
        return self.lone_ms / self.replica_ms[k]


def _median_ms(sides: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """One warm-up call each, then ``repeats`` rounds in a rotating order; medians in ms."""
    names = list(sides)
    for name in names:
        sides[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            gc.collect()
            t0 = time.perf_counter()
            sides[name]()
            times[name].append(1000.0 * (time.perf_counter() - t0))
    return {name: statistics.median(v) for name, v in times.items()}


def _one_epoch(trainer: ReplicaTrainer) -> None:
    """One whole epoch, training and evaluation (``fit`` yields it; draining runs it)."""
    for _ in trainer.fit(1):
        pass


def bench_replicas(
    presets: tuple[str, ...] = ("vanilla", "deep"),
    ks: tuple[int, ...] = (1, 4, 10),
    modes: tuple[str, ...] = ("throughput",),
    repeats: int = 7,
    batch_size: int = 5,
) -> list[ReplicaRow]:
    rows = []
    for preset in presets:
        spec = load_preset(preset).replace(batch_size=batch_size)
        for mode in modes:
            run = Run(spec)
            trainers = {k: ReplicaTrainer(spec, range(k), exact=mode == "exact") for k in ks}
            train_pass: dict[str, Callable[[], object]] = {"lone": run.trainer.train_epoch}
            full: dict[str, Callable[[], object]] = {"lone": run.step_epoch}
            for k, rt in trainers.items():
                train_pass[f"K={k}"] = rt.train_epoch
                full[f"K={k}"] = partial(_one_epoch, rt)
            for measure, sides in (("train pass", train_pass), ("full epoch", full)):
                ms = _median_ms(sides, repeats)
                rows.append(
                    ReplicaRow(preset, mode, measure, ms["lone"], {k: ms[f"K={k}"] for k in ks})
                )
    return rows


def table(rows: list[ReplicaRow], ks: tuple[int, ...]) -> str:
    head = ["preset", "mode", "measure", "lone ms"] + [f"K={k} ms" for k in ks]
    head += [f"K={k} ÷ lone" for k in ks]
    lines = ["| " + " | ".join(head) + " |", "|---|---|---|" + "--:|" * (1 + 2 * len(ks))]
    for r in rows:
        cells = [r.preset, r.mode, r.measure, f"{r.lone_ms:.1f}"]
        cells += [f"{r.replica_ms[k]:.1f}" for k in ks]
        cells += [f"{r.ratio(k):.2f}" for k in ks]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", nargs="+", default=["vanilla", "deep"])
    parser.add_argument("--ks", nargs="+", type=int, default=[1, 4, 10])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=5)
    parser.add_argument("--exact", action="store_true", help="also measure exact=True")
    args = parser.parse_args()
    torch.set_num_threads(1)
    ks = tuple(args.ks)
    modes = ("throughput", "exact") if args.exact else ("throughput",)
    t0 = time.perf_counter()
    rows = bench_replicas(tuple(args.presets), ks, modes, args.repeats, args.batch_size)
    print(
        f"batch {args.batch_size}, 1,000 training points, 1 intra-op thread, median of "
        f"{args.repeats} epochs after a warm-up; torch {torch.__version__}\n"
    )
    print(table(rows, ks))
    if 10 in ks:
        print(f"\ntarget: K=10 ÷ lone ≥ {TARGET} (ten seeds in the time of two lone runs)")
        for r in rows:
            verdict = "meets" if r.ratio(10) >= TARGET else "misses"
            print(
                f"  {r.preset} {r.mode} {r.measure}: lone {1000 / r.lone_ms:.1f} epochs/s, "
                f"K=10 {1000 / r.replica_ms[10]:.1f} epochs/s: {r.ratio(10):.2f} ({verdict} it; "
                f"{10 * r.ratio(10):.1f}× the seeds per second)"
            )
    print(f"\n({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
