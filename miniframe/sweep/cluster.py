"""The Dask backend: a sweep's tasks on Dask distributed (``pip install 'miniframe[dask]'``).

A :class:`distributed.LocalCluster` of ``workers`` processes with one thread each on this
machine (over loopback, no dashboard), or an existing cluster at ``scheduler`` (its workers need
miniframe installed). Each task is one :func:`~.task.train_task` call; its result comes back
when it ends (a Dask task has no channel for epochs as they happen). The same tasks give the
same numbers as the local backend: the same function, one thread, the same grouping of seeds.

Nothing waits on a cluster without saying so. :func:`scheduler_address` checks an address's
form before anything connects; a scheduler must answer within ``wait`` seconds (a port that
accepts and never speaks is no scheduler), and the sweep must have a worker: none for
``wait`` seconds (none came, or the last one was lost) is a :class:`SweepError` naming the
time. An interrupted sweep (Ctrl-C, SIGTERM) closes its client and cluster with Dask's own
logging silenced: the connections it closes on purpose are no errors to print.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from miniframe.engine import plural

from .local import SweepError, signals_deferred
from .task import SweepTask, TaskResult, train_task

INSTALL_HINT = "--backend dask needs the dask extra: pip install 'miniframe[dask]'"
#: The schemes of a scheduler address (Dask's, less ``inproc``: that is this process only).
SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
#: How long, by default, a Dask sweep waits for its scheduler to answer and for a worker.
WAIT_SECONDS = 30.0
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
#: Dask's loggers, and those of the libraries it closes connections through.
_DASK_LOGGERS = ("distributed", "tornado", "asyncio", "bokeh")


def scheduler_address(text: str) -> str:
    """``text`` as a scheduler address ``SCHEME://HOST:PORT`` (``tcp://`` when no scheme is
    given; an IPv6 host in brackets); ValueError says what is wrong with its form."""
    address = text.strip()
    example = "give SCHEME://HOST:PORT, e.g. tcp://10.0.0.5:8786"
    if not address:
        raise ValueError(f"an empty address: {example}")
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r} ({', '.join(SCHEMES)}): {example}")
    if rest.startswith("["):
        host, bracket, after = rest[1:].partition("]")
        if not bracket:
            raise ValueError(f"an IPv6 host without its closing bracket: {scheme}://[::1]:8786")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{host!r} is not an IPv6 address") from None
        shown, port = f"[{host}]", after.removeprefix(":") if after.startswith(":") else None
        if after and port is None:
            raise ValueError(f"{after!r} after the host: {example}")
    else:
        host, colon, port_text = rest.rpartition(":")
        if not colon:
            host, port_text = rest, ""
        if ":" in host or "[" in host or "]" in host:
            raise ValueError(f"an IPv6 host needs brackets: {scheme}://[::1]:8786")
        if not host:
            raise ValueError(f"no host: {example}")
        if not _HOST.fullmatch(host):
            raise ValueError(f"{host[:60]!r} is not a host name or address: {example}")
        shown, port = host, port_text if colon else None
    if not port:
        raise ValueError(f"no port: {example}")
    if not (port.isascii() and port.isdigit()):
        raise ValueError(f"port {port[:20]!r} is not a number: {example}")
    if not 1 <= int(port[:6]) <= 65535:
        raise ValueError(f"port {port[:20]} is not in 1…65535")
    return f"{scheme}://{shown}:{int(port)}"


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
    wait: float = WAIT_SECONDS,
) -> int:
    """Train ``tasks`` on Dask; the number of workers they ran on. The costliest tasks get the
    highest priority. SweepError when a task fails, the scheduler does not answer within
    ``wait`` seconds, or no worker is there for ``wait`` seconds. Futures are cancelled and a
    cluster started here is closed on the way out, however it goes."""
    check_dask()
    from distributed import Client, LocalCluster

    cluster: Any = None
    client: Any = None
    futures: list[Any] = []
    ended = False
    try:
        if scheduler is None:
            n = workers or os.cpu_count() or 1
            say(f"starting a Dask LocalCluster of {plural(n, 'worker process')}")
            # Its worker processes log only what is critical, to /dev/null: a Ctrl-C reaches
            # them too, while they start or later, and each would print its interruption and
            # lost connections as tracebacks (a task's error comes back through its future).
            # Started whole, a Ctrl-C meanwhile acting once it is up: one cut short leaves a
            # cluster that distributed's exit hook fails to close.
            with signals_deferred(), _children_stderr(os.devnull):
                cluster = LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=logging.CRITICAL,
                )
                client = Client(cluster)
        else:
            address = scheduler_address(scheduler)
            _check_scheduler(address, wait)
            try:
                client = Client(address, timeout=f"{wait}s")
            except (OSError, TimeoutError) as e:
                raise SweepError(f"--scheduler {scheduler}: cannot connect ({e})") from None
        n_workers = _await_workers(client, wait)
        by_key = {}
        for task in sorted(tasks, key=lambda t: -t.cost):
            future = client.submit(train_task, task, pure=False, priority=int(task.cost))
            by_key[future.key] = task
            futures.append(future)
            on_start(task)
        for future in _as_completed(client, futures, wait):
            task = by_key[future.key]
            try:
                result = future.result()
            except Exception as e:
                raise SweepError(f"{type(e).__name__}: {e}", task) from None
            on_done(result)
        ended = True
        return n_workers
    finally:
        with contextlib.ExitStack() as quiet:
            if not ended:  # an error or an interrupt: the closing is expected, not news
                quiet.enter_context(_dask_silenced())
            _close(client, cluster, futures)


@contextlib.contextmanager
def _children_stderr(path: str) -> Iterator[None]:
    """Processes started in the block write their standard error to ``path`` (this process's
    own is back as it was after the block)."""
    import sys

    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(path, "w") as target:
            os.dup2(target.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _close(client: Any, cluster: Any, futures: list[Any]) -> None:
    with contextlib.suppress(Exception):
        if client is not None:
            if futures:
                client.cancel(futures)
            client.close(timeout=10)
    with contextlib.suppress(Exception):
        if cluster is not None:
            cluster.close(timeout=10)


@contextlib.contextmanager
def _dask_silenced() -> Iterator[None]:
    """Dask's loggers quiet (CommClosedError and its kin as connections close) for good: the
    process is ending, and its background threads may log after the block."""
    for name in _DASK_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    yield


def _check_scheduler(address: str, wait: float) -> None:
    """SweepError unless a Dask scheduler at ``address`` answers within ``wait`` seconds."""
    from distributed.comm.core import connect

    async def identity() -> Any:
        comm = await connect(address, timeout=wait)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    async def bounded() -> Any:
        return await asyncio.wait_for(identity(), wait)

    with _dask_silenced_while():
        try:
            reply = asyncio.run(bounded())
        except TimeoutError:
            raise SweepError(f"--scheduler {address}: no answer after {wait:g} s") from None
        except (OSError, ValueError) as e:
            raise SweepError(f"--scheduler {address}: cannot connect ({e})") from None
    if not (isinstance(reply, dict) and reply.get("type") == "Scheduler"):
        raise SweepError(f"--scheduler {address}: it answered, but not as a Dask scheduler")


@contextlib.contextmanager
def _dask_silenced_while() -> Iterator[None]:
    """Dask's loggers quiet within the block only (a probe that fails says so itself)."""
    loggers = [logging.getLogger(name) for name in _DASK_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _workers(client: Any, wait: float) -> int | None:
    """How many workers the scheduler has now; None if it did not answer within ``wait``."""
    try:
        return len(client.nthreads(callback_timeout=wait))
    except (OSError, TimeoutError):
        return None


def _await_workers(client: Any, wait: float) -> int:
    """The number of workers, once there is one; SweepError after ``wait`` seconds without."""
    deadline = time.monotonic() + wait
    while True:
        n = _workers(client, max(deadline - time.monotonic(), 0.1))
        if n:
            return n
        if time.monotonic() >= deadline:
            raise SweepError(_no_workers(n, wait))
        time.sleep(min(0.25, max(deadline - time.monotonic(), 0.0)))


def _no_workers(answered: int | None, wait: float) -> str:
    if answered is None:
        return f"the Dask scheduler did not answer for {wait:g} s"
    return f"no Dask workers after {wait:g} s"


def _as_completed(client: Any, futures: list[Any], wait: float) -> Iterator[Any]:
    """The futures as they finish, while watching the cluster: no worker (or no answer from
    the scheduler) for ``wait`` seconds is a SweepError saying so."""
    from distributed import wait as wait_for

    pending = set(futures)
    seen = time.monotonic()  # when the cluster last had a worker
    while pending:
        try:
            done, pending = wait_for(pending, timeout=1.0, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done = set()
        yield from (f for f in futures if f in done)
        if not pending:
            return
        n = _workers(client, min(wait, 5.0))
        if n:
            seen = time.monotonic()
        elif time.monotonic() - seen >= wait:
            lost = "the Dask scheduler stopped answering" if n is None else "no Dask workers"
            raise SweepError(f"{lost} for {wait:g} s with {plural(len(pending), 'task')} left")
