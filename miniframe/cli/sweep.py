"""`miniframe sweep`: a grid of settings × seeds, mean ± std per grid point (see miniframe.sweep).

    miniframe sweep --preset quick --grid lr=1e-4,1e-3 --grid batch_size=5,32 --seeds 5

The run's flags are train's (``--preset``/``--config`` and every override); ``--grid`` keys are
the spec's number settings. Grid, seeds and backend are checked before anything trains.
"""

from __future__ import annotations

import argparse
from typing import Any

from miniframe.engine import LIMITS, OPTIONS, SETTINGS

from .args import (
    EXIT_FAILED,
    UsageError,
    add_record_argument,
    number,
    recording,
    say,
    terminate_on_signals,
)
from .progress import progress_display
from .spec_args import add_spec_arguments, describe, spec_from_args

COMMAND = "sweep"
HELP = "train a grid of settings × seeds; mean ± std per grid point"
ORDER = 3


def add_execution_arguments(p: argparse.ArgumentParser) -> None:
    """Where and how a sweep's tasks train: shared by `sweep` and `reproduce`."""
    p.add_argument(
        "--replicas",
        type=number(OPTIONS["replicas"]),
        help="seeds trained together per task (default: all of a point's, up to "
        f"{LIMITS.max_replicas}); the same value gives the same numbers on any backend",
    )
    p.add_argument(
        "--exact",
        action="store_true",
        help="replicas round as their lone runs do (slower; see the README)",
    )
    p.add_argument(
        "--backend",
        choices=["local", "dask"],
        default="local",
        help="local: worker processes on this machine; dask: Dask distributed (a LocalCluster, "
        "or --scheduler); needs pip install 'miniframe[dask]'",
    )
    p.add_argument(
        "--scheduler", metavar="ADDRESS", help="an existing Dask scheduler (tcp://HOST:PORT)"
    )
    p.add_argument(
        "--dask-wait",
        metavar="SECONDS",
        type=number(OPTIONS["dask_wait"]),
        default=30.0,
        help="how long a Dask sweep waits for its scheduler to answer and for a worker "
        "(none, or none left) before it ends with an error (default 30)",
    )
    p.add_argument(
        "--jobs",
        type=number(OPTIONS["jobs"]),
        help="worker processes (default: one per core); with dask, the LocalCluster's workers",
    )
    add_record_argument(p)


def execution(args: argparse.Namespace) -> dict[str, Any]:
    """The backend's flags as the keywords of ``run_sweep`` and ``reproduce``."""
    keys = ("replicas", "exact", "backend", "jobs", "scheduler", "dask_wait")
    return {key: getattr(args, key) for key in keys}


def check_execution(args: argparse.Namespace) -> None:
    """The backend's flags, checked before anything trains."""
    if args.scheduler is not None and args.backend != "dask":
        raise UsageError("--scheduler needs --backend dask")
    if args.scheduler is not None and not args.scheduler.strip():
        raise UsageError("--scheduler: empty address")
    if args.backend == "dask":
        from miniframe.sweep import DaskMissing, check_dask
        from miniframe.sweep.cluster import scheduler_address

        if args.scheduler is not None:
            try:
                args.scheduler = scheduler_address(args.scheduler)
            except ValueError as e:
                raise UsageError(f"--scheduler {args.scheduler}: {e}") from None
        try:
            check_dask()
        except DaskMissing as e:
            raise UsageError(str(e)) from None


def add_arguments(s: argparse.ArgumentParser) -> None:
    add_spec_arguments(s)
    s.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="SETTING=V1,V2,…",
        help="values of one setting (lr, batch_size, momentum, weight_decay, epochs, noise, "
        "n_train, n_test); repeat for more settings: every combination is a grid point",
    )
    s.add_argument(
        "--seeds",
        type=number(OPTIONS["seeds"]),
        default=5,
        help="seeds per grid point: the spec's seed and the N−1 after it (default 5)",
    )
    add_execution_arguments(s)


def run(args: argparse.Namespace) -> int:
    from miniframe.sweep import (
        GridError,
        SweepError,
        grid_points,
        parse_grid,
        run_sweep,
    )
    from miniframe.sweep.grid import check_grid, sweep_size

    spec = spec_from_args(args)
    try:
        grid = parse_grid(args.grid)
        check_grid(spec, grid, args.seeds)  # its size, and keys the data ignore: at once
        points = grid_points(spec, grid)
    except GridError as e:
        raise UsageError(str(e)) from None
    if spec.seed + args.seeds - 1 > LIMITS.max_seed:
        raise UsageError(f"--seeds {args.seeds} from seed {spec.seed} passes the largest seed")
    check_execution(args)
    if args.backend == "local":  # a Dask cluster's workers may have the device this lacks
        from miniframe.engine.layers import check_device

        check_device(spec.device)
    seeds = list(range(spec.seed, spec.seed + args.seeds))
    say(f"sweep of {spec.name}: {describe(spec)}")
    say(sweep_size(len(points), len(seeds)))
    with recording(args) as history, terminate_on_signals():
        try:
            with progress_display(args, COMMAND) as display:
                result = run_sweep(
                    spec.name,
                    points,
                    seeds,
                    **execution(args),
                    recording=history,
                    grid={SETTINGS[path].name: values for path, values in grid.items()},
                    say=display.say,
                    on_progress=display.update,
                )
        except SweepError as e:
            say(f"miniframe sweep: error: {e}")
            return EXIT_FAILED
    print(result.markdown())
    print()
    print(result.footer())
    return 0
