"""The Dask backend: a sweep's tasks on Dask distributed (``pip install 'miniframe[dask]'``).

A :class:`distributed.LocalCluster` of ``workers`` processes with one thread each on this
machine (over loopback, no dashboard), or an existing cluster at ``scheduler`` (its workers need
miniframe installed). Each task is one :func:`~.task.train_task` call; its result comes back
when it ends (a Dask task has no channel for epochs as they happen). The same tasks give the
same numbers as the local backend: the same function, one thread, the same grouping of seeds.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from miniframe.engine import plural

from .local import SweepError
from .task import SweepTask, TaskResult, train_task

INSTALL_HINT = "--backend dask needs the dask extra: pip install 'miniframe[dask]'"


class DaskMissing(RuntimeError):
    """Dask distributed is not installed."""


def check_dask() -> None:
    """DaskMissing (one line saying how to install it) if distributed cannot be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise DaskMissing(INSTALL_HINT) from None


def run_dask(
    tasks: Sequence[SweepTask],
    workers: int | None,
    scheduler: str | None,
    on_start: Callable[[SweepTask], None],
    on_done: Callable[[TaskResult], None],
    say: Callable[[str], None],
) -> int:
    """Train ``tasks`` on Dask; the number of workers they ran on. The costliest tasks get the
    highest priority. Futures are cancelled and a cluster started here is closed on the way
    out, however it goes."""
    check_dask()
    from distributed import Client, LocalCluster, as_completed

    cluster: Any = None
    client: Any = None
    futures: list[Any] = []
    try:
        if scheduler is None:
            n = workers or os.cpu_count() or 1
            say(f"starting a Dask LocalCluster of {plural(n, 'worker process')}")
            cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)
        else:
            try:
                client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as e:
                raise SweepError(f"--scheduler {scheduler}: cannot connect ({e})") from None
        n_workers = len(client.scheduler_info().get("workers", {}))
        by_key = {}
        for task in sorted(tasks, key=lambda t: -t.cost):
            future = client.submit(train_task, task, pure=False, priority=int(task.cost))
            by_key[future.key] = task
            futures.append(future)
            on_start(task)
        for future in as_completed(futures):
            task = by_key[future.key]
            try:
                result = future.result()
            except Exception as e:
                raise SweepError(f"{type(e).__name__}: {e}", task) from None
            on_done(result)
        return n_workers
    finally:
        if client is not None:
            if futures:
                client.cancel(futures)
            client.close()
        if cluster is not None:
            cluster.close()
