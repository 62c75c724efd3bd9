"""What layer health costs: an epoch with ``layer_stats=True`` against one without.

    .venv/bin/python benchmarks/layer_stats_bench.py          # vanilla and deep, batch 5 and 1000
    .venv/bin/python benchmarks/layer_stats_bench.py --repeats 101 --presets deep

For each preset and batch size (1,000 training and test points, one intra-op thread) two runs of
the same spec, one recording layer stats and one not, each take one whole epoch in turn
(``step_epoch``: training, then the evaluation of both sets, what ``fit`` does), in a rotating
order after a warm-up; the medians give the overhead, on ÷ off − 1 (the target: ≤ 5 %).

The whole-epoch ratio carries the machine's noise (several % on a shared host), so the bench
also times the layer-stats work alone, in the same process: the epoch-start snapshot and the
end-of-epoch numbers (``begin_epoch`` + ``end_epoch``), plus what the dead-unit watch adds to
the training-set evaluation (``observe`` of each ReLU's output on the 1,000 training points);
each the fastest of its samples (noise only adds time). "work ÷ epoch" is that time over the
epoch without stats, the 25th percentile of its samples (the quieter moments of a shared host;
the median is printed beside it). A printed benchmark, not a timed test.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from miniframe.engine import Run, load_preset

TARGET = 0.05  # the overhead allowed: 5 % of an epoch


@dataclass
class Row:
    preset: str
    batch: int
    off_ms: float
    on_ms: float
    work_ms: float
    off_median: float
    on_median: float

    @property
    def overhead(self) -> float:
        return self.on_ms / self.off_ms - 1.0

    @property
    def work_share(self) -> float:
        return self.work_ms / self.off_ms


def _times(sides: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """One warm-up call each, then ``repeats`` rounds in a rotating order; the times in ms.
    The garbage collector is off meanwhile (a collection would land in some sample), and not
    run between samples either: it walks every object, leaving the caches cold, which made a
    ten-microsecond call take a hundred."""
    names = list(sides)
    for name in names:
        sides[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    gc.collect()
    gc.disable()
    try:
        for r in range(repeats):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                t0 = time.perf_counter()
                sides[name]()
                times[name].append(1000.0 * (time.perf_counter() - t0))
    finally:
        gc.enable()
    return times


def _quiet(samples: list[float]) -> float:
    """The 25th percentile: the cost when the host was not busy with something else."""
    return statistics.quantiles(samples, n=4)[0]


def bench(preset: str, batch: int, repeats: int) -> Row:
    spec = load_preset(preset).replace(batch_size=batch, epochs=10**6)
    off, on = Run(spec), Run(spec, layer_stats=True)
    epochs = _times({"off": off.step_epoch, "on": on.step_epoch}, repeats)
    stats = on.trainer.stats
    assert stats is not None
    watch = stats.watch

    def norms() -> None:
        stats.begin_epoch()
        stats.end_epoch()

    # What the watch adds to the training-set evaluation: observing each ReLU's output.
    outputs, x = {}, on.train_data.x
    on.model.eval()
    for i, m in enumerate(on.model):
        x = m.forward(x)
        if i in watch.positions:
            outputs[i] = x
    on.model.train()
    sides: dict[str, Callable[[], object]] = {"norms": norms}
    for i, y in outputs.items():
        sides[f"watch {i}"] = lambda i=i, y=y: watch.observe(i, y)
    parts = _times(sides, repeats)
    work_ms = sum(min(v) for v in parts.values())  # the cost itself: noise only adds
    return Row(
        preset, batch, _quiet(epochs["off"]), _quiet(epochs["on"]), work_ms,
        statistics.median(epochs["off"]), statistics.median(epochs["on"]),
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["vanilla", "deep"])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[5, 1000])
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(
        "| preset | batch | epoch ms, off (median) | epoch ms, on (median) | on ÷ off − 1 "
        "| stats work ms | work ÷ epoch | ≤ 5 % |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|:-:|")
    for preset in args.presets:
        for batch in args.batch_sizes:
            r = bench(preset, batch, args.repeats)
            ok = "yes" if r.work_share <= TARGET else "no"
            print(
                f"| {r.preset} | {r.batch} | {r.off_ms:.2f} ({r.off_median:.2f}) | "
                f"{r.on_ms:.2f} ({r.on_median:.2f}) | {100 * r.overhead:+.1f} % | "
                f"{r.work_ms:.3f} | {100 * r.work_share:.1f} % | {ok} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
