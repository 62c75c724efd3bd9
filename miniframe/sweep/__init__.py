"""Sweeps: a grid of settings × seeds, trained on every core here or on a Dask cluster.

- :mod:`.grid`: ``--grid lr=1e-4,1e-3`` parsed and checked, the points' specs.
- :mod:`.task`: the unit of work (some seeds of one point, as replicas) and the one function
  that trains it, wherever it runs.
- :mod:`.local` and :mod:`.cluster`: the backends (worker processes here; Dask distributed).
- :mod:`.execution`: :func:`run_sweep` — record, dispatch, summarise (:class:`SweepResult`).

``miniframe sweep`` (``miniframe/cli/sweep.py``) and ``miniframe reproduce`` are built on it.
The process that runs a sweep never imports torch unless it trains a task itself (one job).
"""

from .cluster import INSTALL_HINT, DaskMissing, check_dask
from .execution import BACKENDS, SweepResult, default_jobs, run_sweep
from .grid import GridError, SweepPoint, grid_keys, grid_points, parse_grid
from .local import SweepError
from .task import SweepTask, TaskResult, plan_tasks, seed_groups, train_task

__all__ = [
    "BACKENDS",
    "INSTALL_HINT",
    "DaskMissing",
    "GridError",
    "SweepError",
    "SweepPoint",
    "SweepResult",
    "SweepTask",
    "TaskResult",
    "check_dask",
    "default_jobs",
    "grid_keys",
    "grid_points",
    "parse_grid",
    "plan_tasks",
    "run_sweep",
    "seed_groups",
    "train_task",
]
