"""`miniframe reproduce`: Table I over many seeds, mean ± std, in about a minute.

Each preset's seeds train together as replicas (:mod:`miniframe.engine.replicas`: one batched
operation where a seed-by-seed loop would make one per seed), and the presets go to separate
worker processes, one intra-op thread each, so two cores train two presets at once. Replica r's
numbers are those of ``Run(spec.replace(seed=r)).fit()``, trained alone.

The workers never outlive the run: whatever ends it (an error, Ctrl-C, SIGINT or SIGTERM to this
process alone, see ``miniframe.cli.reproduce``) terminates them before :func:`reproduce`
returns, and a worker whose parent disappears (SIGKILL) exits within a second. With the
workers gone, multiprocessing's resource tracker exits too.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import statistics
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from miniframe.engine import RunSpec, load_preset

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


def train_seeds(spec: RunSpec, seeds: Sequence[int], epochs: int | None = None) -> PerSeed:
    """Train ``spec`` once per seed (replica-batched when its layers allow, else one by one);
    each seed's final (train accuracy, test accuracy)."""
    from miniframe.engine import Run
    from miniframe.engine.replicas import ReplicaTrainer, replica_support

    if replica_support(spec) is None:
        trainer = ReplicaTrainer(spec, seeds)
        trainer.fit(epochs)
        return dict(zip(seeds, trainer.final(), strict=True))
    out = {}
    for s in seeds:
        *_, last = Run(spec.replace(seed=s)).fit(epochs)
        out[s] = (float(last.train_acc or 0.0), float(last.test_acc or 0.0))
    return out


# ---- the worker processes ----------------------------------------------------------------------
def _exit_with_parent(parent: int, poll_s: float = 0.25) -> None:
    """Exit this process as soon as its parent ``parent`` is gone (killed, it could not clean
    up). The parent passes its pid: should it die before this runs, os.getppid() would already
    name the process this one was handed to."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _worker(
    conn: Connection, parent: int, spec: RunSpec, seeds: list[int], epochs: int | None
) -> None:
    # Ctrl-C reaches the whole process group: the parent handles it and ends the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent(parent)
    import torch

    torch.set_num_threads(1)  # one core per worker; tiny matrices gain nothing from more
    try:
        conn.send(("ok", train_seeds(spec, seeds, epochs)))
    except Exception as e:  # sent to the parent, which reports it
        conn.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


def _stop(procs: list[BaseProcess], grace_s: float = 2.0) -> None:
    """Terminate (SIGTERM) the workers, then kill any that outlive ``grace_s``."""
    for p in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + grace_s
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()


def reproduce(
    seeds: int,
    presets: Sequence[str] | Mapping[str, RunSpec] = ("vanilla", "deep"),
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
    epochs: int | None = None,
) -> ReproduceResult:
    """Train every preset with seeds 0 … ``seeds`` − 1 for its epochs (or ``epochs``).

    ``presets``: names (read from the preset store, here) or specs by name. ``jobs`` worker
    processes (default: one per preset, at most the CPU count); with one job everything runs
    in this process.
    """
    if seeds < 1:
        raise ValueError(f"seeds must be ≥ 1, got {seeds}")
    specs = dict(presets) if isinstance(presets, Mapping) else {p: load_preset(p) for p in presets}
    seed_list = list(range(seeds))
    if jobs is None:
        jobs = min(len(specs), os.cpu_count() or 1)
    jobs = max(1, min(jobs, len(specs)))
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    done: dict[str, PerSeed] = {}
    if jobs == 1:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for name, spec in specs.items():
                say(f"{name}: training {seeds} seed(s)")
                done[name] = train_seeds(spec, seed_list, epochs)
                say(f"{name}: done at {time.perf_counter() - t0:.1f} s")
        finally:
            torch.set_num_threads(threads)
    else:
        say(f"training {', '.join(specs)} × {seeds} seed(s) in {jobs} processes")
        done = _run_workers(specs, seed_list, epochs, jobs, lambda n: say(
            f"{n}: done at {time.perf_counter() - t0:.1f} s"))  # fmt: skip
    return ReproduceResult(
        per_seed={p: done[p] for p in specs},
        wall_seconds=time.perf_counter() - t0,
        epochs={p: epochs if epochs is not None else s.epochs for p, s in specs.items()},
        jobs=jobs,
    )


def _run_workers(
    specs: Mapping[str, RunSpec],
    seeds: list[int],
    epochs: int | None,
    jobs: int,
    finished: Callable[[str], None],
) -> dict[str, PerSeed]:
    """One spawned process per preset, at most ``jobs`` at a time; all of them gone on return,
    however it returns."""
    ctx = multiprocessing.get_context("spawn")
    pending = list(specs.items())
    running: dict[Connection, tuple[str, BaseProcess]] = {}
    done: dict[str, PerSeed] = {}
    try:
        while pending or running:
            while pending and len(running) < jobs:
                name, spec = pending.pop(0)
                reader, writer = ctx.Pipe(duplex=False)
                proc: BaseProcess = ctx.Process(
                    target=_worker,
                    args=(writer, os.getpid(), spec, seeds, epochs),
                    name=f"reproduce-{name}",
                )
                proc.daemon = True  # multiprocessing ends it, should this process exit first
                proc.start()
                writer.close()  # the worker holds the only writer: EOF if it dies
                running[reader] = (name, proc)
            for ready in wait(list(running)):
                assert isinstance(ready, Connection)
                name, proc = running.pop(ready)
                try:
                    status, payload = ready.recv()
                except EOFError:
                    proc.join()
                    raise RuntimeError(f"{name}: worker died (exit code {proc.exitcode})") from None
                finally:
                    ready.close()
                proc.join()
                if status != "ok":
                    raise RuntimeError(f"{name}: {payload}")
                done[name] = payload
                finished(name)
    finally:
        _stop([proc for _, proc in running.values()])
    return done
