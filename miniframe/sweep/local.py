"""The local backend: a sweep's tasks on this machine's cores.

``jobs`` worker processes (spawned, one intra-op thread each) take the tasks one at a time,
longest first, and report every epoch as it ends, so the run history fills in while the sweep
trains. With one job the tasks train in this process instead.

The workers never outlive the sweep: whatever ends it (an error, Ctrl-C, SIGINT or SIGTERM to
this process alone) terminates them before :func:`run_local` returns, and a worker whose parent
disappears (SIGKILL) exits within a second. With the workers gone, multiprocessing's resource
tracker exits too.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from .task import EpochCallback, SweepTask, TaskResult, train_task


class SweepError(RuntimeError):
    """A task failed (its error, or its worker died): the message says what, ``task`` which."""

    def __init__(self, message: str, task: SweepTask | None = None) -> None:
        super().__init__(message)
        self.task = task


def _exit_with_parent(parent: int, poll_s: float = 0.25) -> None:
    """Exit this process as soon as its parent ``parent`` is gone (killed, it could not clean
    up). The parent passes its pid: should it die before this runs, os.getppid() would already
    name the process this one was handed to."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _worker(conn: Connection, parent: int) -> None:
    """A worker's life: tasks from ``conn`` until None; each epoch and each result sent back."""
    # Ctrl-C reaches the whole process group: the parent handles it and ends the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent(parent)
    import torch

    torch.set_num_threads(1)  # one core per worker; tiny matrices gain nothing from more
    try:
        while (task := conn.recv()) is not None:
            try:
                result = train_task(task, lambda i, records: conn.send(("epoch", i, records)))
                conn.send(("done", task.index, result))
            except Exception as e:  # sent to the parent, which reports it
                conn.send(("error", task.index, f"{type(e).__name__}: {e}"))
    except EOFError:  # the parent closed the pipe: nothing more to do
        pass
    finally:
        conn.close()


#: Signals that end a sweep; one that arrives while a worker is being started waits for it.
_ENDING = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP that arrive in the block act as it ends (the first of them,
    through the handler it had). Starting a spawned worker is two steps, the process and then
    its start-up data down a pipe: a Ctrl-C between them left a worker that printed
    ``EOFError: Ran out of input`` as a traceback. Outside the main thread it does nothing
    (only that thread may set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: arrived.append(signum)) for s in _ENDING}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if arrived:
            signal.raise_signal(arrived[0])  # now, through the handler it would have met


def stop_processes(procs: Sequence[BaseProcess], grace_s: float = 2.0) -> None:
    """Terminate (SIGTERM) the processes still alive, then kill any that outlive ``grace_s``."""
    for p in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + grace_s
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()


def run_local(
    tasks: Sequence[SweepTask],
    jobs: int,
    on_start: Callable[[SweepTask], None],
    on_epoch: EpochCallback,
    on_done: Callable[[TaskResult], None],
) -> None:
    """Train ``tasks`` on ``jobs`` processes (this one if 1), the costliest first (the sweep's
    wall time is its last task's end). SweepError if a task fails; all workers gone on return,
    however it returns."""
    queue = sorted(tasks, key=lambda t: -t.cost)
    if jobs <= 1:
        for task in queue:
            on_start(task)
            on_done(train_task(task, on_epoch))
        return
    ctx = multiprocessing.get_context("spawn")
    busy: dict[Connection, tuple[BaseProcess, SweepTask]] = {}
    procs: list[BaseProcess] = []
    try:
        for w in range(min(jobs, len(queue))):
            conn, child = ctx.Pipe(duplex=True)
            proc: BaseProcess = ctx.Process(
                target=_worker, args=(child, os.getpid()), name=f"sweep-worker-{w}"
            )
            proc.daemon = True  # multiprocessing ends it, should this process exit first
            with signals_deferred():  # never half-started, never started but not in procs
                proc.start()
                procs.append(proc)
            child.close()  # the worker holds the only other end: EOF if it dies
            task = queue.pop(0)
            conn.send(task)
            on_start(task)
            busy[conn] = (proc, task)
        while busy:
            for ready in wait(list(busy)):
                assert isinstance(ready, Connection)
                proc, task = busy[ready]
                try:
                    kind, index, payload = ready.recv()
                except (EOFError, OSError):  # the pipe closed or broke: the worker is gone
                    proc.join()
                    why = f"its worker died (exit code {proc.exitcode})"
                    raise SweepError(why, task) from None
                if kind == "epoch":
                    on_epoch(index, payload)
                    continue
                if kind == "error":
                    raise SweepError(payload, task)
                on_done(payload)
                if queue:
                    task = queue.pop(0)
                    ready.send(task)
                    on_start(task)
                    busy[ready] = (proc, task)
                else:
                    ready.send(None)
                    ready.close()
                    del busy[ready]
        for proc in procs:
            proc.join(5.0)
    finally:
        for conn in busy:
            conn.close()
        stop_processes(procs)
